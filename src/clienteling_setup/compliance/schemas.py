"""Response schemas of the list operations (`XRead`, like every answer of the API)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from clienteling_setup.compliance.lists import ListedBundle
from clienteling_setup.ledger.schemas import MonthlyPriceRead
from clienteling_setup.schemas import read_from


class AvailablePhoneNumberRead(BaseModel):
    phone_number: str = Field(examples=["+1234567890"])
    locality: str | None = Field(examples=["Jacksonville"])
    region: str | None = Field(examples=["FL"])
    postal_code: str | None = None
    iso_country: str | None = None
    number_type: str | None = None
    monthly_price: MonthlyPriceRead | None = Field(
        default=None,
        description="What the number would cost a month (Twilio's Pricing API); null when "
        "the price is unknown now.",
        examples=[{"amount": "1.15", "currency": "USD"}],
    )


class AddressRead(BaseModel):
    sid: str = Field(examples=["AD5e9d0932167fd19bfef4000e0fb15e15"])
    friendly_name: str | None = Field(examples=["Main Office"])
    street: str | None = Field(examples=["123 Main St"])
    street_secondary: str | None = Field(examples=["Suite 100"])
    city: str | None = Field(examples=["San Francisco"])
    region: str | None = Field(examples=["CA"])
    postal_code: str | None = Field(examples=["94105"])
    iso_country: str = Field(examples=["US"])


class RegulatoryBundleRead(BaseModel):
    sid: str = Field(examples=["BU5e9d0932167fd19bfef4000e0fb15e15"])
    friendly_name: str = Field(examples=["Germany Bundle"])
    address_sid: str | None = Field(examples=["AD5e9d0932167fd19bfef4000e0fb15e15"])
    status: str | None = None
    iso_country: str | None = None
    number_type: str | None = None


class TrustProductRead(BaseModel):
    sid: str = Field(examples=["BU5e9d0932167fd19bfef4000e0fb15e15"])
    friendly_name: str = Field(examples=["My Trust Product"])
    status: str | None = None


def bundle_read(listed: ListedBundle) -> RegulatoryBundleRead:
    return read_from(
        RegulatoryBundleRead,
        listed.bundle,
        address_sid=listed.address_sid,
        iso_country=listed.iso_country,
    )
