"""tenant disablings name who asked, for the ledger's releases

Revision ID: 8e1b4c6d2f03
Revises: 7c3f1a2e8b90
Create Date: 2026-12-02 05:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "8e1b4c6d2f03"
down_revision = "7c3f1a2e8b90"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenant_disablings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("actor", sa.String(length=255), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("request_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tenant_disablings", schema=None) as batch_op:
        batch_op.drop_column("request_id")
        batch_op.drop_column("actor")
