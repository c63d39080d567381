from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clienteling_setup.db.base import Base, TenantOwned, Timestamps


class BundleRecord(Timestamps, TenantOwned):
    """A regulatory bundle of the tenant's subaccount, as last synchronised from Twilio."""

    __tablename__ = "regulatory_bundles"

    sid: Mapped[str] = mapped_column(String(34), primary_key=True)
    iso_country: Mapped[str | None] = mapped_column(String(2), default=None, index=True)
    # The number type the bundle's regulation is for (local, mobile, ...), when known.
    number_type: Mapped[str | None] = mapped_column(String(20), default=None)
    friendly_name: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(40))
    failure_reason: Mapped[str | None] = mapped_column(Text, default=None)
    address_sid: Mapped[str | None] = mapped_column(String(34), default=None)
    documents: Mapped[list[dict[str, str | None]]] = mapped_column(JSON, default=list)
    synced_at: Mapped[datetime | None] = mapped_column(default=None)


class TrustProductRecord(Timestamps, TenantOwned):
    """A trust product (e.g. US A2P profile) of the tenant, as last synchronised."""

    __tablename__ = "trust_products"

    sid: Mapped[str] = mapped_column(String(34), primary_key=True)
    friendly_name: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(40))
    policy_sid: Mapped[str | None] = mapped_column(String(34), default=None)
    documents: Mapped[list[dict[str, str | None]]] = mapped_column(JSON, default=list)
    synced_at: Mapped[datetime | None] = mapped_column(default=None)


class CountryRequirement(Base):
    """A country's bundle requirement as Twilio's Regulations API last answered it.

    Written by `sync` (global, not per tenant); read by the status view and onboarding's bundle
    check, which fall back to the packaged rules table for a country without a row, or whose
    row was asked for another SMS number type than the table's current one.
    """

    __tablename__ = "country_requirements"

    country_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    number_type: Mapped[str] = mapped_column(String(20))
    bundle_required: Mapped[bool]
    refreshed_at: Mapped[datetime]


class RegulationsRefresh(Base):
    """When Twilio's regulations were last refreshed into ``country_requirements`` (one row).

    In the database rather than in a process, so the hourly bound holds across server
    processes, `clienteling-setup sync` runs and restarts (`sync.refresh_regulations_once`).
    """

    __tablename__ = "regulations_refreshes"

    #: Always "twilio": the regulations are Twilio-wide.
    scope: Mapped[str] = mapped_column(String(20), primary_key=True)
    refreshed_at: Mapped[datetime]
