"""Store offboarding, on the durable-workflow core (`workflow.core`): onboarding undone, once.

1. validate (one unit of work, no Twilio);
2. under the store's leases (the SMS onboarding's and the WhatsApp registration's: an
   offboarding never interleaves with either), claim: the store's `store_offboardings` row,
   naming everything the steps take down (numbers, SIDs), committed before Twilio is called;
3. steps, each recorded before the next: WhatsApp sender deleted → its dedicated number
   released (or kept) → the SMS number out of its Messaging Service → released (or kept) →
   offboarded. Every delete is safe to repeat (Twilio's 404 for what is gone counts as done).

A number is released only while the registry (`numbers`) says this store still claims it on
that channel, and its claim goes in the transaction that records the release, together with
the store's onboarding row: no store records a released number. A kept number stays claimed
by the store, so onboarding the store again with it adopts it, and a later offboarding with
`release_number` releases it. A crash between two steps leaves the row in progress: the same
request, or `sync` (`resume_offboardings`), finishes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from clienteling_setup import errors
from clienteling_setup.auth.actor import Actor
from clienteling_setup.db.base import utcnow
from clienteling_setup.ledger.costs import record_number_released
from clienteling_setup.numbers.models import SMS, WHATSAPP
from clienteling_setup.offboarding.models import IN_PROGRESS, OFFBOARDED, StoreOffboarding
from clienteling_setup.onboarding.service import SMS_ONBOARDING
from clienteling_setup.providers.messaging import (
    AccountCredentials,
    MessagingGateway,
    ProviderError,
)
from clienteling_setup.stores.service import delete_store, holds_anything
from clienteling_setup.unit_of_work import UnitOfWork, UnitsOfWork
from clienteling_setup.whatsapp.service import WHATSAPP_ONBOARDING, sender_id_of
from clienteling_setup.workflow.core import Run, resume_each, try_exclusive

T = TypeVar("T")

ALL = frozenset({SMS, WHATSAPP})
#: How long a request waits for the store's leases when no offboarding is under way (an
#: onboarding of the store holds them) before answering 409.
WAIT_SECONDS = 10.0

# Steps, in order, as recorded in `StoreOffboarding.steps`.
CLAIMED = "claimed"
SENDER = "whatsapp_sender"
WHATSAPP_NUMBER = "whatsapp_number"
MESSAGING_SERVICE = "messaging_service"
SMS_NUMBER = "sms_number"
FINISHED = "offboarded"


@dataclass(frozen=True)
class Plan:
    """A snapshot of the claimed row: what this offboarding takes down."""

    tenant_id: str
    store_id: str
    account: AccountCredentials
    actor: Actor
    reason: str
    release: bool
    phone_number: str | None
    number_sid: str | None
    messaging_service_sid: str | None
    sender_id: str | None
    sender_sid: str | None
    whatsapp_number: str | None
    whatsapp_number_sid: str | None
    done: frozenset[str]


class _StoreRuns:
    """The store's two leases held together: each step keeps both."""

    def __init__(self, runs: list[Run]) -> None:
        self._runs = runs

    def step(self, effect: Callable[[], T]) -> T:
        for run in self._runs:
            run.renew()
        return effect()


@contextmanager
def store_leases(uows: UnitsOfWork, tenant_id: str, store_id: str) -> Iterator[_StoreRuns | None]:
    """Both of the store's leases (SMS onboarding's, then WhatsApp's), or None while another
    request or worker holds either."""
    with ExitStack() as held:
        runs = []
        for workflow in (SMS_ONBOARDING, WHATSAPP_ONBOARDING):
            run = held.enter_context(
                try_exclusive(
                    uows, workflow.lease(tenant_id, store_id), lost=_lost(workflow.title, store_id)
                )
            )
            if run is None:
                yield None
                return
            runs.append(run)
        yield _StoreRuns(runs)


def _lost(title: str, store_id: str) -> errors.Conflict:
    return errors.Conflict(
        f"Store '{store_id}' was taken over by another request during its offboarding "
        f"({title} lease). Retry the same request in a few seconds."
    )


def offboard_store(
    uows: UnitsOfWork,
    gateway: MessagingGateway,
    tenant_id: str,
    store_id: str,
    channels: frozenset[str],
    *,
    release: bool,
    actor: Actor,
    reason: str = "offboarding",
) -> StoreOffboarding:
    """Offboard the store's `channels` (running the steps here), or answer the offboarding
    under way in another request (status in progress: the caller answers 202). `actor` and
    `reason` are what the ledger records with each number released."""
    with uows.of(tenant_id) as uow:
        uow.stores.require(store_id)
        account = uow.tenants.account(uow.tenants.require())
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        with store_leases(uows, tenant_id, store_id) as run:
            if run is not None:
                row = claim(
                    uows, tenant_id, store_id, channels, release=release, by=(actor, reason)
                )
                if row.status == OFFBOARDED:
                    return row
                return run_steps(uows, gateway, account, row, run)
        with uows.of(tenant_id) as uow:
            under_way = uow.offboardings.in_progress(store_id)
        if under_way is not None:
            return under_way
        if time.monotonic() >= deadline:
            raise SMS_ONBOARDING.busy(store_id)
        time.sleep(0.1)


def close_store(
    uows: UnitsOfWork,
    gateway: MessagingGateway,
    tenant_id: str,
    store_id: str,
    *,
    offboard: bool,
    actor: Actor,
) -> StoreOffboarding | None:
    """Delete the store from the directory; with `offboard`, offboard it first (both channels,
    releasing). Returns the offboarding when another request is still running it."""
    if offboard:
        with uows.of(tenant_id) as uow:
            uow.stores.require(store_id)
            busy = holds_anything(uow, store_id)
        if busy:
            row = offboard_store(
                uows, gateway, tenant_id, store_id, ALL, release=True, actor=actor, reason="closed"
            )
            if row.status != OFFBOARDED:
                return row
    delete_store(uows, tenant_id, store_id)
    return None


def claim(
    uows: UnitsOfWork,
    tenant_id: str,
    store_id: str,
    channels: frozenset[str],
    *,
    release: bool,
    by: tuple[Actor, str],
) -> StoreOffboarding:
    """Under the store's leases: the offboarding under way, else a new one claimed (committed)
    for what the store has on `channels`, else the finished one (the same answer again)."""
    with uows.of(tenant_id) as uow:
        current = uow.offboardings.get(store_id)
        if current is not None and current.status == IN_PROGRESS:
            if (frozenset(current.channels), current.release_number) != (channels, release):
                raise errors.Conflict(
                    f"Store '{store_id}' is being offboarded with channels "
                    f"{sorted(current.channels)} and release_number "
                    f"{str(current.release_number).lower()}. Repeat that request to finish it."
                )
            return current
        plan = take_down(uow, store_id, channels, release=release)
        if plan is None:
            if current is not None:
                return current
            raise errors.Conflict(
                f"Store '{store_id}' has nothing to offboard on {' and '.join(sorted(channels))}:"
                " it is not onboarded there and keeps no number."
            )
        row = current or uow.offboardings.add(StoreOffboarding(store_id=store_id))
        now = utcnow()
        fields: dict[str, Any] = {
            "channels": sorted(channels),
            "release_number": release,
            "actor": by[0].subject[:255],
            "request_id": by[0].request_id,
            "reason": by[1],
            "status": IN_PROGRESS,
            "phone_number": None,
            "number_sid": None,
            "messaging_service_sid": None,
            "sender_id": None,
            "sender_sid": None,
            "whatsapp_number": None,
            "whatsapp_number_sid": None,
            "last_error": None,
            "finished_at": None,
            "created_at": now,
            "updated_at": now,
            **plan,
            "steps": [_entry(CLAIMED, now)],
        }
        for key, value in fields.items():
            setattr(row, key, value)
        uow.flush()
        return row


def take_down(
    uow: UnitOfWork, store_id: str, channels: frozenset[str], *, release: bool
) -> dict[str, Any] | None:
    """What offboarding `channels` takes down now: the sender and its dedicated number, the
    SMS number and its Messaging Service, or a number an earlier offboarding kept (only to
    release it). None when there is nothing."""
    sender = uow.senders.get(store_id)
    if SMS in channels and WHATSAPP not in channels and sender is not None:
        raise errors.Conflict(
            f"Store '{store_id}' is registered with WhatsApp, which works only on top of its "
            "SMS onboarding. Offboard both channels (omit channels), or WhatsApp first."
        )
    kept = {claim.channel: claim.phone_number for claim in uow.numbers.of_store(store_id)}
    plan: dict[str, Any] = {}
    if WHATSAPP in channels:
        if sender is not None:
            plan.update(sender_id=sender_id_of(sender.phone_number), sender_sid=sender.sender_sid)
            if kept.get(WHATSAPP) == sender.phone_number:
                plan.update(whatsapp_number=sender.phone_number)
                plan.update(whatsapp_number_sid=sender.number_sid)
        elif release and WHATSAPP in kept:
            plan.update(whatsapp_number=kept[WHATSAPP])
    if SMS in channels:
        onboarding = uow.onboardings.get(store_id)
        if onboarding is not None:
            plan.update(
                phone_number=onboarding.phone_number,
                number_sid=onboarding.number_sid,
                messaging_service_sid=onboarding.messaging_service_sid,
            )
        elif release and SMS in kept:
            plan.update(phone_number=kept[SMS])
    return plan or None


def _entry(step: str, at: Any = None, **detail: str) -> dict[str, str]:
    return {"step": step, "at": (at or utcnow()).isoformat(), **detail}


def plan_of(row: StoreOffboarding, account: AccountCredentials) -> Plan:
    return Plan(
        tenant_id=row.tenant_id,
        store_id=row.store_id,
        account=account,
        actor=Actor(row.actor, row.request_id),
        reason=row.reason,
        release=row.release_number,
        phone_number=row.phone_number,
        number_sid=row.number_sid,
        messaging_service_sid=row.messaging_service_sid,
        sender_id=row.sender_id,
        sender_sid=row.sender_sid,
        whatsapp_number=row.whatsapp_number,
        whatsapp_number_sid=row.whatsapp_number_sid,
        done=frozenset(entry["step"] for entry in row.steps),
    )


def run_steps(
    uows: UnitsOfWork,
    gateway: MessagingGateway,
    account: AccountCredentials,
    row: StoreOffboarding,
    run: _StoreRuns,
) -> StoreOffboarding:
    plan = plan_of(row, account)
    try:
        if plan.sender_id is not None and SENDER not in plan.done:
            sid = run.step(lambda: _delete_sender(gateway, plan))
            row = _record(uows, plan, _entry(SENDER, outcome="deleted", sid=sid or ""))
        if plan.whatsapp_number is not None and WHATSAPP_NUMBER not in plan.done:
            number, number_sid = plan.whatsapp_number, plan.whatsapp_number_sid
            row = _release_or_keep(uows, gateway, run, plan, WHATSAPP, number, number_sid)
        number_sid = plan.number_sid
        if plan.phone_number is not None and MESSAGING_SERVICE not in plan.done:
            if number_sid is None:
                number_sid = run.step(lambda: _owned_sid(gateway, plan, plan.phone_number))
            service = plan.messaging_service_sid
            if service is not None and number_sid is not None:
                sid = number_sid
                run.step(
                    lambda: gateway.remove_number_from_messaging_service(account, service, sid)
                )
            entry = _entry(MESSAGING_SERVICE, outcome="removed", sid=service or "")
            row = _record(uows, plan, entry, number_sid=number_sid)
        if plan.phone_number is not None and SMS_NUMBER not in plan.done:
            number_sid = row.number_sid
            row = _release_or_keep(uows, gateway, run, plan, SMS, plan.phone_number, number_sid)
        return _record(
            uows, plan, _entry(FINISHED), status=OFFBOARDED, finished_at=utcnow(), last_error=None
        )
    except ProviderError as exc:
        _record_failure(uows, plan, exc)
        raise errors.from_provider(exc, f"Offboarding store '{plan.store_id}'") from exc


def _delete_sender(gateway: MessagingGateway, plan: Plan) -> str | None:
    """Delete the sender; one that was never recorded (its registration crashed) is looked up
    by its number first."""
    sid = plan.sender_sid
    if sid is None:
        senders = gateway.list_senders(plan.account)
        sid = next((s.sid for s in senders if s.sender_id == plan.sender_id), None)
    if sid is not None:
        gateway.delete_sender(plan.account, sid)
    return sid


def _owned_sid(gateway: MessagingGateway, plan: Plan, phone_number: str | None) -> str | None:
    assert phone_number is not None
    owned = gateway.find_owned_number(plan.account, phone_number)
    return owned.sid if owned is not None else None


def _release_or_keep(
    uows: UnitsOfWork,
    gateway: MessagingGateway,
    run: _StoreRuns,
    plan: Plan,
    channel: str,
    phone_number: str,
    number_sid: str | None,
) -> StoreOffboarding:
    """Release the number while the store still claims it on `channel` (or keep it, claimed,
    as asked), then record that with its claim and row gone."""
    step = SMS_NUMBER if channel == SMS else WHATSAPP_NUMBER
    with uows.of(plan.tenant_id) as uow:
        holder = uow.numbers.holder(phone_number)
        mine = holder is not None and (holder.store_id, holder.channel) == (plan.store_id, channel)
        elsewhere = holder is not None and not mine
    if not plan.release or not mine:
        # Never released: a number another store or channel claims now, or none claims.
        outcome = "kept" if mine else "claimed_elsewhere" if elsewhere else "unclaimed"
        return _record(
            uows, plan, _entry(step, outcome=outcome, phone_number=phone_number), forget=channel
        )
    if number_sid is None:
        number_sid = run.step(lambda: _owned_sid(gateway, plan, phone_number))
    if number_sid is not None:
        sid = number_sid
        run.step(lambda: gateway.release_number(plan.account, sid))
    outcome = "released" if number_sid is not None else "not_owned"
    entry = _entry(step, outcome=outcome, phone_number=phone_number, sid=number_sid or "")
    return _record(uows, plan, entry, forget=channel, release=(phone_number, channel))


def _record(
    uows: UnitsOfWork,
    plan: Plan,
    entry: dict[str, str],
    *,
    forget: str | None = None,
    release: tuple[str, str] | None = None,
    **changes: object,
) -> StoreOffboarding:
    """Record a step in a unit of work of its own: append it, drop what it took down (the
    store's sender row after the sender step, its onboarding row after the SMS number's, a
    released number's claim), after checking the offboarding is still this one."""
    with uows.of(plan.tenant_id) as uow:
        row = uow.offboardings.get(plan.store_id)
        if row is None or row.status != IN_PROGRESS:
            raise errors.Conflict(
                f"The offboarding of store '{plan.store_id}' changed meanwhile. Retry the request."
            )
        if entry["step"] == SENDER:
            sender = uow.senders.get(plan.store_id)
            if sender is not None:
                uow.senders.delete(sender)
        if forget == SMS:
            onboarding = uow.onboardings.get(plan.store_id)
            if onboarding is not None:
                uow.onboardings.delete(onboarding)
        if release is not None:
            uow.numbers.release(release[0], plan.store_id, release[1])
            if entry.get("sid"):  # the ledger's entry goes with the release's record
                record_number_released(
                    uow,
                    plan.actor,
                    account_sid=plan.account.account_sid,
                    number_sid=entry["sid"],
                    phone_number=release[0],
                    store_id=plan.store_id,
                    reason=plan.reason,
                )
        for key, value in changes.items():
            setattr(row, key, value)
        row.steps = [*row.steps, entry]
        row.updated_at = utcnow()
        return row


def _record_failure(uows: UnitsOfWork, plan: Plan, exc: ProviderError) -> None:
    with uows.of(plan.tenant_id) as uow:
        row = uow.offboardings.get(plan.store_id)
        if row is not None and row.status == IN_PROGRESS:
            row.last_error = f"{type(exc).__name__}: {exc.message}"[:1000]


def resume_offboardings(uows: UnitsOfWork, gateway: MessagingGateway, tenant_id: str) -> int:
    """For `sync`: finish every offboarding a crash or a failure left under way (what it
    releases was confirmed by its request). Returns how many finished."""
    with uows.of(tenant_id) as uow:
        account = uow.tenants.enabled_account()
        if account is None:
            return 0
        stores = [row.store_id for row in uow.offboardings.unfinished()]

    def finish(store_id: str, run: _StoreRuns) -> bool:
        with uows.of(tenant_id) as uow:
            row = uow.offboardings.in_progress(store_id)
        if row is not None:
            run_steps(uows, gateway, account, row, run)
        return row is not None

    return resume_each(stores, lambda store_id: store_leases(uows, tenant_id, store_id), finish)
