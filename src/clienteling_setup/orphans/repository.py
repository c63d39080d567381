"""Which owned numbers are orphans, decided in one place for the status, the API and the CLI.

A number the last listing recorded (`numbers.models.OwnedNumberRecord`) is an orphan when, at
the moment of reading:

* no claim in the registry names it: no store's (SMS, or a dedicated WhatsApp number) and no
  release's. Every workflow that buys a number (SMS onboarding, WhatsApp registration, a bulk
  job's store through SMS onboarding) commits its claim *before* the purchase and keeps it
  until the number is released or the purchase definitely refused, so a number bought (or
  being bought) by an attempt in progress is claimed from before Twilio owned it;
* no offboarding under way names it and no job item still working names it (each holds its
  claim too; they are checked as well so that a number they name is never called an orphan);
* it was not released since it was listed: every release is recorded in the ledger by
  `ledger.costs.record_number_released`, which drops the number's record in the same
  transaction, and a listing read before a release never records the number again.

Since the claims are read after the listing was written, a purchase the listing saw was
claimed before it was listed: the only way to see it unclaimed is a claim deleted since,
which happens only with the number's release (its record dropped with it) or with a purchase
Twilio refused (nothing was bought).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from clienteling_setup.db.repository import TenantScoped
from clienteling_setup.jobs.models import CLAIMED, PENDING, OnboardingJobItem
from clienteling_setup.ledger.models import NUMBER_BOUGHT, LedgerEntry
from clienteling_setup.numbers.models import NumberClaim, OwnedNumberRecord
from clienteling_setup.offboarding.models import IN_PROGRESS, StoreOffboarding

#: The states of a job item that is still working (it may name a number it is about to buy).
WORKING = (PENDING, CLAIMED)


@dataclass(frozen=True)
class Orphan:
    number_sid: str
    phone_number: str
    iso_country: str | None
    number_type: str | None
    friendly_name: str
    #: From the ledger's purchase entry when the service bought it, else Twilio's Pricing API.
    monthly_price: str | None
    price_unit: str | None


class OrphanRepository(TenantScoped):
    def owned_count(self) -> int:
        query = select(func.count()).where(OwnedNumberRecord.tenant_id == self.tenant_id)
        return int(self.session.scalar(query.select_from(OwnedNumberRecord)) or 0)

    def orphans(self) -> list[Orphan]:
        """Every orphan, by phone number, with its monthly price
        where one is known. One pass over the records with a key lookup of each one's claim;
        only the few unclaimed ones are then checked against the offboardings and job items
        under way and priced from the ledger: linear in the tenant's numbers."""
        record = OwnedNumberRecord
        claimed = (
            select(NumberClaim.phone_number)
            .where(
                NumberClaim.tenant_id == record.tenant_id,
                NumberClaim.phone_number == record.phone_number,
            )
            .exists()
        )
        query = select(record).where(record.tenant_id == self.tenant_id, ~claimed)
        unclaimed = list(self.session.scalars(query.order_by(record.phone_number)))
        if not unclaimed:
            return []
        held = self._named_under_way()
        unheld = [row for row in unclaimed if row.phone_number not in held]
        bought = self._purchase_prices([row.number_sid for row in unheld])
        return [
            Orphan(
                number_sid=row.number_sid,
                phone_number=row.phone_number,
                iso_country=row.iso_country,
                number_type=row.number_type,
                friendly_name=row.friendly_name,
                monthly_price=bought.get(row.number_sid, (row.monthly_price, row.price_unit))[0],
                price_unit=bought.get(row.number_sid, (row.monthly_price, row.price_unit))[1],
            )
            for row in unheld
        ]

    def _purchase_prices(self, sids: list[str]) -> dict[str, tuple[str | None, str | None]]:
        """The monthly price each of `sids` was bought at, where the ledger has one."""
        entry = LedgerEntry
        prices: dict[str, tuple[str | None, str | None]] = {}
        for start in range(0, len(sids), 500):
            query = select(entry.sid, entry.monthly_price, entry.price_unit).where(
                entry.tenant_id == self.tenant_id,
                entry.action == NUMBER_BOUGHT,
                entry.sid.in_(sids[start : start + 500]),
                entry.monthly_price.is_not(None),
            )
            prices.update(
                {sid: (amount, unit) for sid, amount, unit in self.session.execute(query)}
            )
        return prices

    def _named_under_way(self) -> set[str]:
        """The numbers an offboarding under way or a job item still working names."""
        offboarding = StoreOffboarding
        rows = self.session.execute(
            select(offboarding.phone_number, offboarding.whatsapp_number).where(
                offboarding.tenant_id == self.tenant_id, offboarding.status == IN_PROGRESS
            )
        )
        named = {number for row in rows for number in row if number is not None}
        item = OnboardingJobItem
        named.update(
            number
            for number in self.session.scalars(
                select(item.phone_number).where(
                    item.state.in_(WORKING), item.tenant_id == self.tenant_id
                )
            )
            if number is not None
        )
        return named

    def holder(self, phone_number: str) -> str | None:
        """Who holds the number besides a claim (an offboarding under way, a job item still
        working), in words for a 409; None when neither does."""
        offboarding = self.session.scalar(
            select(StoreOffboarding.store_id).where(
                StoreOffboarding.tenant_id == self.tenant_id,
                StoreOffboarding.status == IN_PROGRESS,
                or_(
                    StoreOffboarding.phone_number == phone_number,
                    StoreOffboarding.whatsapp_number == phone_number,
                ),
            )
        )
        if offboarding is not None:
            return f"the offboarding of store '{offboarding}', which is under way"
        item = self.session.execute(
            select(OnboardingJobItem.job_id, OnboardingJobItem.store_id).where(
                OnboardingJobItem.tenant_id == self.tenant_id,
                OnboardingJobItem.state.in_(WORKING),
                OnboardingJobItem.phone_number == phone_number,
            )
        ).first()
        if item is not None:
            return f"onboarding job {item[0]}, which is onboarding store '{item[1]}' with it"
        return None
