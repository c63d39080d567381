from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clienteling_setup.db.base import RequestedBy, TenantOwned, Timestamps


class BusinessProfile(Timestamps, TenantOwned):
    """The retailer's business profile for US A2P 10DLC. `details` holds what is not
    sensitive; the registration number and the authorized representative are in
    `secrets_encrypted` (JSON, encrypted like the Twilio tokens). `version` grows with each
    PUT, so the registration knows what Twilio has not seen yet."""

    __tablename__ = "business_profiles"

    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    secrets_encrypted: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)


class A2PRegistration(RequestedBy, Timestamps, TenantOwned):
    """The registration workflow's claim and record: each Twilio resource's SID once created
    (so a retry adopts it) and each stage's last known Twilio status and failure."""

    __tablename__ = "a2p_registrations"

    #: The business profile version last sent to Twilio (0: none yet).
    profile_version: Mapped[int] = mapped_column(Integer, default=0)
    address_sid: Mapped[str | None] = mapped_column(String(34), default=None)
    business_user_sid: Mapped[str | None] = mapped_column(String(34), default=None)
    representative_user_sid: Mapped[str | None] = mapped_column(String(34), default=None)
    address_document_sid: Mapped[str | None] = mapped_column(String(34), default=None)
    customer_profile_sid: Mapped[str | None] = mapped_column(String(34), default=None)
    customer_profile_status: Mapped[str | None] = mapped_column(String(32), default=None)
    customer_profile_failure: Mapped[str | None] = mapped_column(Text, default=None)
    a2p_user_sid: Mapped[str | None] = mapped_column(String(34), default=None)
    trust_product_sid: Mapped[str | None] = mapped_column(String(34), default=None)
    trust_product_status: Mapped[str | None] = mapped_column(String(32), default=None)
    trust_product_failure: Mapped[str | None] = mapped_column(Text, default=None)
    brand_sid: Mapped[str | None] = mapped_column(String(34), default=None)
    brand_status: Mapped[str | None] = mapped_column(String(32), default=None)
    brand_failure: Mapped[str | None] = mapped_column(Text, default=None)
    #: The profile version the brand was last (re)submitted with.
    brand_version: Mapped[int] = mapped_column(Integer, default=0)
    low_volume: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)


class A2PCampaignRecord(Timestamps, TenantOwned):
    """The campaign of one Messaging Service (the tenant's, or a sender group's)."""

    __tablename__ = "a2p_campaigns"

    messaging_service_sid: Mapped[str] = mapped_column(String(34), primary_key=True)
    sender_group_id: Mapped[str | None] = mapped_column(String(128), default=None)
    campaign_sid: Mapped[str | None] = mapped_column(String(34), default=None)
    status: Mapped[str | None] = mapped_column(String(32), default=None)
    usecase: Mapped[str | None] = mapped_column(String(64), default=None)
    errors: Mapped[str | None] = mapped_column(Text, default=None)
    #: The profile version the campaign was last (re)submitted with.
    version: Mapped[int] = mapped_column(Integer, default=0)
