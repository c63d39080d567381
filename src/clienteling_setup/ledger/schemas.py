"""The ledger as the API answers it, and the monthly price every answer that shows one uses."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from clienteling_setup.ledger.models import LedgerEntry
from clienteling_setup.providers.messaging import MonthlyPrice
from clienteling_setup.schemas import read_from

Action = Literal["number_bought", "number_released"]


class MonthlyPriceRead(BaseModel):
    """What something costs a month, as Twilio's Pricing API states it."""

    amount: str = Field(description="A decimal amount, as Twilio writes it.", examples=["1.15"])
    currency: str = Field(description="ISO 4217, upper-case.", examples=["USD"])


def price_read(price: MonthlyPrice | None) -> MonthlyPriceRead | None:
    return None if price is None else MonthlyPriceRead(amount=price.amount, currency=price.currency)


def stored_price(amount: str | None, currency: str | None) -> MonthlyPriceRead | None:
    """A price kept in two columns (amount, currency), as answers show it."""
    if amount is None or currency is None:
        return None
    return MonthlyPriceRead(amount=amount, currency=currency)


class LedgerEntryRead(BaseModel):
    """One Twilio action that started or stopped a monthly cost. Entries are never changed."""

    entry_id: str = Field(description="The entry's identifier.")
    recorded_at: datetime = Field(description="When the action was recorded (UTC).")
    action: Action = Field(description="number_bought starts a cost; number_released stops it.")
    store_id: str | None = Field(description="The store the number was for, if any.")
    phone_number: str | None = Field(description="The number (E.164).")
    number_sid: str = Field(description="Twilio's SID of the number (PN...).")
    account_sid: str = Field(description="The tenant's Twilio subaccount.")
    actor: str = Field(
        description="Who asked: the bearer token's subject, or the command that did the work."
    )
    request_id: str | None = Field(description="The id of the request that asked, if any.")
    monthly_price: MonthlyPriceRead | None = Field(
        description="What the number costs a month (null when Twilio's price was unknown)."
    )
    reason: str | None = Field(
        description="Why: sms onboarding, whatsapp onboarding, offboarding, closed, orphan..."
    )


class LedgerPage(BaseModel):
    items: list[LedgerEntryRead] = Field(description="Entries, oldest first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


#: The CSV export's columns: the JSON fields, the price as two columns.
CSV_COLUMNS = (
    "entry_id",
    "recorded_at",
    "action",
    "store_id",
    "phone_number",
    "number_sid",
    "account_sid",
    "actor",
    "request_id",
    "monthly_price_amount",
    "monthly_price_currency",
    "reason",
)


def entry_read(entry: LedgerEntry) -> LedgerEntryRead:
    return read_from(
        LedgerEntryRead,
        entry,
        number_sid=entry.sid,
        monthly_price=stored_price(entry.monthly_price, entry.price_unit),
    )


def csv_row(entry: LedgerEntryRead) -> list[str]:
    """The entry's CSV line, each field written as in JSON (an empty cell for null)."""
    data: dict[str, Any] = entry.model_dump(mode="json")
    price = data.pop("monthly_price") or {}
    data["monthly_price_amount"] = price.get("amount")
    data["monthly_price_currency"] = price.get("currency")
    return ["" if data[column] is None else str(data[column]) for column in CSV_COLUMNS]
