"""orphan numbers: what each tenant's account owns (as last listed), releases of orphans, and
the indexes the status fingerprint reads them (and claims, offboardings) through

Revision ID: 3e8b6d1f0a47
Revises: 3b9d2e7f4a61
Create Date: 2026-12-02 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from clienteling_setup.db.base import UTCDateTime

revision = "3e8b6d1f0a47"
down_revision = "3b9d2e7f4a61"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "owned_numbers",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("number_sid", sa.String(length=34), nullable=False),
        sa.Column("phone_number", sa.String(length=20), nullable=False),
        sa.Column("friendly_name", sa.String(length=64), nullable=False),
        sa.Column("iso_country", sa.String(length=2), nullable=True),
        sa.Column("number_type", sa.String(length=16), nullable=True),
        sa.Column("monthly_price", sa.String(length=16), nullable=True),
        sa.Column("price_unit", sa.String(length=3), nullable=True),
        sa.Column("listed_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "number_sid", name=op.f("pk_owned_numbers")),
    )
    # The status fingerprint reads (count, newest change) of these per tenant.
    op.create_index("ix_owned_numbers_tenant_updated", "owned_numbers", ["tenant_id", "updated_at"])
    op.create_index("ix_number_claims_tenant_created", "number_claims", ["tenant_id", "created_at"])
    op.create_index(
        "ix_store_offboardings_tenant_updated", "store_offboardings", ["tenant_id", "updated_at"]
    )
    op.create_table(
        "number_releases",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("number_sid", sa.String(length=34), nullable=False),
        sa.Column("phone_number", sa.String(length=20), nullable=False),
        sa.Column("iso_country", sa.String(length=2), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("monthly_price", sa.String(length=16), nullable=True),
        sa.Column("price_unit", sa.String(length=3), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("released_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "number_sid", name=op.f("pk_number_releases")),
    )


def downgrade() -> None:
    op.drop_table("number_releases")
    op.drop_index("ix_store_offboardings_tenant_updated", table_name="store_offboardings")
    op.drop_index("ix_number_claims_tenant_created", table_name="number_claims")
    op.drop_index("ix_owned_numbers_tenant_updated", table_name="owned_numbers")
    op.drop_table("owned_numbers")
