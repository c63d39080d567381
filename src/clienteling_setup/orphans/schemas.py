from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from clienteling_setup.ledger.schemas import MonthlyPriceRead, stored_price
from clienteling_setup.numbers.models import NumberRelease
from clienteling_setup.schemas import read_from


class NumberReleaseRead(BaseModel):
    number_sid: str = Field(examples=["PN0123456789abcdef0123456789abcdef"])
    phone_number: str = Field(examples=["+12125550100"])
    country_code: str | None = Field(description="The number's ISO country.")
    status: str = Field(description="released.")
    monthly_price: MonthlyPriceRead | None = Field(
        description="What stopped costing each month (from the ledger's purchase entry, else "
        "Twilio's Pricing API); null when not known."
    )
    released_at: datetime | None
    requested_by: str = Field(description="The token's subject (or the command) that asked.")


def number_release_read(row: NumberRelease) -> NumberReleaseRead:
    return read_from(
        NumberReleaseRead,
        row,
        country_code=row.iso_country,
        monthly_price=stored_price(row.monthly_price, row.price_unit),
        requested_by=row.actor,
    )
