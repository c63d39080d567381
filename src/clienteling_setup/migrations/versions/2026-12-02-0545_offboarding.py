"""store offboardings and tenant disablings

Revision ID: 7c3f1a2e8b90
Revises: 8d3f6a1c2e57
Create Date: 2026-12-02 05:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from clienteling_setup.db.base import UTCDateTime

revision = "7c3f1a2e8b90"
down_revision = "8d3f6a1c2e57"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "store_offboardings",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("store_id", sa.String(length=128), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("release_number", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("phone_number", sa.String(length=20), nullable=True),
        sa.Column("number_sid", sa.String(length=34), nullable=True),
        sa.Column("messaging_service_sid", sa.String(length=34), nullable=True),
        sa.Column("sender_id", sa.String(length=40), nullable=True),
        sa.Column("sender_sid", sa.String(length=34), nullable=True),
        sa.Column("whatsapp_number", sa.String(length=20), nullable=True),
        sa.Column("whatsapp_number_sid", sa.String(length=34), nullable=True),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "store_id", name=op.f("pk_store_offboardings")),
    )
    op.create_table(
        "tenant_disablings",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("stage", sa.String(length=40), nullable=False),
        sa.Column("subaccount_sid", sa.String(length=34), nullable=False),
        sa.Column("stores_total", sa.Integer(), nullable=False),
        sa.Column("stores_offboarded", sa.Integer(), nullable=False),
        sa.Column("numbers_released", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenant_disablings")),
    )


def downgrade() -> None:
    op.drop_table("tenant_disablings")
    op.drop_table("store_offboardings")
