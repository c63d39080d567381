"""number registry across channels; sender groups claimed before their Messaging Service

Revision ID: 5b0e2c7a9d41
Revises: cec4c1c6c9f7
Create Date: 2026-12-02 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from clienteling_setup.db.base import UTCDateTime

revision = "5b0e2c7a9d41"
down_revision = "cec4c1c6c9f7"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "number_claims",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("phone_number", sa.String(length=20), nullable=False),
        sa.Column("store_id", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "phone_number", name=op.f("pk_number_claims")),
    )
    # Every number already claimed: each store's SMS number (unique per tenant already), then
    # each WhatsApp number no SMS claim has (a dedicated one). Data written before the registry
    # may hold one dedicated number on two stores (the race this table closes): the store
    # registered first keeps the claim, the other's next request is told who holds it.
    op.execute(
        "INSERT INTO number_claims (tenant_id, phone_number, store_id, channel, created_at) "
        "SELECT tenant_id, phone_number, store_id, 'sms', created_at FROM store_onboardings"
    )
    op.execute(
        "INSERT INTO number_claims (tenant_id, phone_number, store_id, channel, created_at) "
        "SELECT w.tenant_id, w.phone_number, MIN(w.store_id), 'whatsapp', MIN(w.created_at) "
        "FROM whatsapp_senders w WHERE w.created_at = (SELECT MIN(o.created_at) "
        "FROM whatsapp_senders o WHERE o.tenant_id = w.tenant_id "
        "AND o.phone_number = w.phone_number) AND NOT EXISTS (SELECT 1 FROM number_claims c "
        "WHERE c.tenant_id = w.tenant_id AND c.phone_number = w.phone_number) "
        "GROUP BY w.tenant_id, w.phone_number"
    )
    with op.batch_alter_table("sender_groups", schema=None) as batch_op:
        batch_op.alter_column(
            "messaging_service_sid", existing_type=sa.String(length=34), nullable=True
        )


def downgrade() -> None:
    with op.batch_alter_table("sender_groups", schema=None) as batch_op:
        batch_op.alter_column(
            "messaging_service_sid", existing_type=sa.String(length=34), nullable=False
        )
    op.drop_table("number_claims")
