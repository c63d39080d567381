"""channel last errors: when a store's onboarding or WhatsApp registration last failed, and
under which request

Revision ID: 5d2c8f1a7e94
Revises: 5c2f8e1a7b93
Create Date: 2026-12-02 11:00:00

The status document shows each channel's last error as {message, request_id, at}. The stored
entries (`status_store_fragments`) are emptied: they lack the new fields, and until
reconciliation refills them (`status.fragments.repair`) the status is built from the rows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "5d2c8f1a7e94"
down_revision = "5c2f8e1a7b93"
branch_labels = None
depends_on = None

_TABLES = ("store_onboardings", "whatsapp_senders")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True))
            batch.add_column(
                sa.Column("last_error_request_id", sa.String(length=64), nullable=True)
            )
    op.execute("DELETE FROM status_store_fragments")


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("last_error_request_id")
            batch.drop_column("last_error_at")
    op.execute("DELETE FROM status_store_fragments")
