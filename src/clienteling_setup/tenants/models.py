from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
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


class TenantDisabling(Timestamps, TenantOwned):
    """Disabling a retailer: taking down everything it has in Twilio, then closing its
    subaccount. Claimed (committed) before anything is taken down; each stage is recorded as
    it ends, so a crash is resumed where it stopped (`sync`, or a repeated DELETE). Kept once
    finished, as the status's record of it, until the tenant is enabled again."""

    __tablename__ = "tenant_disablings"

    status: Mapped[str] = mapped_column(String(20), default="in_progress")  # or "disabled"
    stage: Mapped[str] = mapped_column(String(40), default="claimed")  # the last stage done
    subaccount_sid: Mapped[str] = mapped_column(String(34))
    stores_total: Mapped[int] = mapped_column(Integer, default=0)
    stores_offboarded: Mapped[int] = mapped_column(Integer, default=0)
    numbers_released: Mapped[int] = mapped_column(Integer, default=0)
    # Who asked (the ledger names them for each release), even when sync finishes it.
    actor: Mapped[str] = mapped_column(String(255), default="")
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class Reconciliation(TenantOwned):
    """When reconciliation last finished a pass over the tenant without error (the lag in
    `GET /metrics`). Kept apart from Tenant, whose `updated_at` the status cache watches."""

    __tablename__ = "reconciliations"

    succeeded_at: Mapped[datetime]
