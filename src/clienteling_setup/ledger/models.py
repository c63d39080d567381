from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from clienteling_setup.db.base import TenantOwned, utcnow

NUMBER_BOUGHT = "number_bought"
NUMBER_RELEASED = "number_released"
#: Every action the ledger records; each starts or stops a monthly cost.
ACTIONS = (NUMBER_BOUGHT, NUMBER_RELEASED)


class LedgerEntry(TenantOwned):
    """One action that started or stopped a cost. Never updated, never deleted.

    The primary key (tenant, sid, action) is what makes an action recorded exactly once: a
    retried request, a resumed workflow or a concurrent duplicate that records the same
    purchase or release of the same SID finds the row there and writes nothing.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_entries_order", "tenant_id", "recorded_at", "entry_id"),)

    sid: Mapped[str] = mapped_column(String(34), primary_key=True)  # what costs: PN... (a number)
    action: Mapped[str] = mapped_column(String(32), primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(32), unique=True)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    store_id: Mapped[str | None] = mapped_column(String(128), default=None)
    phone_number: Mapped[str | None] = mapped_column(String(20), default=None)
    account_sid: Mapped[str] = mapped_column(String(34))
    actor: Mapped[str] = mapped_column(String(255))
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    monthly_price: Mapped[str | None] = mapped_column(String(16), default=None)  # "1.15"
    price_unit: Mapped[str | None] = mapped_column(String(3), default=None)  # "USD"
    reason: Mapped[str | None] = mapped_column(String(64), default=None)  # onboarding, orphan...
