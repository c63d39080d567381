"""Sender groups: stores sharing one Messaging Service (and WhatsApp business account)."""

from __future__ import annotations

from clienteling_setup import errors
from clienteling_setup.db.base import utcnow
from clienteling_setup.db.session import transaction
from clienteling_setup.onboarding import repository
from clienteling_setup.onboarding.models import SenderGroup
from clienteling_setup.onboarding.schemas import SenderGroupWrite
from clienteling_setup.providers.messaging import ProviderError
from clienteling_setup.runtime import Runtime
from clienteling_setup.tenants.service import require_tenant


def group_service_name(tenant_id: str, group_id: str) -> str:
    return f"clienteling:{tenant_id}:group:{group_id}"[:64]


def put_group(
    runtime: Runtime, tenant_id: str, group_id: str, body: SenderGroupWrite
) -> tuple[SenderGroup, bool]:
    with transaction(runtime.sessions) as session:
        tenant = require_tenant(session, tenant_id)
        group = repository.get_group(session, tenant_id, group_id)
        if group is not None:
            group.name = body.name
            group.waba_id = body.waba_id
            group.updated_at = utcnow()
            return group, False
        account = runtime.credentials(tenant.subaccount_sid, tenant.auth_token_encrypted)
    # The group's Messaging Service is found by name first, so a retry adopts it.
    name = group_service_name(tenant_id, group_id)
    try:
        service = runtime.gateway.find_messaging_service(account, name)
        if service is None:
            service = runtime.gateway.create_messaging_service(account, name)
    except ProviderError as exc:
        raise errors.from_provider(
            exc, f"Creating the Messaging Service of group '{group_id}'"
        ) from exc
    with transaction(runtime.sessions) as session:
        group = repository.get_group(session, tenant_id, group_id)
        if group is not None:  # a concurrent request created it meanwhile
            return group, False
        group = SenderGroup(
            tenant_id=tenant_id,
            id=group_id,
            name=body.name,
            waba_id=body.waba_id,
            messaging_service_sid=service.sid,
        )
        session.add(group)
        return group, True
