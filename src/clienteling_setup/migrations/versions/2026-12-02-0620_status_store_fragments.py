"""status_store_fragments: each store's serialised entry of the onboarding status

Revision ID: 7c3f1e9a2b58
Revises: 3f7a1c9e5b20
Create Date: 2026-12-02 06:20:00

Starts empty: until reconciliation (`clienteling-setup sync`, or the service's periodic pass)
has filled a tenant's entries (`status.fragments.repair`), its status is built from the rows,
as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "7c3f1e9a2b58"
down_revision = "3f7a1c9e5b20"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "status_store_fragments",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("store_id", sa.String(length=128), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("sms_onboarded", sa.Boolean(), nullable=False),
        sa.Column("fragment", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "store_id", name=op.f("pk_status_store_fragments")),
    )
    op.create_index(
        "ix_status_store_fragments_counts",
        "status_store_fragments",
        ["tenant_id", "country_code", "sms_onboarded"],
    )


def downgrade() -> None:
    op.drop_index("ix_status_store_fragments_counts", table_name="status_store_fragments")
    op.drop_table("status_store_fragments")
