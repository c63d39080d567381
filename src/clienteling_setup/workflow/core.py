"""The durable-workflow core: how every write that creates or changes something in Twilio runs.

Enabling a tenant, onboarding a store for SMS, registering its WhatsApp sender and creating a
sender group all follow the same five moves, and each move is here once:

1. **Validate** in one unit of work, without calling Twilio.
2. **Claim** (`claim`): a row with a unique key (the store's onboarding, the number in the
   registry, the group) is committed *before* any side effect. A second request, or a second
   store wanting the same number, fails on that key in the database, not in Twilio.
3. **Lease** (`exclusive`, `try_exclusive`): one worker per subject at a time, across
   processes and hosts, held in the database and kept by a heartbeat (`workflow.leases`), so
   a worker that died, hangs or lost the database is taken over within seconds. The lease is
   also renewed before each step (`Run.step`) once a quarter of its life has passed, and a
   worker that lost it stops before touching Twilio again.
4. **Steps**, each *adopting* what an earlier attempt already did (`adopt_or_create`: look the
   resource up by the name or value the claim fixed, create it only when absent, and look
   again when the create failed ambiguously) and *recording* its outcome in a unit of work of
   its own before the next step starts. No transaction stays open across a Twilio call. A
   first attempt (the claim found no earlier one) creates without looking first, so its cost
   in Twilio calls does not grow with what the tenant already has.
5. **Release on a definite refusal**: when Twilio definitely did not act (`InputRejected`), the
   claim is deleted so that the caller can choose again; after any other failure it stays,
   and the same request, or `clienteling-setup sync`, resumes from the last recorded step.

Invariants this gives every workflow: a crash between any two steps leaves a claim and a
record from which a retry finishes with the same resources (never a second purchase, Messaging
Service or sender); two concurrent requests for one subject run one after the other; a
resource is never created for a subject whose claim another request holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from clienteling_setup import errors
from clienteling_setup.db.base import ClaimTaken
from clienteling_setup.metrics import WORKFLOW_OUTCOMES, workflow_of
from clienteling_setup.providers.messaging import (
    InputRejected,
    ProviderError,
    ProviderUnavailable,
)
from clienteling_setup.unit_of_work import UnitOfWork, UnitsOfWork
from clienteling_setup.workflow import leases

T = TypeVar("T")
K = TypeVar("K")
R = TypeVar("R")

LEASE_SECONDS = 120
#: A step starting later than this after the lease was last extended extends it first. One
#: Twilio step (a purchase: one attempt, then a bounded lookup) takes well under a minute.
RENEW_AFTER_SECONDS = LEASE_SECONDS / 4


def claim(
    uows: UnitsOfWork,
    tenant_id: str,
    write: Callable[[UnitOfWork], T],
    conflict: Callable[[UnitOfWork], errors.AppError],
) -> T:
    """Commit `write`'s claim; when a unique key says someone else holds it, raise the
    `conflict` built (in a fresh unit of work) from who that is."""
    try:
        with uows.of(tenant_id) as uow:
            return write(uow)
    except (IntegrityError, ClaimTaken):
        with uows.of(tenant_id) as uow:
            raise conflict(uow) from None


class Run:
    """One holder's run on a subject: `step` keeps the lease before each piece of Twilio work."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        lease: str,
        holder: str,
        lost: errors.AppError,
        *,
        stale_after: float,
        renew_after: float = RENEW_AFTER_SECONDS,
    ) -> None:
        self._sessions = sessions
        self.lease = lease
        self.holder = holder
        self._lost = lost
        self._stale_after = stale_after
        self._renew_after = renew_after
        self._extended = time.monotonic()

    def step(self, effect: Callable[[], T]) -> T:
        self.renew()
        return effect()

    def renew(self) -> None:
        """Extend the lease once `renew_after` seconds passed since it was taken or extended,
        so a slow Twilio (timeouts and retries add up) never outlasts it; fast runs pay no
        extra write. A lease lost anyway stops this worker with `lost`."""
        if time.monotonic() - self._extended < self._renew_after:
            return
        if not leases.acquire(
            self._sessions, self.lease, self.holder, LEASE_SECONDS, stale_after=self._stale_after
        ):
            raise self._lost
        self._extended = time.monotonic()


@contextmanager
def exclusive(
    uows: UnitsOfWork,
    lease: str,
    *,
    busy: errors.AppError,
    lost: errors.AppError,
    wait: float = 0.0,
    renew_after: float = RENEW_AFTER_SECONDS,
) -> Iterator[Run]:
    """Run the block as the lease's only holder (waiting up to `wait` seconds for another
    holder to finish, then raising `busy`); the lease is released however the block ends."""
    stale_after = uows.lease_timeout
    with (
        counted(lease, busy=busy, lost=lost),
        leases.held(
            uows.sessions, lease, LEASE_SECONDS, busy=busy, wait=wait, stale_after=stale_after
        ) as holder,
    ):
        yield Run(
            uows.sessions, lease, holder, lost, stale_after=stale_after, renew_after=renew_after
        )


@contextmanager
def try_exclusive(
    uows: UnitsOfWork, lease: str, *, lost: errors.AppError, seconds: float = LEASE_SECONDS
) -> Iterator[Run | None]:
    """For background work (reconciliation): the run, or None when another worker has it."""
    stale_after = uows.lease_timeout
    with leases.held_if_free(uows.sessions, lease, seconds, stale_after=stale_after) as holder:
        if holder is None:
            WORKFLOW_OUTCOMES.labels(workflow_of(lease), "skipped").inc()
            yield None
        else:
            with counted(lease, lost=lost):
                yield Run(uows.sessions, lease, holder, lost, stale_after=stale_after)


@contextmanager
def counted(
    lease: str, *, lost: errors.AppError, busy: errors.AppError | None = None
) -> Iterator[None]:
    """Counts how a workflow's run ended, for /metrics (`clienteling_workflow_outcomes`)."""
    outcome = "crashed"
    try:
        yield
        outcome = "completed"
    except BaseException as exc:
        outcome = _outcome(exc, busy=busy, lost=lost)
        raise
    finally:
        WORKFLOW_OUTCOMES.labels(workflow_of(lease), outcome).inc()


def _outcome(exc: BaseException, *, busy: errors.AppError | None, lost: errors.AppError) -> str:
    if exc is busy:
        return "busy"  # another request held the subject
    if exc is lost:
        return "lease_lost"
    # A workflow answers a Twilio failure with the API's error, raised from the provider's.
    cause = exc.__cause__ if isinstance(exc.__cause__, ProviderError) else exc
    if isinstance(cause, InputRejected):
        return "rejected"  # Twilio definitely refused: the claim was released
    if isinstance(cause, ProviderUnavailable | errors.UpstreamUnavailable):
        return "twilio_unavailable"
    if isinstance(cause, ProviderError | errors.UpstreamFailed):
        return "twilio_failed"
    if isinstance(exc, errors.Conflict):
        return "conflict"
    if isinstance(exc, errors.AppError):
        return "refused"  # the request itself (bad input, a missing prerequisite)
    return "crashed"


def adopt_or_create(
    find: Callable[[], T | None],
    create: Callable[[], T],
    *,
    adopt: Callable[[T], T] | None = None,
    look_first: bool = True,
) -> T:
    """The resource `find` locates (an earlier attempt made it; `adopt` brings it up to date
    when given), else `create`d once.

    `look_first=False` is for a first attempt, where nothing of this workflow can exist yet:
    it creates at once, so the happy path costs one call whatever the tenant's size, and
    looks only when the create fails (a resource made outside the workflow shows as a
    refusal). When the create fails without a definite refusal, Twilio may have acted before
    the answer was lost: look again before failing."""
    if look_first:
        found = find()
        if found is not None:
            return adopt(found) if adopt is not None else found
    try:
        return create()
    except InputRejected:
        if look_first:
            raise
        found = find()
        if found is None:
            raise
        return adopt(found) if adopt is not None else found
    except ProviderError:
        found = find()
        if found is None:
            raise
        return found


def resume_each(
    subjects: Iterable[K],
    hold: Callable[[K], AbstractContextManager[R | None]],
    finish: Callable[[K, R], bool],
) -> int:
    """For reconciliation: `finish` each subject an interruption left under way, under its
    `hold` (its lease or leases; None while another worker has it, then it is left to it).
    `finish` answers whether there was something to finish; one that fails with the API's
    error is left for the next pass. Returns how many finished."""
    finished = 0
    for subject in subjects:
        with hold(subject) as run:
            if run is None:
                continue
            try:
                finished += finish(subject, run)
            except errors.AppError:
                continue
    return finished
