"""The status read model's own table: each store's serialised entry (`status.fragments`)."""

from __future__ import annotations

from sqlalchemy import Boolean, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from clienteling_setup.db.base import TenantOwned


class StoreFragment(TenantOwned):
    """A store's entry of the status document's `stores[]`, serialised (orjson), with what the
    country summaries count: its country and whether it is onboarded for SMS."""

    __tablename__ = "status_store_fragments"
    # The country summaries' counts read this index alone, not the entries beside it.
    __table_args__ = (
        Index("ix_status_store_fragments_counts", "tenant_id", "country_code", "sms_onboarded"),
    )

    store_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    country_code: Mapped[str] = mapped_column(String(2))
    sms_onboarded: Mapped[bool] = mapped_column(Boolean)
    fragment: Mapped[bytes] = mapped_column(LargeBinary)
