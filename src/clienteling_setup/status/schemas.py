"""The onboarding status document, field for field as the published reference shows it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from clienteling_setup.jobs.schemas import JobCounts
from clienteling_setup.ledger.schemas import MonthlyPriceRead


class CallForwarding(BaseModel):
    sid: str | None
    name: str | None


class TwilioStatus(BaseModel):
    connected: bool
    sid: str | None = Field(examples=["ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"])
    call_forwarding: CallForwarding


class OptInStatus(BaseModel):
    exists: bool
    id: str | None
    body: str | None


class Upload(BaseModel):
    sid: str
    name: str
    status: str
    created_at: str | None
    updated_at: str | None


class NumberAvailability(BaseModel):
    supported: bool


class RegulatoryBundleStatus(BaseModel):
    required: bool
    status: str = Field(description="Twilio's bundle status, or 'missing' / 'not_required'.")
    bundle_id: str | None
    failure_reason: str | None
    uploads: list[Upload]


class TrustedProductStatus(BaseModel):
    required: bool
    status: str = Field(
        description="Twilio's status of the trust product. In the US, the A2P 10DLC chain "
        "(only the trust product under the A2P messaging-profile policy, the brand, the "
        "campaigns): its least advanced stage as `<stage>_<Twilio status>` (e.g. "
        "`customer_profile_pending-review`, `brand_pending`, `brand_failed`, "
        "`campaign_in_progress`, `campaign_failed`), `missing` before any registration, "
        "`twilio-approved` once every Messaging Service has a verified campaign."
    )
    product_id: str | None
    failure_reason: str | None
    uploads: list[Upload]


class CountryOnboarding(BaseModel):
    country_code: str
    stores: int
    number_availability: NumberAvailability
    regulatory_bundle: RegulatoryBundleStatus
    trusted_product: TrustedProductStatus
    actions: list[str] = Field(description="Next steps, as stable machine-readable strings.")


class ChannelError(BaseModel):
    """Beyond the reference: why the channel's last attempt failed."""

    message: str = Field(
        description="Twilio's error as the service recorded it (the error's kind, then its "
        "message)."
    )
    request_id: str | None = Field(
        description="The id of the request that met the error (its response and log line "
        "carry it); null when reconciliation (`clienteling-setup sync`) met it."
    )
    at: datetime | None = Field(description="When the error happened.")


class SmsChannel(BaseModel):
    status: str = Field(
        examples=["onboarded"],
        description="onboarded (can send), registration_pending (a US store: its number is "
        "ready, but carriers block its texts until its Messaging Service has a verified A2P "
        "10DLC campaign; see GET /clienteling/a2p-registration), pending (onboarding under "
        "way) or not_onboarded",
    )
    pending_phone_number: str | None = Field(
        description="Beyond the reference: while `pending`, the number the store's onboarding "
        "claimed (bought or being bought); null otherwise.",
    )
    last_error: ChannelError | None = Field(
        description="Beyond the reference: while `pending`, why the last attempt failed (a "
        "retry of the onboarding resumes it); null when none failed or once onboarded.",
    )


class WhatsAppChannel(BaseModel):
    sid: str | None
    status: str = Field(examples=["not_onboarded"])
    waba: str | None
    quality_rating: str | None
    messaging_limit: str | None
    offline_reasons: list[str] = Field(
        description="Why Meta or Twilio took the sender offline (code: message), if it is."
    )
    phone_number: str | None = Field(
        description="The number registered as the sender: the store's SMS number or its "
        "dedicated WhatsApp number."
    )
    last_error: ChannelError | None = Field(
        description="Beyond the reference: why the last registration failed, while the sender "
        "does not exist (`sid` null); null otherwise.",
    )


class StoreChannels(BaseModel):
    sms: SmsChannel
    whatsapp: WhatsAppChannel


class StoreOnboardingStatus(BaseModel):
    id: str
    name: str
    country_code: str
    phone_number: str | None
    channels: StoreChannels


class DisablingStatus(BaseModel):
    """Not in the reference: disabling the retailer (DELETE /clienteling/configuration)."""

    status: str = Field(description="in_progress or disabled.")
    stage: str = Field(description="The last stage done.")
    stores_total: int
    stores_offboarded: int
    numbers_released: int
    last_error: str | None
    started_at: datetime
    finished_at: datetime | None


class OnboardingJobProgress(BaseModel):
    """Beyond the reference: where the tenant's newest bulk onboarding job stands."""

    id: str
    status: str = Field(description="running, cancelling, cancelled or finished.")
    operation: str = Field(description="onboard or offboard.")
    total: int
    counts: JobCounts
    estimated_seconds_remaining: float | None
    created_at: datetime
    finished_at: datetime | None


class ReconciliationStatus(BaseModel):
    """Beyond the reference: how fresh the Twilio state this document shows is."""

    last_succeeded_at: datetime | None = Field(
        description="When the last successful reconciliation of the tenant with Twilio began "
        "(its first is the compliance read that follows enabling, in the background); null "
        "until then, while bundles and trust products may not show yet."
    )
    lag_seconds: float | None = Field(
        description="Seconds since last_succeeded_at: what the document may have missed."
    )


class NumbersStatus(BaseModel):
    """Beyond the reference: the phone numbers the retailer's Twilio account owns, as the last
    reconciliation listed them, and the orphans among them."""

    owned: int = Field(
        description="Numbers the account owned at the last reconciliation, less those "
        "released since."
    )
    orphans: int = Field(
        description="Owned numbers that no store claims and no onboarding, offboarding or "
        "bulk job in progress holds (bought by hand, or left by an attempt given up). Decided "
        "against the claims of the moment of reading."
    )
    orphan_monthly_cost: MonthlyPriceRead | None = Field(
        description="What the orphans cost a month together (each from the ledger's purchase "
        "entry, else Twilio's Pricing API); null when there are none, or when a price is not "
        "known yet or they are priced in different currencies."
    )


class OnboardingStatus(BaseModel):
    tenant: str = Field(examples=["dodici"])
    onboarded: bool
    onboarded_at: datetime | None
    twilio: TwilioStatus
    opt_in: OptInStatus
    countries: list[CountryOnboarding]
    stores: list[StoreOnboardingStatus]
    disabling: DisablingStatus | None = Field(
        description="Beyond the reference: the retailer's disabling, under way or last done; "
        "null when there is none.",
    )
    numbers: NumbersStatus
    actions: list[str] = Field(
        description="Beyond the reference: the retailer's next steps that belong to no "
        "country, as stable machine-readable strings (`release_orphan_numbers`); empty when "
        "there are none. See docs/actions.md."
    )
    onboarding_job: OnboardingJobProgress | None = Field(
        description="The newest bulk onboarding job (GET /clienteling/onboarding-jobs/{id} "
        "has each store's result); null when the tenant has none."
    )
    reconciliation: ReconciliationStatus
