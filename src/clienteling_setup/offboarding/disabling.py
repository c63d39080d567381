"""Disabling a retailer (`DELETE /clienteling/configuration`): everything it has in Twilio
taken down, then its subaccount closed, on the durable-workflow core.

1. validate: the body repeats the tenant's name;
2. claim: the `tenant_disablings` row is committed before anything is taken down; from then on
   nothing new starts for the tenant (`TenantRepository.require_open`);
3. stages, run in the background under the tenant's `disable:` lease, each recorded as it ends
   (`stage`) with the progress the status shows: every store offboarded (both channels,
   releasing; each under the store's own leases, like `POST .../offboard`) → every number the
   subaccount still owns released → the sender groups' Messaging Services deleted → the
   tenant's Messaging Service → the voice application → the subaccount closed, and with that
   the configuration forgotten (enabling again starts afresh, with a new subaccount).

A crash or a Twilio failure leaves the row in progress: a repeated DELETE or `sync`
(`resume_disabling`) resumes from the last stage recorded, and every stage is safe to repeat.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from clienteling_setup import errors
from clienteling_setup.auth.actor import Actor
from clienteling_setup.db.base import utcnow
from clienteling_setup.ledger.costs import record_number_released
from clienteling_setup.offboarding.models import OFFBOARDED
from clienteling_setup.offboarding.service import ALL, claim, run_steps, store_leases
from clienteling_setup.onboarding.groups import group_service_name
from clienteling_setup.providers.messaging import (
    AccountCredentials,
    MessagingGateway,
    ProviderError,
)
from clienteling_setup.tenants.models import TenantDisabling
from clienteling_setup.unit_of_work import UnitOfWork, UnitsOfWork
from clienteling_setup.workflow.core import Run, try_exclusive

log = logging.getLogger("clienteling_setup.disabling")

IN_PROGRESS = "in_progress"
DISABLED = "disabled"
REASON = "retailer_disabled"
#: Passes over the stores while some are busy (an onboarding holds their lease) before the
#: run gives up and leaves the rest to the next DELETE or sync.
STORE_PASSES = 20
PASS_PAUSE_SECONDS = 0.5

STAGES = (
    "stores_offboarded",
    "numbers_released",
    "groups_deleted",
    "messaging_service_deleted",
    "voice_application_deleted",
    "subaccount_closed",
)

#: Starts the work in the background (a thread, by default); tests may run it inline.
Background = Callable[[Callable[[], None]], None]


def in_a_thread(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name="disable-tenant", daemon=True).start()


@dataclass(frozen=True)
class Teardown:
    tenant_id: str
    account: AccountCredentials
    subaccount_sid: str
    messaging_service_sid: str
    voice_app_sid: str
    actor: Actor


def disable(
    uows: UnitsOfWork,
    gateway: MessagingGateway,
    tenant_id: str,
    confirm_tenant: str | None,
    *,
    actor: Actor,
    background: Background = in_a_thread,
) -> TenantDisabling:
    """Claim the disabling (or find it) and start it in the background. The answer: under way
    (202), or finished (200: a second DELETE is harmless)."""
    if confirm_tenant != tenant_id:
        what = "is required" if confirm_tenant is None else "must repeat the tenant's name"
        raise errors.BadRequest(
            f'\'confirm_tenant\' {what}: send {{"confirm_tenant": "{tenant_id}"}} to '
            "confirm that every number is released and the tenant's Twilio account closed."
        )
    with uows.of(tenant_id) as uow:
        tenant = uow.tenants.get()
        row = uow.tenants.disabling()
        if tenant is None:
            if row is not None:
                return row  # finished: the same answer again
            raise errors.NotFound(
                f"Clienteling is not configured for tenant '{tenant_id}'; there is nothing "
                "to disable."
            )
        if row is None or row.status != IN_PROGRESS:
            if row is not None:
                uow.tenants.forget_disabling()
                uow.flush()
            row = uow.tenants.add_disabling(
                TenantDisabling(
                    subaccount_sid=tenant.subaccount_sid,
                    stores_total=len(_stores_holding(uow)),
                    actor=actor.subject[:255],
                    request_id=actor.request_id,
                )
            )

    def work() -> None:
        resume_disabling(uows, gateway, tenant_id)

    background(work)
    return row


def _stores_holding(uow: UnitOfWork) -> list[str]:
    """Stores with an onboarding, a sender, a claimed number or an offboarding under way."""
    held = set(uow.onboardings.store_ids())
    held |= {row.store_id for row in uow.senders.all()}
    held |= set(uow.numbers.stores_holding())
    held |= {row.store_id for row in uow.offboardings.unfinished()}
    return sorted(held)


def resume_disabling(uows: UnitsOfWork, gateway: MessagingGateway, tenant_id: str) -> bool:
    """Run (or resume) the tenant's disabling if one is under way; True if there is one (then
    reconciliation leaves the tenant alone). Another worker holding it is left to it."""
    with uows.of(tenant_id) as uow:
        row = uow.tenants.disabling()
        tenant = uow.tenants.get()
        if row is None or row.status != IN_PROGRESS or tenant is None:
            return False
        plan = Teardown(
            tenant_id=tenant_id,
            account=uow.tenants.account(tenant),
            subaccount_sid=tenant.subaccount_sid,
            messaging_service_sid=tenant.messaging_service_sid,
            voice_app_sid=tenant.voice_app_sid,
            actor=Actor(row.actor or "clienteling-setup", row.request_id),
        )
        done = STAGES.index(row.stage) + 1 if row.stage in STAGES else 0
    lost = errors.Conflict(f"The disabling of tenant '{tenant_id}' was taken over.")
    with try_exclusive(uows, f"disable:{tenant_id}", lost=lost) as run:
        if run is None:
            return True
        try:
            for stage in STAGES[done:]:
                _STAGE_WORK[stage](uows, gateway, plan, run)
                _progress(uows, tenant_id, stage=stage, last_error=None)
        except (ProviderError, errors.AppError) as exc:
            log.warning("disabling stopped", extra={"tenant": tenant_id, "error": exc.message})
            _progress(uows, tenant_id, last_error=f"{type(exc).__name__}: {exc.message}"[:1000])
    return True


def _progress(uows: UnitsOfWork, tenant_id: str, **changes: object) -> None:
    with uows.of(tenant_id) as uow:
        row = uow.tenants.disabling()
        if row is None or row.status != IN_PROGRESS:
            return
        for key, value in changes.items():
            setattr(row, key, value)
        row.updated_at = utcnow()


def _count(uows: UnitsOfWork, tenant_id: str, *, stores: int = 0, numbers: int = 0) -> None:
    with uows.of(tenant_id) as uow:
        row = uow.tenants.disabling()
        if row is not None:
            row.stores_offboarded += stores
            row.numbers_released += numbers
            row.updated_at = utcnow()


# -- the stages ---------------------------------------------------------------------------------


def _offboard_stores(
    uows: UnitsOfWork, gateway: MessagingGateway, plan: Teardown, run: Run
) -> None:
    """Every store that holds anything, offboarded on both channels, releasing. A store whose
    lease another request holds (an onboarding finishing) is retried on the next pass."""
    for _ in range(STORE_PASSES):
        with uows.of(plan.tenant_id) as uow:
            stores = _stores_holding(uow)
        if not stores:
            return
        busy = [s for s in stores if not _offboard_one(uows, gateway, plan, run, s)]
        if busy:
            time.sleep(PASS_PAUSE_SECONDS)
    raise errors.Conflict(
        "Some stores stayed busy (another request kept working on them); the disabling "
        "resumes with the next DELETE /clienteling/configuration or reconciliation."
    )


def _offboard_one(
    uows: UnitsOfWork, gateway: MessagingGateway, plan: Teardown, run: Run, store_id: str
) -> bool:
    """Finish the store's offboarding under way (whatever it was asked to do), then offboard
    what it still holds, releasing. False when the store's leases are held elsewhere."""
    with store_leases(uows, plan.tenant_id, store_id) as runs:
        if runs is None:
            return False
        run.renew()
        with uows.of(plan.tenant_id) as uow:
            under_way = uow.offboardings.in_progress(store_id)
        if under_way is not None:
            run_steps(uows, gateway, plan.account, under_way, runs)
        try:
            row = claim(uows, plan.tenant_id, store_id, ALL, release=True, by=(plan.actor, REASON))
        except errors.Conflict:
            return True  # nothing left to offboard
        if row.status != OFFBOARDED:
            row = run_steps(uows, gateway, plan.account, row, runs)
        released = sum(1 for entry in row.steps if entry.get("outcome") == "released")
        _count(uows, plan.tenant_id, stores=1, numbers=released)
        return True


def _release_numbers(
    uows: UnitsOfWork, gateway: MessagingGateway, plan: Teardown, run: Run
) -> None:
    """Every number the subaccount still owns (none claims it: bought by hand, or left by an
    abandoned attempt) is released too: closing the account would, without a ledger entry."""
    for number in run.step(lambda: gateway.list_owned_numbers(plan.account)):
        sid = number.sid
        run.step(lambda: gateway.release_number(plan.account, sid))  # noqa: B023 - runs now
        with uows.of(plan.tenant_id) as uow:
            record_number_released(
                uow,
                plan.actor,
                account_sid=plan.subaccount_sid,
                number_sid=number.sid,
                phone_number=number.phone_number,
                store_id=None,
                reason=REASON,
            )
        _count(uows, plan.tenant_id, numbers=1)


def _delete_groups(uows: UnitsOfWork, gateway: MessagingGateway, plan: Teardown, run: Run) -> None:
    """Each sender group's Messaging Service (looked up by name for a group whose creation
    never recorded one), then the group."""
    with uows.of(plan.tenant_id) as uow:
        groups = [(g.id, g.messaging_service_sid) for g in uow.groups.all()]
    for group_id, service_sid in groups:
        sid = service_sid or _unrecorded_service(gateway, plan, run, group_id)
        if sid is not None:
            service = sid
            run.step(lambda: gateway.delete_messaging_service(plan.account, service))  # noqa: B023
        with uows.of(plan.tenant_id) as uow:
            group = uow.groups.get(group_id)
            if group is not None:
                uow.groups.delete(group)


def _unrecorded_service(
    gateway: MessagingGateway, plan: Teardown, run: Run, group_id: str
) -> str | None:
    name = group_service_name(plan.tenant_id, group_id)
    found = run.step(lambda: gateway.find_messaging_service(plan.account, name))
    return found.sid if found is not None else None


def _delete_messaging_service(
    uows: UnitsOfWork, gateway: MessagingGateway, plan: Teardown, run: Run
) -> None:
    run.step(lambda: gateway.delete_messaging_service(plan.account, plan.messaging_service_sid))


def _delete_voice_application(
    uows: UnitsOfWork, gateway: MessagingGateway, plan: Teardown, run: Run
) -> None:
    run.step(lambda: gateway.delete_application(plan.account, plan.voice_app_sid))


def _close_subaccount(
    uows: UnitsOfWork, gateway: MessagingGateway, plan: Teardown, run: Run
) -> None:
    """Close the subaccount, then forget the configuration and what the closed account held
    (bundles, trust products); the directory and the opt-in template stay."""
    run.step(lambda: gateway.close_subaccount(plan.subaccount_sid))
    with uows.of(plan.tenant_id) as uow:  # one transaction: never a configuration half-gone
        uow.compliance.forget_all()
        tenant = uow.tenants.get()
        if tenant is not None:
            uow.tenants.forget(tenant)
        row = uow.tenants.disabling()
        if row is not None:
            row.stage = STAGES[-1]
            row.status = DISABLED
            row.finished_at = row.updated_at = utcnow()
            row.last_error = None


_STAGE_WORK: dict[str, Callable[[UnitsOfWork, MessagingGateway, Teardown, Run], None]] = {
    "stores_offboarded": _offboard_stores,
    "numbers_released": _release_numbers,
    "groups_deleted": _delete_groups,
    "messaging_service_deleted": _delete_messaging_service,
    "voice_application_deleted": _delete_voice_application,
    "subaccount_closed": _close_subaccount,
}
