from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clienteling_setup.db.base import TenantOwned, Timestamps

IN_PROGRESS = "in_progress"
OFFBOARDED = "offboarded"


class StoreOffboarding(Timestamps, TenantOwned):
    """A store's offboarding: what it takes down, fixed when it is claimed, and the steps done.

    The row is committed (under the store's lease, the one onboarding holds) before Twilio is
    called, with every SID the steps need, so a crash at any later point leaves a record that
    the same request, or `sync`, finishes. One row per store: the latest offboarding (a new one
    replaces a finished one once the store was onboarded again).
    """

    __tablename__ = "store_offboardings"
    __table_args__ = (Index("ix_store_offboardings_tenant_updated", "tenant_id", "updated_at"),)

    store_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    channels: Mapped[list[str]] = mapped_column(JSON)
    release_number: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(20), default=IN_PROGRESS)
    # The SMS number (the onboarding's, or one kept by an earlier offboarding), if taken down.
    phone_number: Mapped[str | None] = mapped_column(String(20), default=None)
    number_sid: Mapped[str | None] = mapped_column(String(34), default=None)
    messaging_service_sid: Mapped[str | None] = mapped_column(String(34), default=None)
    # The WhatsApp sender (whatsapp:+E164) to delete, and a dedicated WhatsApp number.
    sender_id: Mapped[str | None] = mapped_column(String(40), default=None)
    sender_sid: Mapped[str | None] = mapped_column(String(34), default=None)
    whatsapp_number: Mapped[str | None] = mapped_column(String(20), default=None)
    whatsapp_number_sid: Mapped[str | None] = mapped_column(String(34), default=None)
    # [{"step": name, "at": ISO time, ...}] in the order they were done.
    steps: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # Who asked (the ledger names them for each release, even one finished by `sync`), and why.
    actor: Mapped[str] = mapped_column(String(255), default="")
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    reason: Mapped[str] = mapped_column(String(32), default="offboarding")
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)

    def done(self, step: str) -> bool:
        return any(entry["step"] == step for entry in self.steps)
