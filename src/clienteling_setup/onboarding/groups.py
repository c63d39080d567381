"""Sender groups: stores sharing one Messaging Service (and WhatsApp business account).

Creating a group is a workflow on the core (`workflow.core`): under the group's lease, the
group's row is claimed (committed with no Messaging Service yet), then the Messaging Service is
adopted by its name or created once, then recorded. Concurrent PUTs of one group wait for the
first and answer with its result; a crash after the create is adopted by the retry.
"""

from __future__ import annotations

import hashlib

from clienteling_setup import errors
from clienteling_setup.db.base import utcnow
from clienteling_setup.onboarding.models import SenderGroup
from clienteling_setup.onboarding.schemas import SenderGroupWrite
from clienteling_setup.providers.messaging import (
    AccountCredentials,
    MessagingGateway,
    ProviderError,
)
from clienteling_setup.unit_of_work import UnitOfWork, UnitsOfWork
from clienteling_setup.workflow.core import adopt_or_create, claim, exclusive

#: How long a PUT waits for a concurrent PUT of the same group before answering 409.
WAIT_SECONDS = 30.0
NAME_LIMIT = 64  # Twilio's friendly names


def group_service_name(tenant_id: str, group_id: str) -> str:
    """The group's Messaging Service name, unique per group: a name over Twilio's 64
    characters keeps a readable head and ends in a digest of the whole tenant and group id,
    so two long ids sharing a prefix never share a Messaging Service."""
    name = f"clienteling:{tenant_id}:group:{group_id}"
    if len(name) <= NAME_LIMIT:
        return name
    digest = hashlib.sha256(f"{tenant_id}\0{group_id}".encode()).hexdigest()[:20]
    return f"{name[: NAME_LIMIT - len(digest) - 1]}~{digest}"


def get_group(uows: UnitsOfWork, tenant_id: str, group_id: str) -> SenderGroup:
    with uows.of(tenant_id) as uow:
        group = uow.groups.get(group_id)
    if group is None or group.messaging_service_sid is None:
        raise errors.NotFound(
            f"Sender group '{group_id}' does not exist. Create it with "
            f"PUT /clienteling/sender-groups/{group_id}."
        )
    return group


def list_groups(uows: UnitsOfWork, tenant_id: str) -> list[SenderGroup]:
    with uows.of(tenant_id) as uow:
        return [g for g in uow.groups.all() if g.messaging_service_sid is not None]


def put_group(
    uows: UnitsOfWork,
    gateway: MessagingGateway,
    tenant_id: str,
    group_id: str,
    body: SenderGroupWrite,
) -> tuple[SenderGroup, bool]:
    """The group and whether this request created it (201) or updated it (200)."""
    updated = _update_if_created(uows, tenant_id, group_id, body, require_tenant=True)
    if updated is not None:
        return updated, False
    busy = errors.Conflict(
        f"Sender group '{group_id}' is being created by another request. Retry in a few seconds."
    )
    lease = f"group:{tenant_id}:{group_id}"
    with exclusive(uows, lease, busy=busy, lost=busy, wait=WAIT_SECONDS) as run:
        # A request that held the lease before this one may have finished the group.
        updated = _update_if_created(uows, tenant_id, group_id, body)
        if updated is not None:
            return updated, False

        def write(uow: UnitOfWork) -> AccountCredentials:
            if uow.groups.get(group_id) is None:
                uow.groups.add(SenderGroup(id=group_id, name=body.name, waba_id=body.waba_id))
            return uow.tenants.account(uow.tenants.require())

        account = claim(uows, tenant_id, write, lambda _uow: busy)
        name = group_service_name(tenant_id, group_id)
        try:
            service = run.step(
                lambda: adopt_or_create(
                    lambda: gateway.find_messaging_service(account, name),
                    lambda: gateway.create_messaging_service(account, name),
                )
            )
        except ProviderError as exc:
            raise errors.from_provider(
                exc, f"Creating the Messaging Service of group '{group_id}'"
            ) from exc
        with uows.of(tenant_id) as uow:
            group = uow.groups.get(group_id)
            assert group is not None  # claimed above; only this lease holder writes it
            group.messaging_service_sid = service.sid
            group.name = body.name
            group.waba_id = body.waba_id
            group.updated_at = utcnow()
            return group, True


def _update_if_created(
    uows: UnitsOfWork,
    tenant_id: str,
    group_id: str,
    body: SenderGroupWrite,
    *,
    require_tenant: bool = False,
) -> SenderGroup | None:
    with uows.of(tenant_id) as uow:
        if require_tenant:
            uow.tenants.require_open()
        group = uow.groups.get(group_id)
        if group is None or group.messaging_service_sid is None:
            return None
        group.name = body.name
        group.waba_id = body.waba_id
        group.updated_at = utcnow()
        return group
