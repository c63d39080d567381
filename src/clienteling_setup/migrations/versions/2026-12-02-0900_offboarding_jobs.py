"""offboarding jobs: a job's operation (onboard or offboard) and the offboard options

Revision ID: 8a4e2b7d9c31
Revises: 3e8b6d1f0a47
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "8a4e2b7d9c31"
down_revision = "3e8b6d1f0a47"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("onboarding_jobs") as batch:
        batch.add_column(
            sa.Column("operation", sa.String(length=16), nullable=False, server_default="onboard")
        )
        batch.add_column(sa.Column("options", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("onboarding_jobs") as batch:
        batch.drop_column("options")
        batch.drop_column("operation")
