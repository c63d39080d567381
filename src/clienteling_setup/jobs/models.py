"""Bulk onboarding jobs: the job, one item per store, and each tenant's shared Twilio budget.

Every row lives in the database, not in a process: a job survives restarts, and the workers of
every server process share its items (`repository.JobQueueRepository` claims them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clienteling_setup.db.base import RequestedBy, TenantOwned, Timestamps, utcnow

# Job statuses: items are being worked on; cancelled, the stores under way still finish; done.
RUNNING = "running"
CANCELLING = "cancelling"
CANCELLED = "cancelled"
FINISHED = "finished"

# Item states, and the outcomes of an item that is done.
PENDING = "pending"
CLAIMED = "claimed"
DONE = "done"
ONBOARDED = "onboarded"
ALREADY_ONBOARDED = "already_onboarded"
FAILED = "failed"
ITEM_CANCELLED = "cancelled"
OFFBOARDED = "offboarded"
#: An offboarding job reached a store with nothing (left) to take down on its channels.
NOTHING_TO_OFFBOARD = "nothing_to_offboard"

# What a job does to each store.
ONBOARD = "onboard"
OFFBOARD = "offboard"


class OnboardingJob(RequestedBy, Timestamps, TenantOwned):
    """A bulk onboarding (or offboarding) of many stores: what was asked, and where the job
    stands."""

    __tablename__ = "onboarding_jobs"
    __table_args__ = (Index("ix_onboarding_jobs_status", "status"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: onboard or offboard.
    operation: Mapped[str] = mapped_column(String(16), default=ONBOARD, server_default=ONBOARD)
    #: What the stores are onboarded to; for an offboarding, its channels joined by commas.
    channel: Mapped[str] = mapped_column(String(16))
    #: An offboarding's options, as its request gave them, and who asked (the ledger names
    #: them with each number released): {"channels", "release_number", "actor", "request_id"}.
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    #: How the stores were chosen: {"by": "store_ids" | "country" | "all", "country": ...}.
    selection: Mapped[dict[str, Any]] = mapped_column(JSON)
    enable: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=RUNNING)
    total: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)


class OnboardingJobItem(TenantOwned):
    """One store of a job. `worker` and `heartbeat_at` say who works on it; a claim whose
    heartbeat stopped (its process died) is taken over by another worker."""

    __tablename__ = "onboarding_job_items"
    __table_args__ = (
        Index("ix_onboarding_job_items_claim", "state", "tenant_id", "job_id", "position"),
    )

    job_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    outcome: Mapped[str | None] = mapped_column(String(32), default=None)
    #: The number the job chose (recorded before the onboarding that buys it starts).
    phone_number: Mapped[str | None] = mapped_column(String(20), default=None)
    message: Mapped[str | None] = mapped_column(Text, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(64), default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    not_before: Mapped[datetime | None] = mapped_column(default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class JobBudget(TenantOwned):
    """A tenant's share of Twilio, common to every worker of every process: how many of its
    stores may be onboarded at once, and until when nothing new starts after a 429."""

    __tablename__ = "job_budgets"

    concurrency: Mapped[int] = mapped_column(Integer)
    #: Stores finished since the concurrency last changed (it grows by one per window).
    successes: Mapped[int] = mapped_column(Integer, default=0)
    backoff_until: Mapped[datetime | None] = mapped_column(default=None)
    throttled_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
