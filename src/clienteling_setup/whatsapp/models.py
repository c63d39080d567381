from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clienteling_setup.db.base import RequestedBy, TenantOwned, Timestamps


class WhatsAppSenderRecord(RequestedBy, Timestamps, TenantOwned):
    """A store's WhatsApp sender as last seen from Twilio (callbacks and reconciliation)."""

    __tablename__ = "whatsapp_senders"
    __table_args__ = (Index("ix_whatsapp_senders_tenant_updated", "tenant_id", "updated_at"),)

    store_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    phone_number: Mapped[str] = mapped_column(String(20))
    number_sid: Mapped[str | None] = mapped_column(String(34), default=None)
    sender_sid: Mapped[str | None] = mapped_column(String(34), default=None, index=True)
    waba_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(40), default="creating")
    quality_rating: Mapped[str | None] = mapped_column(String(20), default=None)
    messaging_limit: Mapped[str | None] = mapped_column(String(40), default=None)
    offline_reasons: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    #: Twilio's `Timestamp` of the last status callback applied: an older one is refused.
    status_at: Mapped[datetime | None] = mapped_column(default=None)
    profile: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    #: When the last error happened, and the id of the request that met it.
    last_error_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error_request_id: Mapped[str | None] = mapped_column(String(64), default=None)
