"""What the registry of claimed numbers tells a caller who lost the race for a number, or
whose store's numbers an offboarding still holds."""

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


def refuse_while_offboarding(uow: UnitOfWork, store_id: str) -> None:
    """A store being offboarded keeps its claims until its numbers are released or kept:
    nothing may onboard it again before that offboarding is finished."""
    if uow.offboardings.in_progress(store_id) is not None:
        raise errors.Conflict(
            f"Store '{store_id}' is being offboarded. Repeat POST /clienteling/stores/"
            f"{store_id}/offboard to finish it (reconciliation also does), then onboard it again."
        )
