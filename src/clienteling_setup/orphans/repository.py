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
* it was not released since it was listed (the ledger has its release).

Since the claims are read after the listing was written, a purchase the listing saw was
claimed before it was listed: the only way to see it unclaimed is a claim deleted since,
which happens only with the number's release (recorded in the ledger, excluded here) or with a
purchase Twilio refused (nothing was bought).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import aliased

from clienteling_setup.db.repository import TenantScoped
from clienteling_setup.jobs.models import DONE, OnboardingJobItem
from clienteling_setup.ledger.models import NUMBER_BOUGHT, NUMBER_RELEASED, LedgerEntry
from clienteling_setup.numbers.models import NumberClaim, OwnedNumberRecord
from clienteling_setup.offboarding.models import IN_PROGRESS, StoreOffboarding


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


def _released(tenant_id: str, sid: Any) -> ColumnElement[bool]:
    return (
        select(LedgerEntry.sid)
        .where(
            LedgerEntry.tenant_id == tenant_id,
            LedgerEntry.sid == sid,
            LedgerEntry.action == NUMBER_RELEASED,
        )
        .exists()
    )


def _held(tenant_id: str, phone_number: Any) -> ColumnElement[bool]:
    """A claim, an offboarding under way or a job item still working names the number."""
    claimed = (
        select(NumberClaim.phone_number)
        .where(NumberClaim.tenant_id == tenant_id, NumberClaim.phone_number == phone_number)
        .exists()
    )
    offboarding = (
        select(StoreOffboarding.store_id)
        .where(
            StoreOffboarding.tenant_id == tenant_id,
            StoreOffboarding.status == IN_PROGRESS,
            or_(
                StoreOffboarding.phone_number == phone_number,
                StoreOffboarding.whatsapp_number == phone_number,
            ),
        )
        .exists()
    )
    job_item = (
        select(OnboardingJobItem.store_id)
        .where(
            OnboardingJobItem.tenant_id == tenant_id,
            OnboardingJobItem.state != DONE,
            OnboardingJobItem.phone_number == phone_number,
        )
        .exists()
    )
    return or_(claimed, offboarding, job_item)


def owned_condition(tenant_id: str) -> ColumnElement[bool]:
    """A record of the tenant's that is still owned (not released since it was listed)."""
    record = OwnedNumberRecord
    return and_(record.tenant_id == tenant_id, ~_released(tenant_id, record.number_sid))


def orphan_condition(tenant_id: str) -> ColumnElement[bool]:
    """An owned record that nothing holds: an orphan (see the module's docstring)."""
    return and_(owned_condition(tenant_id), ~_held(tenant_id, OwnedNumberRecord.phone_number))


def count_query(condition: ColumnElement[bool]) -> Any:
    """A scalar subquery counting the records that meet `condition` (for one query with
    other figures, as the status fingerprint)."""
    return select(func.count()).select_from(OwnedNumberRecord).where(condition).scalar_subquery()


class OrphanRepository(TenantScoped):
    def owned_count(self) -> int:
        return int(self.session.scalar(select(count_query(owned_condition(self.tenant_id)))) or 0)

    def orphans(self, number_sid: str | None = None) -> list[Orphan]:
        """Every orphan (or the one of `number_sid`), by phone number, with its monthly price
        where one is known."""
        record = OwnedNumberRecord
        bought = aliased(LedgerEntry)
        from_ledger = bought.monthly_price.is_not(None)
        query = (
            select(
                record.number_sid,
                record.phone_number,
                record.iso_country,
                record.number_type,
                record.friendly_name,
                case((from_ledger, bought.monthly_price), else_=record.monthly_price),
                case((from_ledger, bought.price_unit), else_=record.price_unit),
            )
            .outerjoin(
                bought,
                and_(
                    bought.tenant_id == record.tenant_id,
                    bought.sid == record.number_sid,
                    bought.action == NUMBER_BOUGHT,
                ),
            )
            .where(orphan_condition(self.tenant_id))
            .order_by(record.phone_number)
        )
        if number_sid is not None:
            query = query.where(record.number_sid == number_sid)
        return [Orphan(*row) for row in self.session.execute(query)]

    def orphan(self, number_sid: str) -> Orphan | None:
        return next(iter(self.orphans(number_sid)), None)

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
                OnboardingJobItem.state != DONE,
                OnboardingJobItem.phone_number == phone_number,
            )
        ).first()
        if item is not None:
            return f"onboarding job {item[0]}, which is onboarding store '{item[1]}' with it"
        return None
