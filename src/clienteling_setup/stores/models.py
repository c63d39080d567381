from __future__ import annotations

from sqlalchemy import Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from clienteling_setup.db.base import TenantOwned, Timestamps


class Store(Timestamps, TenantOwned):
    """The store directory: where a store is and its own phone line (calls forward to it)."""

    __tablename__ = "stores"
    __table_args__ = (Index("ix_stores_tenant_updated", "tenant_id", "updated_at"),)

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    country_code: Mapped[str] = mapped_column(String(2), index=True)
    region: Mapped[str | None] = mapped_column(String(100), default=None)
    locality: Mapped[str | None] = mapped_column(String(100), default=None)
    postal_code: Mapped[str | None] = mapped_column(String(20), default=None)
    phone: Mapped[str | None] = mapped_column(String(20), default=None)
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
