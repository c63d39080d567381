"""bulk onboarding jobs: jobs, one item per store, each tenant's shared Twilio budget

Revision ID: 7d3f1a9c5e20
Revises: 7c3f1e9a2b58
Create Date: 2026-12-02 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from clienteling_setup.db.base import UTCDateTime

revision = "7d3f1a9c5e20"
down_revision = "7c3f1e9a2b58"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "onboarding_jobs",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("selection", sa.JSON(), nullable=False),
        sa.Column("enable", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_onboarding_jobs")),
    )
    op.create_index("ix_onboarding_jobs_status", "onboarding_jobs", ["status"], unique=False)
    op.create_table(
        "onboarding_job_items",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("job_id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=128), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("phone_number", sa.String(length=20), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=True),
        sa.Column("heartbeat_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("not_before", UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint(
            "tenant_id", "job_id", "store_id", name=op.f("pk_onboarding_job_items")
        ),
    )
    op.create_index(
        "ix_onboarding_job_items_claim",
        "onboarding_job_items",
        ["state", "tenant_id", "job_id", "position"],
        unique=False,
    )
    op.create_table(
        "job_budgets",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("successes", sa.Integer(), nullable=False),
        sa.Column("backoff_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("throttled_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_job_budgets")),
    )


def downgrade() -> None:
    op.drop_table("job_budgets")
    op.drop_index("ix_onboarding_job_items_claim", table_name="onboarding_job_items")
    op.drop_table("onboarding_job_items")
    op.drop_index("ix_onboarding_jobs_status", table_name="onboarding_jobs")
    op.drop_table("onboarding_jobs")
