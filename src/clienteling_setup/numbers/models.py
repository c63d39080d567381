from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clienteling_setup.db.base import TenantOwned, utcnow

SMS = "sms"
WHATSAPP = "whatsapp"


class NumberClaim(TenantOwned):
    """One phone number of a tenant, claimed by one store for one channel.

    The primary key (tenant, number) is the registry's whole point: an SMS onboarding and a
    WhatsApp registration that want the same number race on this row, in the database, before
    either spends money; the loser is told which store holds it. The row is committed in the
    same transaction as the workflow's own row (the store's onboarding or sender) and deleted
    with it when Twilio definitely refused the purchase.

    The release of an orphan number claims it too, on channel `RELEASING` with the number's
    SID in `store_id`, so that no store can claim a number while it leaves the account.
    """

    __tablename__ = "number_claims"
    __table_args__ = (Index("ix_number_claims_tenant_created", "tenant_id", "created_at"),)

    phone_number: Mapped[str] = mapped_column(String(20), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def describe(self) -> str:
        """`store 'x'` or `store 'x' (whatsapp)`: who holds the number, for a 409."""
        if self.channel == RELEASING:
            return f"the release of orphan number {self.store_id} (it is leaving the account)"
        suffix = f" ({self.channel})" if self.channel != SMS else ""
        return f"store '{self.store_id}'{suffix}"


#: The channel of a claim that holds a number for its release as an orphan
#: (`orphans.service.release_orphan`): while it is there, no store can claim the number.
RELEASING = "releasing"
#: The channels on which a store claims a number (a releasing claim names no store).
STORE_CHANNELS = (SMS, WHATSAPP)


class OwnedNumberRecord(TenantOwned):
    """A number the tenant's Twilio account owned when reconciliation last listed them (one
    list call per pass). Whether it is an orphan is decided when it is read, against the
    claims of that moment (`orphans.repository`), never stored: a claim made after the list
    was read must count."""

    __tablename__ = "owned_numbers"
    __table_args__ = (Index("ix_owned_numbers_tenant_updated", "tenant_id", "updated_at"),)

    number_sid: Mapped[str] = mapped_column(String(34), primary_key=True)
    phone_number: Mapped[str] = mapped_column(String(20))
    friendly_name: Mapped[str] = mapped_column(String(64), default="")
    iso_country: Mapped[str | None] = mapped_column(String(2), default=None)
    number_type: Mapped[str | None] = mapped_column(String(16), default=None)
    #: The monthly price Twilio's Pricing API gave for its country and type, if read.
    monthly_price: Mapped[str | None] = mapped_column(String(16), default=None)
    price_unit: Mapped[str | None] = mapped_column(String(3), default=None)
    listed_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Moves only when what the record says changed, so an unchanged list writes nothing.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


RELEASE_IN_PROGRESS = "in_progress"
RELEASED = "released"


class NumberRelease(TenantOwned):
    """The release of an orphan number, committed (with a releasing claim on the number)
    before Twilio is asked, so the same request or `sync` finishes it after a crash, and a
    repeated request answers the same."""

    __tablename__ = "number_releases"

    number_sid: Mapped[str] = mapped_column(String(34), primary_key=True)
    phone_number: Mapped[str] = mapped_column(String(20))
    iso_country: Mapped[str | None] = mapped_column(String(2), default=None)
    status: Mapped[str] = mapped_column(String(16), default=RELEASE_IN_PROGRESS)
    actor: Mapped[str] = mapped_column(String(255))
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    monthly_price: Mapped[str | None] = mapped_column(String(16), default=None)
    price_unit: Mapped[str | None] = mapped_column(String(3), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(default=None)
