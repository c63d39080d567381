"""The jobs' SQL: jobs and their items for the API, claims and the shared budget for workers.

Claims take items with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so the workers of several
processes never wait on, nor take, the same item; SQLite ignores the clause and its writes are
serialised anyway (`BEGIN IMMEDIATE`, see `db.session`). The budget row is locked (`FOR
UPDATE`) by each claim of its tenant, so two workers never both fill the last free place.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, exists, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from clienteling_setup.db.base import utcnow
from clienteling_setup.db.repository import TenantScopedRepository
from clienteling_setup.jobs.models import (
    CANCELLED,
    CANCELLING,
    CLAIMED,
    DONE,
    FINISHED,
    ITEM_CANCELLED,
    PENDING,
    RUNNING,
    JobBudget,
    OnboardingJob,
    OnboardingJobItem,
)
from clienteling_setup.numbers.models import SMS, WHATSAPP, NumberClaim
from clienteling_setup.onboarding.models import StoreOnboarding
from clienteling_setup.stores.models import Store
from clienteling_setup.whatsapp.models import WhatsAppSenderRecord

Item = OnboardingJobItem


class OnboardingJobRepository(TenantScopedRepository[OnboardingJob]):
    """The tenant's jobs as the API sees them."""

    model = OnboardingJob

    def selectable_stores(self, *, country: str | None) -> list[tuple[str, str]]:
        """(id, country) of the stores not yet onboarded for SMS (of `country` if given)."""
        onboarded = exists().where(
            StoreOnboarding.tenant_id == Store.tenant_id,
            StoreOnboarding.store_id == Store.id,
            StoreOnboarding.status == "onboarded",
        )
        query = select(Store.id, Store.country_code).where(
            Store.tenant_id == self.tenant_id, ~onboarded
        )
        if country is not None:
            query = query.where(Store.country_code == country)
        return [(row[0], row[1]) for row in self.session.execute(query.order_by(Store.id))]

    def whatsapp_selectable_stores(self, *, country: str | None) -> list[tuple[str, str]]:
        """(id, country) of the stores onboarded for SMS without a registered WhatsApp
        sender (of `country` if given)."""
        on_sms = exists().where(
            StoreOnboarding.tenant_id == Store.tenant_id,
            StoreOnboarding.store_id == Store.id,
            StoreOnboarding.status == "onboarded",
        )
        registered = exists().where(
            WhatsAppSenderRecord.tenant_id == Store.tenant_id,
            WhatsAppSenderRecord.store_id == Store.id,
            WhatsAppSenderRecord.sender_sid.is_not(None),
        )
        query = select(Store.id, Store.country_code).where(
            Store.tenant_id == self.tenant_id, on_sms, ~registered
        )
        if country is not None:
            query = query.where(Store.country_code == country)
        return [(row[0], row[1]) for row in self.session.execute(query.order_by(Store.id))]

    def offboardable_stores(
        self, *, country: str | None, channels: frozenset[str], release: bool
    ) -> list[tuple[str, str]]:
        """(id, country) of the stores an offboarding of `channels` would take something down
        from: an SMS onboarding (under way or done), a WhatsApp sender, or (to release it) a
        number a store kept (of `country` if given)."""
        held = []
        if SMS in channels:
            held.append(
                exists().where(
                    StoreOnboarding.tenant_id == Store.tenant_id,
                    StoreOnboarding.store_id == Store.id,
                )
            )
        if WHATSAPP in channels:
            held.append(
                exists().where(
                    WhatsAppSenderRecord.tenant_id == Store.tenant_id,
                    WhatsAppSenderRecord.store_id == Store.id,
                )
            )
        if release:
            held.append(
                exists().where(
                    NumberClaim.tenant_id == Store.tenant_id,
                    NumberClaim.store_id == Store.id,
                    NumberClaim.channel.in_(sorted(channels)),
                )
            )
        query = select(Store.id, Store.country_code).where(
            Store.tenant_id == self.tenant_id, or_(*held)
        )
        if country is not None:
            query = query.where(Store.country_code == country)
        return [(row[0], row[1]) for row in self.session.execute(query.order_by(Store.id))]

    def stores_named(self, store_ids: Sequence[str]) -> dict[str, str]:
        """{id: country} of those of `store_ids` that are in the directory."""
        found: dict[str, str] = {}
        for start in range(0, len(store_ids), 1000):
            chunk = list(store_ids[start : start + 1000])
            query = select(Store.id, Store.country_code).where(
                Store.tenant_id == self.tenant_id, Store.id.in_(chunk)
            )
            found.update({row[0]: row[1] for row in self.session.execute(query)})
        return found

    def onboarded_among(self, store_ids: Sequence[str]) -> set[str]:
        """Those of `store_ids` onboarded for SMS already."""
        found: set[str] = set()
        for start in range(0, len(store_ids), 1000):
            query = select(StoreOnboarding.store_id).where(
                StoreOnboarding.tenant_id == self.tenant_id,
                StoreOnboarding.store_id.in_(list(store_ids[start : start + 1000])),
                StoreOnboarding.status == "onboarded",
            )
            found.update(self.session.scalars(query))
        return found

    def add_with_items(self, job: OnboardingJob, store_ids: Sequence[str]) -> OnboardingJob:
        """The job and one pending item per store, in one statement for the items."""
        self.add(job)
        self.session.flush()
        rows = [
            {
                "tenant_id": self.tenant_id,
                "job_id": job.id,
                "store_id": store_id,
                "position": position,
                "state": PENDING,
                "attempts": 0,
            }
            for position, store_id in enumerate(store_ids)
        ]
        if rows:
            self.session.execute(insert(Item), rows)
        return job

    def page(self, *, before: str | None, limit: int) -> list[OnboardingJob]:
        """Newest first (ids grow with time)."""
        query = self._select()
        if before is not None:
            query = query.where(OnboardingJob.id < before)
        return list(self.session.scalars(query.order_by(OnboardingJob.id.desc()).limit(limit)))

    def latest(self) -> OnboardingJob | None:
        return self.session.scalar(self._select().order_by(OnboardingJob.id.desc()).limit(1))

    def counts(self, job_ids: Sequence[str]) -> dict[str, dict[tuple[str, str | None], int]]:
        """Per job: how many items per (state, outcome)."""
        query = (
            select(Item.job_id, Item.state, Item.outcome, func.count())
            .where(Item.tenant_id == self.tenant_id, Item.job_id.in_(list(job_ids)))
            .group_by(Item.job_id, Item.state, Item.outcome)
        )
        out: dict[str, dict[tuple[str, str | None], int]] = {j: {} for j in job_ids}
        for job_id, state, outcome, count in self.session.execute(query):
            out[job_id][(state, outcome)] = int(count)
        return out

    def items(self, job_id: str) -> list[OnboardingJobItem]:
        query = select(Item).where(Item.tenant_id == self.tenant_id, Item.job_id == job_id)
        return list(self.session.scalars(query.order_by(Item.position)))

    def cancel(self, job: OnboardingJob, now: datetime) -> None:
        """No new store starts: items never tried are cancelled; those under way (claimed, or
        waiting to be retried after a Twilio failure) go on to the end."""
        self.session.execute(
            update(Item)
            .where(
                Item.tenant_id == self.tenant_id,
                Item.job_id == job.id,
                Item.state == PENDING,
                Item.attempts == 0,
            )
            .values(
                state=DONE,
                outcome=ITEM_CANCELLED,
                message="The job was cancelled before this store started.",
                finished_at=now,
            )
        )
        job.status = CANCELLING
        job.cancelled_at = now
        job.updated_at = now
        self.session.flush()
        JobItemRepository(self.session, self.tenant_id).settle(job.id, now)


class JobItemRepository(TenantScopedRepository[OnboardingJobItem]):
    """What workers do with a tenant's items: claim, beat, record, and the shared budget."""

    model = OnboardingJobItem

    def budget(self, default_concurrency: int) -> JobBudget:
        """The tenant's budget row, locked until the transaction ends (created if missing)."""
        dialect = self.session.get_bind().dialect.name
        insert_row = postgresql_insert if dialect == "postgresql" else sqlite_insert
        self.session.execute(
            insert_row(JobBudget)
            .values(
                tenant_id=self.tenant_id,
                concurrency=default_concurrency,
                successes=0,
                updated_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["tenant_id"])
        )
        query = select(JobBudget).where(JobBudget.tenant_id == self.tenant_id).with_for_update()
        return self.session.execute(query.execution_options(populate_existing=True)).scalar_one()

    def concurrency(self) -> int | None:
        """The budget's concurrency as last committed, without locking its row (None: no
        budget yet)."""
        query = select(JobBudget.concurrency).where(JobBudget.tenant_id == self.tenant_id)
        return self.session.scalar(query)

    def in_flight(self, fresh_after: datetime) -> int:
        """Items of the tenant being worked on now (claimed, heartbeat fresh), in any job."""
        return self._count(Item.state == CLAIMED, Item.heartbeat_at >= fresh_after)

    def claim(
        self, worker: str, limit: int, *, now: datetime, stale_before: datetime, job: str | None
    ) -> list[OnboardingJobItem]:
        """Up to `limit` items for `worker`, oldest job first: pending ones that may run now
        (of a running job, or a cancelled one's retried stores), and claims whose heartbeat
        stopped (their worker died; the store's workflow resumes from its own record)."""
        ready = and_(
            Item.state == PENDING,
            or_(Item.not_before.is_(None), Item.not_before <= now),
            or_(
                OnboardingJob.status == RUNNING,
                and_(OnboardingJob.status == CANCELLING, Item.attempts > 0),
            ),
        )
        orphaned = and_(
            Item.state == CLAIMED,
            Item.heartbeat_at < stale_before,
            OnboardingJob.status.in_((RUNNING, CANCELLING)),
        )
        query = (
            select(Item)
            .join(
                OnboardingJob,
                and_(OnboardingJob.tenant_id == Item.tenant_id, OnboardingJob.id == Item.job_id),
            )
            .where(Item.tenant_id == self.tenant_id, or_(ready, orphaned))
            .order_by(OnboardingJob.created_at, Item.position)
            .limit(limit)
            .with_for_update(of=Item, skip_locked=True)
        )
        if job is not None:
            query = query.where(Item.job_id == job)
        items = list(self.session.scalars(query))
        for item in items:
            item.state = CLAIMED
            item.worker = worker
            item.heartbeat_at = now
            item.attempts += 1
            item.started_at = item.started_at or now
        if items:
            self.session.execute(
                update(OnboardingJob)
                .where(
                    OnboardingJob.tenant_id == self.tenant_id,
                    OnboardingJob.id.in_({i.job_id for i in items}),
                    OnboardingJob.started_at.is_(None),
                )
                .values(started_at=now)
            )
        return items

    def mine(self, job_id: str, store_id: str, worker: str) -> OnboardingJobItem | None:
        """The item, if `worker` still holds its claim (it was not taken over)."""
        item = self.get(job_id, store_id)
        if item is None or item.state != CLAIMED or item.worker != worker:
            return None
        return item

    def settle(self, job_id: str, now: datetime) -> None:
        """End the job once no item is pending or under way. The job row is locked first: two
        workers finishing its last two items at once then check one after the other, and the
        second (its next statement reads what the first committed) ends the job."""
        self.session.execute(
            select(OnboardingJob.id)
            .where(OnboardingJob.tenant_id == self.tenant_id, OnboardingJob.id == job_id)
            .with_for_update()
        )
        open_items = exists().where(
            Item.tenant_id == self.tenant_id,
            Item.job_id == job_id,
            Item.state.in_((PENDING, CLAIMED)),
        )
        for before, after in ((RUNNING, FINISHED), (CANCELLING, CANCELLED)):
            self.session.execute(
                update(OnboardingJob)
                .where(
                    OnboardingJob.tenant_id == self.tenant_id,
                    OnboardingJob.id == job_id,
                    OnboardingJob.status == before,
                    ~open_items,
                )
                .values(status=after, finished_at=now, updated_at=now)
            )

    def job(self, job_id: str) -> OnboardingJob | None:
        return self.session.get(OnboardingJob, (self.tenant_id, job_id))


class JobQueueRepository:
    """Across tenants, for the workers: who has work, heartbeats, claims of dead workers."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def tenants_with_work(self, job: str | None = None) -> list[str]:
        query = select(OnboardingJob.tenant_id).where(
            OnboardingJob.status.in_((RUNNING, CANCELLING))
        )
        if job is not None:
            query = query.where(OnboardingJob.id == job)
        return sorted(set(self.session.scalars(query)))

    def beat(self, worker: str, now: datetime) -> None:
        self.session.execute(
            update(Item)
            .where(Item.worker == worker, Item.state == CLAIMED)
            .values(heartbeat_at=now)
        )
