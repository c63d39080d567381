"""US A2P 10DLC: the business profile, the registration and its campaigns

Revision ID: 5c2e9a7b1d48
Revises: 8a4e2b7d9c31
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from clienteling_setup.db.base import UTCDateTime

revision = "5c2e9a7b1d48"
down_revision = "8a4e2b7d9c31"
branch_labels = None
depends_on = None


def _timestamps() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
    ]


def _sid(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.String(length=34), nullable=True)


def upgrade() -> None:
    op.create_table(
        "business_profiles",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("secrets_encrypted", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_business_profiles")),
    )
    op.create_table(
        "a2p_registrations",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("profile_version", sa.Integer(), nullable=False),
        _sid("address_sid"),
        _sid("business_user_sid"),
        _sid("representative_user_sid"),
        _sid("address_document_sid"),
        _sid("customer_profile_sid"),
        sa.Column("customer_profile_status", sa.String(length=32), nullable=True),
        sa.Column("customer_profile_failure", sa.Text(), nullable=True),
        _sid("a2p_user_sid"),
        _sid("trust_product_sid"),
        sa.Column("trust_product_status", sa.String(length=32), nullable=True),
        sa.Column("trust_product_failure", sa.Text(), nullable=True),
        _sid("brand_sid"),
        sa.Column("brand_status", sa.String(length=32), nullable=True),
        sa.Column("brand_failure", sa.Text(), nullable=True),
        sa.Column("brand_version", sa.Integer(), nullable=False),
        sa.Column("low_volume", sa.Boolean(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_a2p_registrations")),
    )
    op.create_table(
        "a2p_campaigns",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("messaging_service_sid", sa.String(length=34), nullable=False),
        sa.Column("sender_group_id", sa.String(length=128), nullable=True),
        _sid("campaign_sid"),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("usecase", sa.String(length=64), nullable=True),
        sa.Column("errors", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint(
            "tenant_id", "messaging_service_sid", name=op.f("pk_a2p_campaigns")
        ),
    )


def downgrade() -> None:
    op.drop_table("a2p_campaigns")
    op.drop_table("a2p_registrations")
    op.drop_table("business_profiles")
