"""Request and answer bodies of the bulk onboarding jobs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Self

from pydantic import BaseModel, Field, StrictBool, field_validator, model_validator

from clienteling_setup.jobs.models import CLAIMED, OFFBOARD, PENDING, OnboardingJobItem
from clienteling_setup.ledger.schemas import MonthlyPriceRead, price_read
from clienteling_setup.offboarding.schemas import Channel as OffboardChannel
from clienteling_setup.onboarding.schemas import WabaId
from clienteling_setup.schemas import read_from
from clienteling_setup.stores.models import Store
from clienteling_setup.stores.schemas import STORE_ID_PATTERN
from clienteling_setup.tenants.schemas import StrictBody
from clienteling_setup.text import Text, column_length
from clienteling_setup.validation import country_code
from clienteling_setup.whatsapp.schemas import WABA_ID_PATTERN

#: The most stores one job names explicitly (a filter selects any number).
MAX_NAMED_STORES = 10_000
StoreId = Annotated[str, Text(column_length(Store.id)), Field(pattern=STORE_ID_PATTERN)]

if TYPE_CHECKING:  # the service's views; the service imports the request body from here
    from clienteling_setup.jobs.service import JobPlan, JobView, PlannedOffboarding


class Channel(StrEnum):
    """What a job onboards the stores to."""

    SMS = "sms"
    WHATSAPP = "whatsapp"


class Operation(StrEnum):
    """What a job does to each store."""

    ONBOARD = "onboard"
    OFFBOARD = "offboard"


class OnboardingJobCreate(StrictBody):
    """Which stores to onboard: named (`store_ids`), or every store not yet onboarded of a
    `country`, or of the whole directory (`all`). Exactly one of the three. With `operation`
    offboard, the stores are offboarded instead (a filter then selects the stores onboarded
    on the offboarded channels)."""

    operation: Operation = Field(
        default=Operation.ONBOARD,
        description="onboard (the default) or offboard: each store goes through the same "
        "workflow as POST /clienteling/stores/{store_id}/offboard, with `channels` and "
        "`release_number` as that request takes them.",
    )

    store_ids: list[StoreId] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_NAMED_STORES,
        description="The stores to onboard, by id (at most 10,000).",
        examples=[["nyc-5th", "ber-pp"]],
    )
    country: Annotated[str, Text(column_length(Store.country_code))] | None = Field(
        default=None,
        description="Every store of this country (ISO 3166-1 alpha-2) not yet onboarded.",
        examples=["DE"],
    )
    all: bool = Field(default=False, description="Every store of the directory not yet onboarded.")
    channel: Channel = Field(
        default=Channel.SMS,
        description="The channel to onboard the stores to: `sms`, or `whatsapp` for stores "
        "already onboarded for SMS (their SMS number registered as a WhatsApp sender, as "
        "POST /clienteling/stores/{store_id}/whatsapp/onboard does, with the store's name as "
        "profile name; a filter then selects the stores on SMS without a sender).",
    )
    waba_id: WabaId | None = Field(
        default=None,
        pattern=WABA_ID_PATTERN,
        description="WhatsApp jobs: the WhatsApp Business Account ID to link each store to; "
        "when omitted, each store's sender group's.",
    )
    dry_run: bool = Field(
        default=False,
        description="Answer what the job would buy (stores, count, monthly cost when the "
        "price is known) and create nothing.",
    )
    enable: bool = Field(
        default=False, description="Also switch each store on for associates once onboarded."
    )
    channels: list[OffboardChannel] | None = Field(
        default=None,
        min_length=1,
        description="Offboarding only: what to take down, `sms` and/or `whatsapp` (both when "
        "omitted), as POST /clienteling/stores/{store_id}/offboard takes it.",
    )
    release_number: StrictBool | None = Field(
        default=None,
        description="Offboarding only: release the numbers taken down, which stops their "
        "monthly cost (true when omitted); false keeps them owned and claimed by each store.",
    )

    @field_validator("store_ids")
    @classmethod
    def _store_ids(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        seen: set[str] = set()
        for store_id in value:
            if store_id in seen:
                raise ValueError(f"'{store_id}' is named twice; name each store once")
            seen.add(store_id)
        return value

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        return country_code(value) if value is not None else None

    @property
    def offboard_channels(self) -> frozenset[str]:
        return frozenset(self.channels or ("sms", "whatsapp"))

    @property
    def release(self) -> bool:
        return self.release_number is not False

    @model_validator(mode="after")
    def _options_of_the_operation(self) -> Self:
        if self.operation == Operation.OFFBOARD:
            if self.enable:
                raise ValueError(
                    "enable applies to onboarding; an offboarding job has no use for it"
                )
            if "channel" in self.model_fields_set:
                raise ValueError("an offboarding job takes channels (a list), not channel")
            if self.channels is not None and len(set(self.channels)) != len(self.channels):
                raise ValueError("channels names a channel twice; name each once")
            if self.waba_id is not None:
                raise ValueError("waba_id applies to onboarding WhatsApp, not to offboarding")
        else:
            if self.waba_id is not None and self.channel != Channel.WHATSAPP:
                raise ValueError('waba_id applies to WhatsApp: add channel "whatsapp"')
            given = [n for n in ("channels", "release_number") if getattr(self, n) is not None]
            if given:
                raise ValueError(
                    f'{" and ".join(given)} apply to offboarding: add operation "offboard"'
                )
        return self

    @model_validator(mode="after")
    def _one_selection(self) -> Self:
        chosen = [
            name
            for name, given in (
                ("store_ids", self.store_ids is not None),
                ("country", self.country is not None),
                ("all", self.all),
            )
            if given
        ]
        if len(chosen) != 1:
            raise ValueError(
                "say which stores to onboard with exactly one of store_ids (a list of ids), "
                "country (an ISO code) or all (true)"
                + (f"; this request gives {' and '.join(chosen)}" if chosen else "")
            )
        return self


class JobCounts(BaseModel):
    pending: int = Field(description="Not started yet (or waiting to be retried).")
    in_progress: int
    onboarded: int
    already_onboarded: int = Field(description="Onboarded before the job reached them.")
    offboarded: int = Field(description="Offboarding jobs: stores offboarded.")
    nothing_to_offboard: int = Field(
        description="Offboarding jobs: stores with nothing (left) to take down when reached."
    )
    failed: int
    cancelled: int


class JobStoreRead(BaseModel):
    store_id: str
    status: str = Field(
        description="pending, in_progress, onboarded, already_onboarded, offboarded, "
        "nothing_to_offboard, failed or cancelled."
    )
    phone_number: str | None = Field(
        description="The store's SMS number: the one bought, or the one taken down."
    )
    message: str | None = Field(description="Why the store failed (or was skipped), in words.")
    attempts: int
    started_at: datetime | None = Field(description="When a worker first took the store.")
    finished_at: datetime | None


class OnboardingJobRead(BaseModel):
    id: str
    status: str = Field(description="running, cancelling, cancelled or finished.")
    operation: str = Field(description="onboard or offboard.")
    channel: str = Field(
        description="Onboarding: the channel (sms). Offboarding: its channels, comma-separated."
    )
    channels: list[str] | None = Field(description="Offboarding: the channels taken down.")
    release_number: bool | None = Field(
        description="Offboarding: whether the numbers taken down are released."
    )
    selection: dict[str, str | None] = Field(
        description="How the stores were chosen: by `store_ids`, `country` (and which) or `all`."
    )
    enable: bool
    total: int
    counts: JobCounts
    estimated_seconds_remaining: float | None = Field(
        description="At the pace so far; null until a store has finished, 0 when done."
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    cancelled_at: datetime | None
    stores: list[JobStoreRead] | None = Field(
        description="Each store's result or error message (null in lists, or with stores=false)."
    )


class OnboardingJobPage(BaseModel):
    items: list[OnboardingJobRead]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class DryRunCountry(BaseModel):
    country_code: str
    stores: int = Field(description="Stores of the selection in this country.")
    to_buy: int = Field(description="How many numbers the job would buy.")
    number_type: str | None
    bundle_sid: str | None
    address_sid: str | None
    problem: str | None = Field(description="Why these stores would fail, in words.")
    monthly_price: MonthlyPriceRead | None = Field(
        description="Twilio's monthly price of one number (null when unknown, or none to buy)."
    )


class DryRunStore(BaseModel):
    store_id: str
    country_code: str
    action: str = Field(
        description="buy, already_onboarded or fail; register for a WhatsApp job (its SMS "
        "number becomes the sender: nothing is bought)."
    )
    message: str | None


class OnboardingJobPlan(BaseModel):
    dry_run: bool = True
    channel: str
    count: int = Field(description="Numbers the job would buy.")
    monthly_cost: MonthlyPriceRead | None = Field(
        description="What the numbers would cost a month, when Twilio's price is known for "
        "every one (null otherwise, or when nothing would be bought)."
    )
    note: str | None = Field(description="What the figures leave out.")
    countries: list[DryRunCountry]
    stores: list[DryRunStore]


OFFBOARDING_PRICE_NOTE = (
    "The count is exact; the monthly cost that stops is not computed for offboarding dry runs "
    "yet: GET /clienteling/ledger has each number's purchase price."
)


class OffboardingDryRunStore(BaseModel):
    store_id: str
    country_code: str
    action: str = Field(description="offboard, nothing_to_offboard or fail.")
    released_numbers: list[str] = Field(description="Numbers it would release.")
    kept_numbers: list[str] = Field(description="Numbers it would take down but keep.")
    message: str | None = Field(description="Why the store would fail, in words.")


class OffboardingJobPlan(BaseModel):
    dry_run: bool = True
    operation: str = "offboard"
    channels: list[str]
    release_number: bool
    count: int = Field(description="Numbers the job would release.")
    monthly_cost: MonthlyPriceRead | None = Field(
        description="The monthly cost that stops. Not computed for offboarding dry runs yet "
        "(always null; the ledger has each number's purchase price)."
    )
    note: str | None = Field(description="What the figures leave out.")
    stores: list[OffboardingDryRunStore]


def offboarding_plan_read(
    planned: list[PlannedOffboarding], channels: list[str], release: bool
) -> OffboardingJobPlan:
    count = sum(len(p.released_numbers) for p in planned)
    return OffboardingJobPlan(
        channels=channels,
        release_number=release,
        count=count,
        monthly_cost=None,
        note=OFFBOARDING_PRICE_NOTE if count else None,
        stores=[
            OffboardingDryRunStore(
                store_id=p.store_id,
                country_code=p.country,
                action=p.action,
                released_numbers=p.released_numbers,
                kept_numbers=p.kept_numbers,
                message=p.message,
            )
            for p in planned
        ],
    )


def store_status(item: OnboardingJobItem) -> str:
    if item.state == PENDING:
        return "pending"
    if item.state == CLAIMED:
        return "in_progress"
    return item.outcome or "failed"


def job_read(view: JobView) -> OnboardingJobRead:
    counts = view.counts
    options = view.job.options or {}
    return read_from(
        OnboardingJobRead,
        view.job,
        counts=JobCounts(
            pending=counts["pending"],
            in_progress=counts["in_progress"],
            onboarded=counts["onboarded"],
            already_onboarded=counts["already_onboarded"],
            offboarded=counts["offboarded"],
            nothing_to_offboard=counts["nothing_to_offboard"],
            failed=counts["failed"],
            cancelled=counts["cancelled"],
        ),
        estimated_seconds_remaining=view.estimated_seconds_remaining,
        channels=options.get("channels") if view.job.operation == OFFBOARD else None,
        release_number=options.get("release_number") if view.job.operation == OFFBOARD else None,
        stores=None
        if view.items is None
        else [read_from(JobStoreRead, item, status=store_status(item)) for item in view.items],
    )


def plan_read(plan: JobPlan, channel: str) -> OnboardingJobPlan:
    countries = [
        DryRunCountry(
            country_code=c.plan.country,
            stores=c.stores,
            to_buy=c.to_buy,
            number_type=c.plan.number_type,
            bundle_sid=c.plan.bundle_sid,
            address_sid=c.plan.address_sid,
            problem=c.plan.problem,
            monthly_price=price_read(c.monthly_price),
        )
        for c in plan.countries
    ]
    return OnboardingJobPlan(
        channel=channel,
        count=plan.count,
        monthly_cost=price_read(plan.monthly_cost),
        note=plan.price_note,
        countries=countries,
        stores=[
            DryRunStore(
                store_id=s.store_id, country_code=s.country, action=s.action, message=s.message
            )
            for s in plan.stores
        ],
    )
