"""Bulk onboarding jobs as the API offers them: start (or plan), read, list, cancel.

Starting a job writes the job and one item per store in one transaction and answers at once;
the runners of every server process (`jobs.runner`) do the work. A dry run writes nothing and
spends nothing: it answers what the job would buy, from the same plan the workers follow.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from clienteling_setup import errors
from clienteling_setup.auth.actor import Actor
from clienteling_setup.cache import TTLCache
from clienteling_setup.compliance.lists import TenantLists
from clienteling_setup.db.base import utcnow
from clienteling_setup.jobs.models import (
    ALREADY_ONBOARDED,
    CANCELLED,
    CLAIMED,
    FINISHED,
    PENDING,
    RUNNING,
    OnboardingJob,
    OnboardingJobItem,
)
from clienteling_setup.jobs.plan import CountryPlan, plan_country
from clienteling_setup.jobs.schemas import Channel, OnboardingJobCreate, Operation
from clienteling_setup.ledger.pricing import monthly_price
from clienteling_setup.offboarding.service import take_down
from clienteling_setup.providers.messaging import MessagingGateway, MonthlyPrice
from clienteling_setup.unit_of_work import UnitOfWork, UnitsOfWork


@dataclass(frozen=True)
class JobView:
    """A job with its counts by outcome (and, when asked, its items)."""

    job: OnboardingJob
    counts: Counter[str]
    items: list[OnboardingJobItem] | None

    @property
    def estimated_seconds_remaining(self) -> float | None:
        """At the pace of the stores finished so far (cancelled ones aside)."""
        if self.job.status in (FINISHED, CANCELLED):
            return 0.0
        worked = (
            sum(
                self.counts[k]
                for k in ("onboarded", "already_onboarded", "offboarded", "nothing_to_offboard")
            )
            + self.counts["failed"]
        )
        started = self.job.started_at
        if worked == 0 or started is None:
            return None
        elapsed = max((utcnow() - started).total_seconds(), 0.001)
        remaining = self.counts["pending"] + self.counts["in_progress"]
        return round(remaining * elapsed / worked, 1)


@dataclass(frozen=True)
class PlannedStore:
    store_id: str
    country: str
    action: str  # buy (register, for WhatsApp), already_onboarded, fail
    message: str | None


@dataclass(frozen=True)
class PlannedCountry:
    """A country's stores in the plan: how many, how many numbers to buy, at what price."""

    plan: CountryPlan
    stores: int
    to_buy: int
    monthly_price: MonthlyPrice | None  # of one number; None when unknown (or none to buy)


@dataclass(frozen=True)
class JobPlan:
    """What a job would do, store by store and country by country."""

    stores: list[PlannedStore]
    countries: list[PlannedCountry]

    @property
    def count(self) -> int:
        return sum(1 for s in self.stores if s.action == "buy")

    @property
    def monthly_cost(self) -> MonthlyPrice | None:
        """What the numbers to buy would cost a month: None when nothing is bought, or
        when a price is unknown (or they are priced in several currencies)."""
        buying = [c for c in self.countries if c.to_buy]
        prices = [c.monthly_price for c in buying]
        currencies = {p.currency for p in prices if p is not None}
        if not buying or None in prices or len(currencies) != 1:
            return None
        total = sum(
            (Decimal(p.amount) * c.to_buy for c, p in zip(buying, prices, strict=True) if p),
            Decimal(0),
        )
        return MonthlyPrice(f"{total:f}", currencies.pop())

    @property
    def price_note(self) -> str | None:
        """What the monthly cost leaves out, in words (None when it is complete)."""
        unknown = [
            f"{c.plan.number_type or ''} numbers in {c.plan.country}".strip()
            for c in self.countries
            if c.to_buy and c.monthly_price is None
        ]
        if unknown:
            return (
                f"Twilio's price of {', '.join(unknown)} is unknown now: the count is exact, "
                "the monthly cost is left out."
            )
        if self.count and self.monthly_cost is None:
            return "The numbers are priced in several currencies: no total is given."
        return None


def new_job_id() -> str:
    """`job_` + milliseconds (fixed width, so ids sort by creation) + randomness."""
    return f"job_{int(time.time() * 1000):012x}{secrets.token_hex(4)}"


@dataclass(frozen=True)
class PlannedOffboarding:
    store_id: str
    country: str
    action: str  # offboard, nothing_to_offboard, fail
    released_numbers: list[str]
    kept_numbers: list[str]
    message: str | None


def start_job(
    uows: UnitsOfWork, tenant_id: str, body: OnboardingJobCreate, actor: Actor
) -> JobView:
    """`actor` asked for the job: the ledger names them for every number it buys or releases."""
    offboard = body.operation == Operation.OFFBOARD
    with uows.of(tenant_id) as uow:
        uow.tenants.require()
        stores = _selection(uow, body)
        channels = sorted(body.offboard_channels)
        job = OnboardingJob(
            id=new_job_id(),
            operation=body.operation.value,
            channel=",".join(channels) if offboard else body.channel,
            options={"channels": channels, "release_number": body.release}
            if offboard
            else {"waba_id": body.waba_id}
            if body.channel == Channel.WHATSAPP
            else None,
            selection=_selection_record(body),
            enable=body.enable,
            status=RUNNING,
            total=len(stores),
            actor=actor.subject[:255],
            request_id=actor.request_id,
        )
        uow.jobs.add_with_items(job, [store_id for store_id, _ in stores])
        return JobView(job, Counter({"pending": len(stores)}), None)


def plan_job(
    uows: UnitsOfWork,
    gateway: MessagingGateway,
    cache: TTLCache,
    tenant_id: str,
    body: OnboardingJobCreate,
) -> JobPlan:
    """The dry run: each store's action, each country's bundle (or problem)."""
    with uows.of(tenant_id) as uow:
        uow.tenants.require()
        if body.channel == Channel.WHATSAPP:
            return _plan_whatsapp(uow, body)
        stores = _selection(uow, body)
        named = [s for s, _ in stores] if body.store_ids is not None else []
        onboarded = uow.jobs.onboarded_among(named)
    lists = TenantLists(uows, gateway, cache, tenant_id)
    plans: dict[str, CountryPlan] = {}
    planned: list[PlannedStore] = []
    for store_id, country in stores:
        if store_id in onboarded:
            planned.append(PlannedStore(store_id, country, ALREADY_ONBOARDED, None))
            continue
        if country not in plans:
            plans[country] = plan_country(lists, country, store_id)
        problem = plans[country].problem
        planned.append(PlannedStore(store_id, country, "fail" if problem else "buy", problem))
    per_country = Counter(p.country for p in planned)
    buying = Counter(p.country for p in planned if p.action == "buy")
    return JobPlan(
        planned,
        [
            PlannedCountry(
                plans[cc], per_country[cc], buying[cc], _price(gateway, plans[cc], buying[cc])
            )
            for cc in sorted(plans)
        ],
    )


def _price(gateway: MessagingGateway, plan: CountryPlan, to_buy: int) -> MonthlyPrice | None:
    if not to_buy or plan.number_type is None:
        return None
    return monthly_price(gateway, plan.country, plan.number_type)


def plan_offboarding(
    uows: UnitsOfWork, tenant_id: str, body: OnboardingJobCreate
) -> list[PlannedOffboarding]:
    """The dry run of an offboarding job: what each store would lose, and which numbers
    would be released (their monthly cost stops) or kept."""
    planned: list[PlannedOffboarding] = []
    with uows.of(tenant_id) as uow:
        uow.tenants.require()
        for store_id, country in _selection(uow, body):
            try:
                left = take_down(uow, store_id, body.offboard_channels, release=body.release)
            except errors.Conflict as exc:
                planned.append(PlannedOffboarding(store_id, country, "fail", [], [], exc.message))
                continue
            if left is None:
                planned.append(
                    PlannedOffboarding(store_id, country, "nothing_to_offboard", [], [], None)
                )
                continue
            numbers = [left[k] for k in ("phone_number", "whatsapp_number") if left.get(k)]
            released, kept = (numbers, []) if body.release else ([], numbers)
            planned.append(PlannedOffboarding(store_id, country, "offboard", released, kept, None))
    return planned


def get_job(uows: UnitsOfWork, tenant_id: str, job_id: str, *, with_stores: bool) -> JobView:
    with uows.of(tenant_id) as uow:
        job = _require(uow, job_id)
        return _view(uow, job, with_stores=with_stores)


def page_jobs(
    uows: UnitsOfWork, tenant_id: str, *, before: str | None, limit: int
) -> list[JobView]:
    with uows.of(tenant_id) as uow:
        jobs = uow.jobs.page(before=before, limit=limit)
        counts = uow.jobs.counts([j.id for j in jobs])
        return [JobView(j, _tally(counts[j.id]), None) for j in jobs]


def cancel_job(uows: UnitsOfWork, tenant_id: str, job_id: str) -> JobView:
    """No new store starts; the stores under way finish. Repeating it changes nothing."""
    with uows.of(tenant_id) as uow:
        job = _require(uow, job_id)
        if job.status == FINISHED:
            raise errors.Conflict(
                f"Job '{job_id}' finished at {job.finished_at:%Y-%m-%d %H:%M:%S} UTC; there "
                "is nothing left to cancel."
            )
        if job.status == RUNNING:
            uow.jobs.cancel(job, utcnow())
        return _view(uow, job, with_stores=False)


def latest_job(uows: UnitsOfWork, tenant_id: str) -> JobView | None:
    with uows.of(tenant_id) as uow:
        job = uow.jobs.latest()
        return _view(uow, job, with_stores=False) if job is not None else None


def _require(uow: UnitOfWork, job_id: str) -> OnboardingJob:
    job = uow.jobs.get(job_id)
    if job is None:
        raise errors.NotFound(
            f"Onboarding job '{job_id}' does not exist for this tenant. "
            "See GET /clienteling/onboarding-jobs for the tenant's jobs."
        )
    return job


def _view(uow: UnitOfWork, job: OnboardingJob, *, with_stores: bool) -> JobView:
    counts = uow.jobs.counts([job.id])[job.id]
    return JobView(job, _tally(counts), uow.jobs.items(job.id) if with_stores else None)


def job_view(job: OnboardingJob, counts: dict[tuple[str, str | None], int]) -> JobView:
    """The view of a job read elsewhere (the status read model), from its raw counts."""
    return JobView(job, _tally(counts), None)


def _tally(raw: dict[tuple[str, str | None], int]) -> Counter[str]:
    """Item counts by what a person asks: pending, in progress, or each outcome."""
    tally: Counter[str] = Counter()
    for (state, outcome), count in raw.items():
        if state == PENDING:
            tally["pending"] += count
        elif state == CLAIMED:
            tally["in_progress"] += count
        else:
            tally[outcome or "failed"] += count
    return tally


def _selection(uow: UnitOfWork, body: OnboardingJobCreate) -> list[tuple[str, str]]:
    """(store, country) of every store the job covers, in order; 404 for a named store that
    is not in the directory, 409 when there is nothing to do."""
    if body.store_ids is not None:
        found = uow.jobs.stores_named(body.store_ids)
        missing = [s for s in body.store_ids if s not in found]
        if missing:
            shown = ", ".join(f"'{s}'" for s in missing[:10])
            more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
            raise errors.NotFound(
                f"store_ids: {shown}{more} not in the store directory. Add them with "
                "PUT /clienteling/stores/{store_id} or leave them out."
            )
        return [(s, found[s]) for s in body.store_ids]
    if body.operation == Operation.OFFBOARD:
        stores = uow.jobs.offboardable_stores(
            country=body.country, channels=body.offboard_channels, release=body.release
        )
        if not stores:
            where = f"of {body.country} " if body.country else ""
            raise errors.Conflict(
                f"No store {where}in the directory has anything to offboard on "
                f"{' and '.join(sorted(body.offboard_channels))}: the job would have nothing "
                "to do."
            )
        return stores
    if body.channel == Channel.WHATSAPP:
        stores = uow.jobs.whatsapp_selectable_stores(country=body.country)
    else:
        stores = uow.jobs.selectable_stores(country=body.country)
    if not stores:
        where = f"of {body.country} " if body.country else ""
        if body.channel == Channel.WHATSAPP:
            raise errors.Conflict(
                f"No store {where}in the directory is onboarded for SMS without a WhatsApp "
                "sender: the job would have nothing to do (a store gets WhatsApp after SMS)."
            )
        raise errors.Conflict(
            f"Every store {where}in the directory is onboarded already (or there is none): "
            "the job would have nothing to do."
        )
    return stores


def _plan_whatsapp(uow: UnitOfWork, body: OnboardingJobCreate) -> JobPlan:
    """A WhatsApp job's dry run: it buys nothing (each store registers its SMS number)."""
    planned: list[PlannedStore] = []
    for store_id, country in _selection(uow, body):
        sms = uow.onboardings.get(store_id)
        sender = uow.senders.get(store_id)
        group = uow.groups.get(sms.sender_group_id) if sms and sms.sender_group_id else None
        if sender is not None and sender.sender_sid is not None:
            planned.append(PlannedStore(store_id, country, ALREADY_ONBOARDED, None))
        elif sms is None or sms.status != "onboarded":
            message = f"Store '{store_id}' is not onboarded for SMS; WhatsApp comes after SMS."
            planned.append(PlannedStore(store_id, country, "fail", message))
        elif body.waba_id is None and (group is None or group.waba_id is None):
            message = (
                f"Store '{store_id}' has no WhatsApp Business Account: send waba_id, or put "
                "the store in a sender group that has one."
            )
            planned.append(PlannedStore(store_id, country, "fail", message))
        else:
            planned.append(PlannedStore(store_id, country, "register", None))
    return JobPlan(planned, [])


def _selection_record(body: OnboardingJobCreate) -> dict[str, object]:
    """How the stores were chosen (the named stores themselves are the job's items)."""
    if body.store_ids is not None:
        return {"by": "store_ids", "country": None}
    if body.country is not None:
        return {"by": "country", "country": body.country}
    return {"by": "all", "country": None}
