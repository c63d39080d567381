from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictBool

from clienteling_setup.offboarding.models import StoreOffboarding
from clienteling_setup.schemas import read_from
from clienteling_setup.tenants.models import Tenant, TenantDisabling
from clienteling_setup.tenants.schemas import StrictBody
from clienteling_setup.text import Text, column_length

Channel = Literal["sms", "whatsapp"]


def _both() -> list[Channel]:
    return ["sms", "whatsapp"]


class OffboardStoreRequest(StrictBody):
    channels: list[Channel] = Field(
        default_factory=_both,
        min_length=1,
        description="What to take down: `sms` (the number leaves its Messaging Service) and "
        "`whatsapp` (the WhatsApp sender is deleted). Both when omitted. SMS alone is refused "
        "while the store has a WhatsApp sender, which works only on top of SMS.",
    )
    release_number: StrictBool = Field(
        default=True,
        description="Release the numbers taken down, which stops their monthly cost. false "
        "keeps them owned and claimed by the store, to onboard it again with the same number.",
    )


class OffboardingStepRead(BaseModel):
    step: str = Field(
        description="claimed, whatsapp_sender, whatsapp_number, messaging_service, sms_number "
        "or offboarded, in the order done."
    )
    at: datetime
    outcome: str | None = Field(
        default=None,
        description="deleted, removed, released, kept, not_owned, or claimed_elsewhere / "
        "unclaimed (a number another store or channel claims, or none does, is never released).",
    )
    phone_number: str | None = None
    sid: str | None = Field(default=None, description="The sender or Messaging Service.")


class StoreOffboardingRead(BaseModel):
    store_id: str
    status: str = Field(description="in_progress (202) or offboarded (200).")
    channels: list[str]
    release_number: bool
    phone_number: str | None = Field(description="The SMS number taken down, if any.")
    whatsapp_phone_number: str | None = Field(
        description="The dedicated WhatsApp number taken down, if any."
    )
    released_numbers: list[str] = Field(description="Numbers released: their cost stopped.")
    kept_numbers: list[str] = Field(description="Numbers kept owned for the store.")
    steps: list[OffboardingStepRead]
    last_error: str | None
    started_at: datetime
    finished_at: datetime | None


def _numbers(row: StoreOffboarding, outcome: str) -> list[str]:
    return [
        entry["phone_number"]
        for entry in row.steps
        if entry.get("outcome") == outcome and entry.get("phone_number")
    ]


def offboarding_read(row: StoreOffboarding) -> StoreOffboardingRead:
    return read_from(
        StoreOffboardingRead,
        row,
        whatsapp_phone_number=row.whatsapp_number,
        released_numbers=_numbers(row, "released"),
        kept_numbers=_numbers(row, "kept"),
        steps=[
            OffboardingStepRead.model_validate({k: v or None for k, v in entry.items()})
            for entry in row.steps
        ],
        started_at=row.created_at,
    )


class DisableRequest(StrictBody):
    confirm_tenant: Annotated[str, Text(column_length(Tenant.id))] = Field(
        description="The tenant's name, repeated: disabling releases every number and closes "
        "the tenant's Twilio account.",
        examples=["dodici"],
    )


class DisablingRead(BaseModel):
    """Disabling a retailer, as `GET /clienteling/onboarding-status` shows it too."""

    status: str = Field(description="in_progress (202) or disabled (200).")
    stage: str = Field(
        description="The last stage done: claimed, stores_offboarded, numbers_released, "
        "groups_deleted, messaging_service_deleted, voice_application_deleted, "
        "subaccount_closed."
    )
    subaccount_sid: str
    stores_total: int
    stores_offboarded: int
    numbers_released: int
    last_error: str | None = Field(description="Why it stopped, until it resumes.")
    started_at: datetime
    finished_at: datetime | None


def disabling_read(row: TenantDisabling) -> DisablingRead:
    return read_from(DisablingRead, row, started_at=row.created_at)
