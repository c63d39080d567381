from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clienteling_setup.db.base import RequestedBy, TenantOwned, Timestamps


class SenderGroup(Timestamps, TenantOwned):
    """Stores that share one Messaging Service (and WhatsApp business account)."""

    __tablename__ = "sender_groups"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    waba_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # None while the group is claimed and its Messaging Service not yet recorded.
    messaging_service_sid: Mapped[str | None] = mapped_column(String(34), default=None)


class StoreOnboarding(RequestedBy, Timestamps, TenantOwned):
    """A store's SMS onboarding: the claim on a number and how far the steps got.

    The row is written (committed) before any money is spent, so a crash at any later point
    leaves a record that a retry or `sync` resumes. `step` is the last step known done.
    """

    __tablename__ = "store_onboardings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "phone_number"),
        Index("ix_store_onboardings_tenant_updated", "tenant_id", "updated_at"),
    )

    store_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    phone_number: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(32), default="dedicated")
    sender_group_id: Mapped[str | None] = mapped_column(String(128), default=None)
    bundle_sid: Mapped[str | None] = mapped_column(String(34), default=None)
    address_sid: Mapped[str | None] = mapped_column(String(34), default=None)
    already_purchased: Mapped[bool] = mapped_column(Boolean, default=False)
    messaging_service_sid: Mapped[str | None] = mapped_column(String(34), default=None)
    number_sid: Mapped[str | None] = mapped_column(String(34), default=None)
    #: What the number costs a month (Twilio's Pricing API when it became owned; null when
    #: the price was unknown then).
    monthly_price: Mapped[str | None] = mapped_column(String(16), default=None)
    price_unit: Mapped[str | None] = mapped_column(String(3), default=None)
    step: Mapped[str] = mapped_column(String(32), default="claimed")
    status: Mapped[str] = mapped_column(String(32), default="in_progress")
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    #: When the last error happened, and the id of the request that met it (null for `sync`).
    last_error_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error_request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    onboarded_at: Mapped[datetime | None] = mapped_column(default=None)
