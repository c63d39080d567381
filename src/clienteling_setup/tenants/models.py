from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clienteling_setup.db.base import Base, TenantOwned, Timestamps


class Tenant(Timestamps, Base):
    """A retailer's clienteling configuration. The row exists once enable succeeded."""

    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    ecom_link: Mapped[str] = mapped_column(Text)
    subaccount_sid: Mapped[str] = mapped_column(String(34))
    subaccount_status: Mapped[str] = mapped_column(String(20), default="active")
    auth_token_encrypted: Mapped[str] = mapped_column(Text)
    messaging_service_sid: Mapped[str] = mapped_column(String(34))
    voice_app_sid: Mapped[str] = mapped_column(String(34))
    voice_app_name: Mapped[str] = mapped_column(String(255))
    onboarded_at: Mapped[datetime | None] = mapped_column(default=None)


class OptInTemplate(Timestamps, TenantOwned):
    """The SMS opt-in disclaimer. Kept apart from Tenant: it may exist before enabling."""

    __tablename__ = "opt_in_templates"

    id: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
