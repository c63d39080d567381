from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, Field, field_validator, model_validator

from clienteling_setup.ledger.schemas import MonthlyPriceRead, stored_price
from clienteling_setup.onboarding.models import SenderGroup, StoreOnboarding
from clienteling_setup.schemas import read_from
from clienteling_setup.tenants.schemas import StrictBody
from clienteling_setup.text import Text, column_length
from clienteling_setup.validation import E164_PATTERN, require_not_blank

BUNDLE_SID_PATTERN = r"^BU[0-9a-fA-F]{32}$"
ADDRESS_SID_PATTERN = r"^AD[0-9a-fA-F]{32}$"
GROUP_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"

#: A Twilio SID (two letters, 32 hex digits), as its columns hold it.
Sid = Annotated[str, Text(column_length(StoreOnboarding.bundle_sid))]
PhoneNumber = Annotated[str, Text(column_length(StoreOnboarding.phone_number))]
GroupId = Annotated[str, Text(column_length(SenderGroup.id))]
WabaId = Annotated[str, Text(column_length(SenderGroup.waba_id))]


def bundle_sid_field(note: str = "") -> Any:
    """`bundle_sid` of a request that may buy a number; `note` says when it is used."""
    return Field(
        default=None,
        pattern=BUNDLE_SID_PATTERN,
        description=f"Regulatory Bundle ID from Twilio{note}. Must be paired with address_sid.",
    )


def address_sid_field(note: str = "") -> Any:
    """`address_sid`, the other half of `bundle_sid_field`."""
    return Field(
        default=None,
        pattern=ADDRESS_SID_PATTERN,
        description=f"Address ID from Twilio{note}. Must be paired with bundle_sid.",
    )


def check_bundle_pair(bundle_sid: str | None, address_sid: str | None) -> None:
    """A bundle and its address come together or not at all."""
    if (bundle_sid is None) != (address_sid is None):
        missing = "address_sid" if address_sid is None else "bundle_sid"
        raise ValueError(
            f"bundle_sid and address_sid go together: {missing} is missing. Send both "
            "(from the regulatory-bundles list, which gives each bundle's address_sid) "
            "or neither."
        )


class OnboardStoreRequest(StrictBody):
    kind: Literal["", "dedicated", "join_existing_group"] = Field(
        default="",
        description="Standalone store onboarding (`dedicated`, the default when empty or "
        "omitted) or `join_existing_group` to share a sender group's Messaging Service.",
    )
    phone_number: PhoneNumber = Field(
        pattern=E164_PATTERN,
        description="The phone number that will be used to onboard the store.",
        examples=["+4915123456789"],
    )
    bundle_sid: Sid | None = bundle_sid_field(" (countries other than US/CA)")
    address_sid: Sid | None = address_sid_field()
    sender_group_id: GroupId | None = Field(
        default="",
        pattern=f"^$|{GROUP_ID_PATTERN}",
        description="Must be omitted or empty for dedicated store onboarding; the group to "
        "join for join_existing_group.",
    )
    phone_number_already_purchased: bool = Field(
        default=False,
        description="Skip the Twilio purchase step and only associate the supplied number, "
        "which must already belong to the tenant's Twilio account.",
    )

    @model_validator(mode="after")
    def _rules(self) -> Self:
        check_bundle_pair(self.bundle_sid, self.address_sid)
        group = self.sender_group_id or ""
        if self.kind in ("", "dedicated") and group:
            raise ValueError(
                "sender_group_id must be omitted or empty for dedicated onboarding; "
                "use kind 'join_existing_group' to join a group"
            )
        if self.kind == "join_existing_group" and not group:
            raise ValueError("sender_group_id is required when kind is 'join_existing_group'")
        return self

    @property
    def effective_kind(self) -> str:
        return self.kind or "dedicated"


class SmsChannelRead(BaseModel):
    status: str


class StoreOnboardingRead(BaseModel):
    store_id: str
    phone_number: str
    phone_number_sid: str | None
    kind: str
    sender_group_id: str | None
    messaging_service_sid: str | None
    sms: SmsChannelRead
    enabled: bool = Field(description="Whether associates can use the store's number.")
    onboarded_at: datetime | None
    monthly_price: MonthlyPriceRead | None = Field(
        default=None,
        description="What the number costs a month (Twilio's Pricing API); null when unknown.",
    )
    sending: str | None = Field(
        default=None,
        description="Null when the store can send. For a US store whose Messaging Service has "
        "no verified A2P 10DLC campaign yet: that sending waits on the registration (the "
        "number is ready; its status shows `registration_pending`).",
    )


class SenderGroupWrite(StrictBody):
    name: Annotated[str, Text(column_length(SenderGroup.name))] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return require_not_blank(value, "name").strip()

    waba_id: WabaId | None = Field(
        default=None,
        pattern=r"^[0-9]{5,32}$",
        description="WhatsApp Business Account inherited by the group's stores.",
    )


class SenderGroupRead(BaseModel):
    id: str
    name: str
    waba_id: str | None
    messaging_service_sid: str
    created_at: datetime
    updated_at: datetime


def onboarding_read(row: StoreOnboarding) -> StoreOnboardingRead:
    return read_from(
        StoreOnboardingRead,
        row,
        phone_number_sid=row.number_sid,
        monthly_price=stored_price(row.monthly_price, row.price_unit),
        sms=SmsChannelRead(status="onboarded" if row.status == "onboarded" else "pending"),
    )


def group_read(group: SenderGroup) -> SenderGroupRead:
    return read_from(SenderGroupRead, group)
