from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select

from clienteling_setup.db.base import ClaimTaken
from clienteling_setup.db.repository import TenantScopedRepository
from clienteling_setup.numbers.models import NumberClaim


class NumberClaimRepository(TenantScopedRepository[NumberClaim]):
    model = NumberClaim

    def holder(self, phone_number: str) -> NumberClaim | None:
        return self.get(phone_number)

    def claim(self, phone_number: str, store_id: str, channel: str) -> NumberClaim:
        """Claim `phone_number` for the store's channel, or keep the claim it already has.
        A claim by anyone else raises ClaimTaken, or IntegrityError at the flush when the
        other claim is committed meanwhile (a race the database decides)."""
        current = self.holder(phone_number)
        if current is not None:
            if (current.store_id, current.channel) == (store_id, channel):
                return current
            raise ClaimTaken(phone_number)
        claim = self.add(NumberClaim(phone_number=phone_number, store_id=store_id, channel=channel))
        self.session.flush()
        return claim

    def release(self, phone_number: str, store_id: str, channel: str) -> None:
        self.session.execute(
            delete(NumberClaim).where(
                self._mine(
                    NumberClaim.phone_number == phone_number,
                    NumberClaim.store_id == store_id,
                    NumberClaim.channel == channel,
                )
            )
        )

    def of_store(self, store_id: str) -> list[NumberClaim]:
        return self._all(NumberClaim.store_id == store_id)

    def stores_holding(self) -> list[str]:
        """The stores that still claim a number, each once, in order."""
        query = select(NumberClaim.store_id).where(self._mine()).distinct()
        return sorted(self.session.scalars(query))

    def claimed_among(self, phone_numbers: Iterable[str]) -> set[str]:
        wanted = list(phone_numbers)
        if not wanted:
            return set()
        return set(
            self.session.scalars(
                select(NumberClaim.phone_number).where(
                    self._mine(NumberClaim.phone_number.in_(wanted))
                )
            )
        )
