"""The job workers of one process: claim stores of any tenant's jobs, onboard them, record.

Every server process runs one `JobRunner`; they share the work through the database only:

- **claims** (`JobItemRepository.claim`): items taken with `FOR UPDATE SKIP LOCKED` on
  PostgreSQL, at most as many as the tenant's budget leaves free across all processes;
- **heartbeats**: every `heartbeat_seconds` the runner stamps the items it holds; an item whose
  stamp is older than `stale_seconds` is claimed again by anyone (its worker died or hangs);
- **the budget** (`JobBudget`, one row per tenant): how many of the tenant's stores may be
  onboarded at once. A Twilio 429 (or Twilio unreachable) halves it and stops new starts until
  its Retry-After has passed; each window of successes grows it by one, up to the configured
  concurrency. Every worker of every process reads and writes the same row.

An item is finished only by the worker that still holds it, so a worker that was taken over
records nothing; the store's own workflow makes a second attempt adopt the first's purchase.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from clienteling_setup.auth.actor import Actor
from clienteling_setup.config import JobsSettings
from clienteling_setup.db.base import utcnow
from clienteling_setup.jobs.models import (
    DONE,
    FAILED,
    OFFBOARDED,
    ONBOARD,
    ONBOARDED,
    PENDING,
    JobBudget,
    OnboardingJob,
    OnboardingJobItem,
)
from clienteling_setup.jobs.work import (
    Finished,
    JobPorts,
    Result,
    RetryLater,
    StoreTask,
    onboard_job_store,
)
from clienteling_setup.ledger.costs import requested_by
from clienteling_setup.numbers.models import SMS
from clienteling_setup.workflow.leases import new_holder

log = logging.getLogger("clienteling_setup.jobs")

#: `JobItemRepository.budget`: the tenant's budget row, locked, created at this concurrency.
_BudgetOf = Callable[[int], JobBudget]

#: A store retried this many times (Twilio failures, another request holding it) fails.
MAX_ATTEMPTS = 30
#: Two 429s closer together than this halve the budget once (they answer the same burst).
THROTTLE_WINDOW_SECONDS = 1.0


@dataclass(frozen=True)
class RunnerSettings:
    workers: int = 8  # stores this process onboards at once
    tenant_concurrency: int = 8  # stores of one tenant onboarded at once, across processes
    poll_seconds: float = 0.5
    heartbeat_seconds: float = 5.0
    stale_seconds: float = 30.0


def runner_settings(jobs: JobsSettings, database_url: str) -> RunnerSettings:
    """The configured settings; the embedded SQLite database gets one worker by default (its
    writes are serialised anyway)."""
    default_workers = 1 if database_url.startswith("sqlite") else RunnerSettings.workers
    return RunnerSettings(
        workers=jobs.workers or default_workers,
        tenant_concurrency=jobs.tenant_concurrency,
        poll_seconds=jobs.poll_seconds,
        heartbeat_seconds=jobs.heartbeat_seconds,
        stale_seconds=jobs.stale_seconds,
    )


def _task(tenant_id: str, item: OnboardingJobItem, job: OnboardingJob | None) -> StoreTask:
    """What to do with a claimed item: its job's operation and options."""
    options = (job.options if job is not None else None) or {}
    return StoreTask(
        tenant_id=tenant_id,
        job_id=item.job_id,
        store_id=item.store_id,
        enable=job is not None and job.enable,
        chosen_number=item.phone_number,
        operation=job.operation if job is not None else ONBOARD,
        channels=frozenset(options.get("channels", ())),
        release=options.get("release_number", True),
        # Who asked for the job: the ledger names them for what each store buys or releases.
        actor=requested_by(job) if job is not None else Actor("clienteling-setup"),
        channel=job.channel if job is not None else SMS,
        waba_id=options.get("waba_id"),
    )


class JobRunner:
    """Claims and works on job items in a thread pool until stopped. `only_job` restricts it
    to one job (the command line following its own job)."""

    def __init__(
        self, ports: JobPorts, settings: RunnerSettings, *, only_job: str | None = None
    ) -> None:
        self.ports = ports
        self.settings = settings
        self.only_job = only_job
        self.worker = new_holder()
        self._pool = ThreadPoolExecutor(settings.workers, thread_name_prefix="job-store")
        self._busy = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._dispatch, name="job-dispatch", daemon=True),
            threading.Thread(target=self._heartbeat, name="job-heartbeat", daemon=True),
        ]

    def start(self) -> JobRunner:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """No new claims; the stores under way finish (for up to `timeout` seconds)."""
        self._stop.set()
        self._wake.set()
        self._threads[0].join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=False)
        self._threads[1].join(timeout)

    # -- claiming -------------------------------------------------------------------------

    def _dispatch(self) -> None:
        while not self._stop.is_set():
            claimed = self._guard(self._claim_some) or 0
            if claimed == 0 or self._free() == 0:
                self._wake.wait(self.settings.poll_seconds)
                self._wake.clear()

    def _guard(self, action: Callable[[], int | None]) -> int | None:
        try:
            return action()
        except Exception:  # noqa: BLE001 - the runner must outlive a database hiccup
            log.exception("job runner step failed")
            self._stop.wait(1.0)
            return None

    def _free(self) -> int:
        with self._lock:
            return self.settings.workers - self._busy

    def _claim_some(self) -> int:
        free = self._free()
        if free <= 0:
            return 0
        with self.ports.uows.platform() as platform:
            tenants = platform.job_queue.tenants_with_work(self.only_job)
        random.shuffle(tenants)  # no tenant always first
        claimed = 0
        for tenant_id in tenants:
            if free <= 0:
                break
            tasks = self._claim(tenant_id, free)
            for task in tasks:
                with self._lock:
                    self._busy += 1
                self._pool.submit(self._work, task)
            free -= len(tasks)
            claimed += len(tasks)
        return claimed

    def _claim(self, tenant_id: str, free: int) -> list[StoreTask]:
        now = utcnow()
        stale_before = now - timedelta(seconds=self.settings.stale_seconds)
        with self.ports.uows.of(tenant_id) as uow:
            budget = uow.job_items.budget(self.settings.tenant_concurrency)
            if budget.backoff_until is not None and budget.backoff_until > now:
                return []
            allowed = min(budget.concurrency, self.settings.tenant_concurrency)
            room = allowed - uow.job_items.in_flight(stale_before)
            if room <= 0:
                return []
            items = uow.job_items.claim(
                self.worker, min(room, free), now=now, stale_before=stale_before, job=self.only_job
            )
            jobs = {job_id: uow.job_items.job(job_id) for job_id in {i.job_id for i in items}}
            return [_task(tenant_id, item, jobs[item.job_id]) for item in items]

    # -- working --------------------------------------------------------------------------

    def _work(self, task: StoreTask) -> None:
        try:
            try:
                result: Result = onboard_job_store(
                    self.ports, task, lambda number: self._record_number(task, number)
                )
            except Exception as exc:  # noqa: BLE001 - one store's crash must not stop the job
                log.exception("job store crashed", extra={"tenant": task.tenant_id})
                result = RetryLater(f"Internal error: {type(exc).__name__}", 5.0)
            self._finish(task, result)
        except Exception:  # noqa: BLE001 - recorded by the next holder after the heartbeat
            log.exception("recording a job store failed", extra={"tenant": task.tenant_id})
        finally:
            with self._lock:
                self._busy -= 1
            self._wake.set()

    def _record_number(self, task: StoreTask, number: str) -> None:
        with self.ports.uows.of(task.tenant_id) as uow:
            item = uow.job_items.mine(task.job_id, task.store_id, self.worker)
            if item is not None and item.phone_number != number:
                item.phone_number = number

    def _finish(self, task: StoreTask, result: Result) -> None:
        now = utcnow()
        with self.ports.uows.of(task.tenant_id) as uow:
            item = uow.job_items.mine(task.job_id, task.store_id, self.worker)
            if item is None:
                return  # taken over meanwhile: the new holder records it
            if isinstance(result, RetryLater) and item.attempts >= MAX_ATTEMPTS:
                result = Finished(
                    FAILED, message=f"Gave up after {item.attempts} attempts: {result.message}"
                )
            item.heartbeat_at = None
            item.message = result.message
            if isinstance(result, Finished):  # the worker stays on it: who did the store
                item.state = DONE
                item.outcome = result.outcome
                item.phone_number = result.phone_number or item.phone_number
                item.finished_at = now
                if result.outcome in (ONBOARDED, OFFBOARDED):
                    self._grow(uow.job_items.budget, uow.job_items.concurrency())
            else:
                item.state = PENDING
                item.worker = None
                item.not_before = now + timedelta(seconds=result.delay)
                if result.throttled:
                    self._shrink(uow.job_items.budget, now, result.delay)
            uow.flush()
            uow.job_items.settle(task.job_id, now)

    def _grow(self, budget_of: _BudgetOf, concurrency: int | None) -> None:
        """Additive increase: one more store at once per window of successes, up to the
        configured concurrency. `concurrency`: the budget's as last committed; once it is at
        the limit the row is neither locked nor written (every finish would otherwise queue
        on the tenant's one row; a 429 that lowers it meanwhile only delays one increase)."""
        limit = self.settings.tenant_concurrency
        if concurrency is not None and concurrency >= limit:
            return
        budget = budget_of(limit)
        if budget.concurrency >= limit:
            return
        budget.successes += 1
        if budget.successes >= budget.concurrency:
            budget.concurrency += 1
            budget.successes = 0

    def _shrink(self, budget_of: _BudgetOf, now: datetime, retry_after: float) -> None:
        """Multiplicative decrease, once per burst of 429s, and no new start until Twilio's
        Retry-After has passed."""
        budget = budget_of(self.settings.tenant_concurrency)
        recent = budget.throttled_at is not None and now - budget.throttled_at < timedelta(
            seconds=THROTTLE_WINDOW_SECONDS
        )
        if not recent:
            budget.concurrency = max(
                1, min(budget.concurrency, self.settings.tenant_concurrency) // 2
            )
            budget.throttled_at = now
            budget.successes = 0
        until = now + timedelta(seconds=retry_after)
        if budget.backoff_until is None or budget.backoff_until < until:
            budget.backoff_until = until

    # -- liveness ---------------------------------------------------------------------------

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.settings.heartbeat_seconds):
            self._guard(self._beat)
        self._guard(self._beat)

    def _beat(self) -> int:
        with self.ports.uows.platform() as platform:
            platform.job_queue.beat(self.worker, utcnow())
        return 0
