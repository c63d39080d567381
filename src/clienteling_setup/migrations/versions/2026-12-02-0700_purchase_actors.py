"""onboardings, WhatsApp senders and onboarding jobs name who asked, for the ledger's purchases;
onboardings keep their number's monthly price

Revision ID: 3b9d2e7f4a61
Revises: 7d3f1a9c5e20
Create Date: 2026-12-02 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "3b9d2e7f4a61"
down_revision = "7d3f1a9c5e20"
branch_labels = None
depends_on = None

TABLES = ("store_onboardings", "whatsapp_senders", "onboarding_jobs")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("actor", sa.String(length=255), nullable=False, server_default="")
            )
            batch_op.add_column(sa.Column("request_id", sa.String(length=64), nullable=True))
    with op.batch_alter_table("store_onboardings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("monthly_price", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("price_unit", sa.String(length=3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("store_onboardings", schema=None) as batch_op:
        batch_op.drop_column("price_unit")
        batch_op.drop_column("monthly_price")
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("request_id")
            batch_op.drop_column("actor")
