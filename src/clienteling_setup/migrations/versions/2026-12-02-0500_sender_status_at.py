"""whatsapp senders remember Twilio's time of the last status callback applied

Revision ID: 8d3f6a1c2e57
Revises: 7d3a91c4e2b8
Create Date: 2026-12-02 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from clienteling_setup.db.base import UTCDateTime

revision = "8d3f6a1c2e57"
down_revision = "7d3a91c4e2b8"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("whatsapp_senders") as batch:
        batch.add_column(sa.Column("status_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("whatsapp_senders") as batch:
        batch.drop_column("status_at")
