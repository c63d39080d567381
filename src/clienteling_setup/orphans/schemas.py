from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from clienteling_setup.numbers.models import NumberRelease
from clienteling_setup.schemas import read_from


class MonthlyCost(BaseModel):
    """What a number (or several) costs a month, as Twilio prices it. (The ledger's branch
    has the same shape as `ledger.schemas.MonthlyPriceRead`: one of them goes at the merge.)"""

    amount: str = Field(examples=["1.15"], description="A decimal amount, as Twilio writes it.")
    currency: str = Field(examples=["USD"], description="ISO 4217, upper case.")


def monthly_cost(amount: str | None, currency: str | None) -> MonthlyCost | None:
    if amount is None or currency is None:
        return None
    return MonthlyCost(amount=amount, currency=currency)


class NumberReleaseRead(BaseModel):
    number_sid: str = Field(examples=["PN0123456789abcdef0123456789abcdef"])
    phone_number: str = Field(examples=["+12125550100"])
    country_code: str | None = Field(description="The number's ISO country.")
    status: str = Field(description="released.")
    monthly_price: MonthlyCost | None = Field(
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
        monthly_price=monthly_cost(row.monthly_price, row.price_unit),
        requested_by=row.actor,
    )
