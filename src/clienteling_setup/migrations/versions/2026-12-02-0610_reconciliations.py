"""when reconciliation last succeeded for each tenant (the lag in /metrics)

Revision ID: 3f7a1c9e5b20
Revises: 8e1b4c6d2f03
Create Date: 2026-12-02 06:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from clienteling_setup.db.base import UTCDateTime

revision = "3f7a1c9e5b20"
down_revision = "8e1b4c6d2f03"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reconciliations",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("succeeded_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_reconciliations")),
    )


def downgrade() -> None:
    op.drop_table("reconciliations")
