from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import delete, select

from clienteling_setup.db.base import ClaimTaken, utcnow
from clienteling_setup.db.repository import TenantScopedRepository
from clienteling_setup.numbers.models import (
    RELEASE_IN_PROGRESS,
    STORE_CHANNELS,
    NumberClaim,
    NumberRelease,
    OwnedNumberRecord,
)


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
        return self._all(NumberClaim.store_id == store_id, NumberClaim.channel.in_(STORE_CHANNELS))

    def stores_holding(self) -> list[str]:
        """The stores that still claim a number, each once, in order."""
        stores = NumberClaim.channel.in_(STORE_CHANNELS)  # not a release's claim
        query = select(NumberClaim.store_id).where(self._mine(stores)).distinct()
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


class OwnedNumberRepository(TenantScopedRepository[OwnedNumberRecord]):
    """What the tenant's account owned at the last listing (`OwnedNumberRecord`)."""

    model = OwnedNumberRecord

    def all(self) -> list[OwnedNumberRecord]:
        return list(self.session.scalars(self._select().order_by(OwnedNumberRecord.phone_number)))

    def record_listing(
        self, listed: Iterable[OwnedNumberRecord], at: datetime, *, released: Collection[str]
    ) -> None:
        """Make the records what the account's list said at `at`: new numbers added, changed
        ones updated, those no longer listed removed. A number `released` already (the list
        was read before its release) is never recorded again."""
        current = {row.number_sid: row for row in self._all()}
        seen = set()
        for number in listed:
            if number.number_sid in released:
                continue
            seen.add(number.number_sid)
            row = current.get(number.number_sid)
            if row is None:
                number.listed_at = number.updated_at = at
                self.add(number)
                continue
            changed = False
            for column in _LISTED:
                value = getattr(number, column)
                if getattr(row, column) != value:
                    setattr(row, column, value)
                    changed = True
            if changed:
                row.listed_at = row.updated_at = at
        for sid, row in current.items():
            if sid not in seen:
                self.delete(row)

    def set_price(self, number_sid: str, amount: str, currency: str) -> None:
        row = self.get(number_sid)
        if row is not None and (row.monthly_price, row.price_unit) != (amount, currency):
            row.monthly_price, row.price_unit = amount, currency
            row.updated_at = utcnow()

    def forget(self, number_sid: str) -> None:
        row = self.get(number_sid)
        if row is not None:
            self.delete(row)


#: The columns a listing sets (the price is read apart, from Twilio's Pricing API).
_LISTED = ("phone_number", "friendly_name", "iso_country", "number_type")


class NumberReleaseRepository(TenantScopedRepository[NumberRelease]):
    """Releases of orphan numbers, under way or done."""

    model = NumberRelease

    def unfinished(self) -> list[NumberRelease]:
        return self._all(NumberRelease.status == RELEASE_IN_PROGRESS)
