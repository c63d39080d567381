"""What the registry of claimed numbers tells a caller who lost the race for a number."""

from __future__ import annotations

from clienteling_setup import errors
from clienteling_setup.unit_of_work import UnitOfWork


def number_taken(uow: UnitOfWork, phone_number: str) -> errors.Conflict:
    """The 409 for a number another store (or another channel) holds: it names the holder."""
    holder = uow.numbers.holder(phone_number)
    who = holder.describe() if holder is not None else "another store"
    return errors.Conflict(
        f"{phone_number} is already claimed by {who}. "
        "Pick another number from the available-phone-numbers list."
    )
