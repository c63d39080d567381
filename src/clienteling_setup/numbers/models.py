from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
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
    """

    __tablename__ = "number_claims"

    phone_number: Mapped[str] = mapped_column(String(20), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def describe(self) -> str:
        """`store 'x'` or `store 'x' (whatsapp)`: who holds the number, for a 409."""
        suffix = f" ({self.channel})" if self.channel != SMS else ""
        return f"store '{self.store_id}'{suffix}"
