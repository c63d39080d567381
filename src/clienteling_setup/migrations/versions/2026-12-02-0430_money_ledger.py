"""the money ledger: one row per Twilio action that starts or stops a cost

Revision ID: 7d3f1a2b9c10
Revises: 5b0e2c7a9d41
Create Date: 2026-12-02 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from clienteling_setup.db.base import UTCDateTime

revision = "7d3f1a2b9c10"
down_revision = "5b0e2c7a9d41"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("entry_id", sa.String(length=32), nullable=False),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("store_id", sa.String(length=128), nullable=True),
        sa.Column("phone_number", sa.String(length=20), nullable=True),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("monthly_price", sa.String(length=16), nullable=True),
        sa.Column("price_unit", sa.String(length=3), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "sid", "action", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_ledger_entries_entry_id")),
    )
    op.create_index(
        "ix_ledger_entries_order",
        "ledger_entries",
        ["tenant_id", "recorded_at", "entry_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_entries_order", table_name="ledger_entries")
    op.drop_table("ledger_entries")
