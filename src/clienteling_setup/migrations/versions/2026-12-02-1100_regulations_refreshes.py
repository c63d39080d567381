"""regulations refreshes: when Twilio's regulations were last read, so a pass reads them hourly

Revision ID: 5c2f8e1a7b93
Revises: 5c2e9a7b1d48
Create Date: 2026-12-02 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from clienteling_setup.db.base import UTCDateTime

revision = "5c2f8e1a7b93"
down_revision = "5c2e9a7b1d48"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "regulations_refreshes",
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("refreshed_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope"),
    )


def downgrade() -> None:
    op.drop_table("regulations_refreshes")
