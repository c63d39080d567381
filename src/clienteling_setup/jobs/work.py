"""One store of a job: onboarded through the same workflow as a single onboarding request.

The job only decides what a person would send (a number near the store, the country's one
fitting bundle and address) and calls `onboarding.service.onboard_store` with it; claims,
leases, adopting an earlier attempt's purchase and releasing a refused number all stay there.
A store the workflow had started (this job's attempt before a crash, or a single request) is
resumed with the number its record holds, never with a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from clienteling_setup import errors
from clienteling_setup.auth.actor import Actor
from clienteling_setup.cache import TTLCache
from clienteling_setup.compliance.lists import TenantLists
from clienteling_setup.jobs.models import (
    ALREADY_ONBOARDED,
    FAILED,
    NOTHING_TO_OFFBOARD,
    OFFBOARD,
    OFFBOARDED,
    ONBOARD,
    ONBOARDED,
)
from clienteling_setup.jobs.plan import pick_number, plan_country
from clienteling_setup.numbers.models import SMS, WHATSAPP
from clienteling_setup.offboarding.models import OFFBOARDED as OFFBOARDING_DONE
from clienteling_setup.offboarding.models import StoreOffboarding
from clienteling_setup.offboarding.service import offboard_store, take_down
from clienteling_setup.onboarding.models import StoreOnboarding
from clienteling_setup.onboarding.schemas import OnboardStoreRequest
from clienteling_setup.onboarding.service import onboard_store
from clienteling_setup.providers.messaging import MessagingGateway
from clienteling_setup.providers.storage import ObjectStorage
from clienteling_setup.unit_of_work import UnitsOfWork
from clienteling_setup.whatsapp.schemas import WhatsAppOnboardRequest
from clienteling_setup.whatsapp.service import WhatsAppPorts, onboard_whatsapp

#: Numbers one store tries in a row when the one picked is taken meanwhile (another store of
#: the tenant claimed it, or Twilio sold it elsewhere).
NUMBER_TRIES = 5
#: Seconds before retrying a store another request works on, or after a Twilio failure.
BUSY_RETRY_SECONDS = 2.0
FAILURE_RETRY_SECONDS = 5.0


class JobPorts(Protocol):
    """What the job workers work with (the runtime built by the composition root has them)."""

    @property
    def uows(self) -> UnitsOfWork: ...
    @property
    def gateway(self) -> MessagingGateway: ...
    @property
    def list_cache(self) -> TTLCache: ...
    @property
    def storage(self) -> ObjectStorage: ...
    @property
    def public_base_url(self) -> str: ...


@dataclass(frozen=True)
class Finished:
    """The store is done with: `outcome` (onboarded, already_onboarded, failed)."""

    outcome: str
    phone_number: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class RetryLater:
    """Not now: Twilio throttled us or failed, or another request holds the store."""

    message: str
    delay: float
    throttled: bool = False


Result = Finished | RetryLater


@dataclass(frozen=True)
class StoreTask:
    tenant_id: str
    job_id: str
    store_id: str
    enable: bool
    #: The number an earlier attempt of this job chose for the store, if any.
    chosen_number: str | None
    #: Who asked for the job: the ledger names them for the store's purchase or release.
    actor: Actor
    operation: str = ONBOARD
    #: An offboarding's options.
    channels: frozenset[str] = frozenset()
    release: bool = True
    #: WhatsApp jobs: the account to link, else the store's sender group's.
    channel: str = SMS
    waba_id: str | None = None


def onboard_job_store(
    ports: JobPorts, task: StoreTask, record_number: Callable[[str], None]
) -> Result:
    """Onboard (or offboard) one store of a job; `record_number` keeps the number chosen on
    the job's item before the onboarding that may buy it starts."""
    try:
        if task.operation == OFFBOARD:
            return _offboard(ports, task)
        if task.channel == WHATSAPP:
            return _onboard_whatsapp(ports, task, record_number)
        return _onboard(ports, task, record_number)
    except errors.UpstreamUnavailable as exc:
        retry_after = float(exc.headers.get("Retry-After", FAILURE_RETRY_SECONDS))
        return RetryLater(exc.message, retry_after, throttled=True)
    except errors.UpstreamFailed as exc:
        return RetryLater(exc.message, FAILURE_RETRY_SECONDS)
    except errors.AppError as exc:
        return Finished(FAILED, message=exc.message)


def _onboard(ports: JobPorts, task: StoreTask, record_number: Callable[[str], None]) -> Result:
    uows = ports.uows
    with uows.of(task.tenant_id) as uow:
        store = uow.stores.get(task.store_id)
        existing = uow.onboardings.get(task.store_id)
    if store is None:
        return Finished(
            FAILED, message=f"Store '{task.store_id}' is no longer in the store directory."
        )
    if existing is not None and existing.status == "onboarded":
        return _found_onboarded(task, existing)
    if existing is not None:
        resumed = _attempt(ports, task, _resume_request(existing), record_number)
        if isinstance(resumed, _NumberLost):  # its claim was released: pick anew next time
            return RetryLater(f"{existing.phone_number} was taken meanwhile.", 0.0)
        return resumed
    lists = TenantLists(uows, ports.gateway, ports.list_cache, task.tenant_id)
    # The country's plan is the same for each of its stores: kept as long as the lists it
    # comes from (and dropped with them); a problem is worked out again, naming this store.
    plan = ports.list_cache.get_or_load(
        (task.tenant_id, "job-plan", store.country_code),
        lambda: plan_country(lists, store.country_code, task.store_id),
    )
    if plan.problem is not None:
        plan = plan_country(lists, store.country_code, task.store_id)
    if plan.problem is not None:
        return Finished(FAILED, message=plan.problem)
    lost: set[str] = set()
    for _ in range(NUMBER_TRIES):
        number = pick_number(lists, task.store_id, lost)
        if number is None:
            return Finished(
                FAILED,
                message=f"Twilio offers no {plan.number_type} number in {plan.country} near "
                f"store '{task.store_id}' now. Try again later, or onboard the store alone "
                "with a number of your choice.",
            )
        request = OnboardStoreRequest(
            phone_number=number, bundle_sid=plan.bundle_sid, address_sid=plan.address_sid
        )
        result = _attempt(ports, task, request, record_number)
        if not isinstance(result, _NumberLost):
            return result
        lost.add(number)
    return RetryLater(
        f"The {NUMBER_TRIES} numbers picked for store '{task.store_id}' were all taken "
        "meanwhile; it will pick again.",
        BUSY_RETRY_SECONDS,
    )


@dataclass(frozen=True)
class _NumberLost:
    """The number went to someone else first: pick another."""


def _attempt(
    ports: JobPorts,
    task: StoreTask,
    request: OnboardStoreRequest,
    record_number: Callable[[str], None],
) -> Result | _NumberLost:
    record_number(request.phone_number)
    try:
        row, _ = onboard_store(
            ports.uows,
            ports.gateway,
            task.tenant_id,
            task.store_id,
            request,
            enable=task.enable,
            actor=task.actor,
        )
    except errors.NumberNoLongerAvailable:
        return _NumberLost()
    except errors.Conflict as exc:
        return _after_conflict(ports, task, request.phone_number, exc)
    return Finished(ONBOARDED, row.phone_number)


def _after_conflict(
    ports: JobPorts, task: StoreTask, number: str, exc: errors.Conflict
) -> Result | _NumberLost:
    """A 409 from the workflow: find out from the records what it meant."""
    with ports.uows.of(task.tenant_id) as uow:
        row = uow.onboardings.get(task.store_id)
        holder = uow.numbers.holder(number)
    if row is not None and row.status == "onboarded":
        return _found_onboarded(task, row)
    if holder is not None and (holder.store_id, holder.channel) != (task.store_id, SMS):
        return _NumberLost()
    return RetryLater(exc.message, BUSY_RETRY_SECONDS)


def _found_onboarded(task: StoreTask, row: StoreOnboarding) -> Finished:
    if task.chosen_number == row.phone_number:
        return Finished(ONBOARDED, row.phone_number)  # this job's own earlier attempt
    return Finished(
        ALREADY_ONBOARDED,
        row.phone_number,
        f"Store '{task.store_id}' was already onboarded with {row.phone_number}.",
    )


def _resume_request(row: StoreOnboarding) -> OnboardStoreRequest:
    """The request that finishes the onboarding `row` records (its number, bundle, group)."""
    return OnboardStoreRequest(
        kind=row.kind,
        phone_number=row.phone_number,
        bundle_sid=row.bundle_sid,
        address_sid=row.address_sid,
        sender_group_id=row.sender_group_id or "",
        phone_number_already_purchased=row.already_purchased,
    )


#: The reason the ledger gives for each number an offboarding job releases.
JOB_REASON = "offboarding job"


def _offboard(ports: JobPorts, task: StoreTask) -> Result:
    """The store through the single offboarding's workflow, under the store's leases: a repeat
    (this job's attempt before a crash, or another request) finishes what is under way."""
    with ports.uows.of(task.tenant_id) as uow:
        if uow.stores.get(task.store_id) is None:
            return Finished(
                FAILED, message=f"Store '{task.store_id}' is no longer in the store directory."
            )
        last = uow.offboardings.get(task.store_id)
        under_way = uow.offboardings.in_progress(task.store_id)
        try:
            left = take_down(uow, task.store_id, task.channels, release=task.release)
        except errors.Conflict as exc:  # SMS alone while the store has a WhatsApp sender
            return Finished(FAILED, message=exc.message)
    if left is None and under_way is None:
        if last is not None and _by_this_job(last, task):  # before this worker's crash
            return _offboarded(last)
        return Finished(
            NOTHING_TO_OFFBOARD,
            message=f"Store '{task.store_id}' had nothing to take down on "
            f"{' and '.join(sorted(task.channels))}.",
        )
    try:
        row = offboard_store(
            ports.uows,
            ports.gateway,
            task.tenant_id,
            task.store_id,
            task.channels,
            release=task.release,
            actor=task.actor,
            reason=JOB_REASON,
        )
    except errors.Conflict as exc:  # another request holds the store, or changed it
        return RetryLater(exc.message, BUSY_RETRY_SECONDS)
    if row.status != OFFBOARDING_DONE:
        return RetryLater(
            f"Store '{task.store_id}' is being offboarded by another request.", BUSY_RETRY_SECONDS
        )
    return _offboarded(row)


def _by_this_job(row: StoreOffboarding, task: StoreTask) -> bool:
    return (
        row.status == OFFBOARDING_DONE
        and row.reason == JOB_REASON
        and row.request_id is not None
        and row.request_id == task.actor.request_id
    )


def _offboarded(row: StoreOffboarding) -> Finished:
    released = [entry["phone_number"] for entry in row.steps if entry.get("outcome") == "released"]
    kept = [entry["phone_number"] for entry in row.steps if entry.get("outcome") == "kept"]
    said = [f"released {', '.join(released)}"] if released else []
    said += [f"kept {', '.join(kept)}"] if kept else []
    return Finished(
        OFFBOARDED,
        row.phone_number,
        f"Offboarded ({'; '.join(said)})." if said else "Offboarded.",
    )


def _onboard_whatsapp(
    ports: JobPorts, task: StoreTask, record_number: Callable[[str], None]
) -> Result:
    """The store's SMS number registered as its WhatsApp sender, through the single request's
    workflow, with the store's name as profile name. A store registered already is left alone
    (its profile is not rewritten)."""
    with ports.uows.of(task.tenant_id) as uow:
        store = uow.stores.get(task.store_id)
        sender = uow.senders.get(task.store_id)
    if store is None:
        return Finished(
            FAILED, message=f"Store '{task.store_id}' is no longer in the store directory."
        )
    if sender is not None and sender.sender_sid is not None:
        if task.chosen_number == sender.phone_number:  # this job's attempt before a crash
            return Finished(ONBOARDED, sender.phone_number)
        return Finished(
            ALREADY_ONBOARDED,
            sender.phone_number,
            f"Store '{task.store_id}' was already registered with WhatsApp on "
            f"{sender.phone_number}.",
        )
    whatsapp = WhatsAppPorts(ports.gateway, ports.storage, ports.public_base_url)
    request = WhatsAppOnboardRequest(waba_id=task.waba_id, profile_name=store.name)
    with ports.uows.of(task.tenant_id) as uow:
        sms = uow.onboardings.get(task.store_id)
    if sms is not None:
        record_number(sms.phone_number)
    try:
        row, _ = onboard_whatsapp(
            ports.uows, whatsapp, task.tenant_id, task.store_id, request, actor=task.actor
        )
    except errors.Conflict as exc:  # another request holds the store's WhatsApp lease
        return RetryLater(exc.message, BUSY_RETRY_SECONDS)
    return Finished(ONBOARDED, row.phone_number)
