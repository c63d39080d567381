"""lease heartbeat: a lease whose holder stopped heartbeating is taken over

Revision ID: 7d3a91c4e2b8
Revises: 7d3f1a2b9c10
Create Date: 2026-12-02 04:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from clienteling_setup.db.base import UTCDateTime

revision = "7d3a91c4e2b8"
down_revision = "7d3f1a2b9c10"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: a lease written before heartbeats (by a process still running the old code)
    # is taken over only when it expires, as that code expects.
    with op.batch_alter_table("leases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("leases", schema=None) as batch_op:
        batch_op.drop_column("heartbeat_at")
