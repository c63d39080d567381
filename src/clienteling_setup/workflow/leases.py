"""Named leases in the database: at most one worker per name at a time, across processes and
hosts.

A holder proves it is alive with a heartbeat: while a process holds leases, a thread of its own
(`_Heartbeats`) stamps their `heartbeat_at` every quarter of the heartbeat timeout. A lease
whose heartbeat is older than the timeout (`stale_after`, the
`lease_heartbeat_timeout_seconds` setting) belongs to a process that died, hangs, or lost the
database, on whatever host and even while it is a zombie: the next caller takes it over.
`expires_at` bounds a live holder's work between two renewals (`workflow.core.Run.renew`).
Every time is read from the database's clock, so hosts whose clocks disagree still agree on
whether a heartbeat is stale.

A release that fails (the database went away as the block ended) must not block retries: the
lease stops being heartbeaten at once (another process takes it over after the timeout), the
heartbeat thread retries the release, and a caller in this process takes it over right away.
Each acquire, heartbeat and release runs in its own short transaction, visible to everyone.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
import weakref
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from prometheus_client.core import CounterMetricFamily, Metric
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from clienteling_setup.db.session import transaction
from clienteling_setup.workflow.repository import LeaseRepository

log = logging.getLogger("clienteling_setup.leases")

#: Seconds a holder's heartbeat may be silent before its lease is taken over.
HEARTBEAT_TIMEOUT_SECONDS = 10.0


def new_holder() -> str:
    """`<host>.<pid>.<random>`: unique, and tells an operator where the holder ran."""
    host = socket.gethostname().partition(".")[0][:24] or "host"
    return f"{host}.{os.getpid()}.{uuid.uuid4().hex[:24]}"


class _Heartbeats:
    """This process's leases on one database: their heartbeat, the releases still to retry,
    and how many leases it took over from other holders."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._held: dict[str, float] = {}  # holder -> seconds between its heartbeats
        self._unreleased: set[tuple[str, str]] = set()  # (name, holder)
        self._thread: threading.Thread | None = None
        self.takeovers: Counter[str] = Counter()

    def hold(self, holder: str, stale_after: float) -> None:
        with self._lock:
            self._held[holder] = stale_after / 4
            self._start()

    def drop(self, holder: str) -> None:
        with self._lock:
            self._held.pop(holder, None)

    def unreleased(self, name: str, holder: str) -> None:
        """The release of `name` failed: stop its heartbeat, retry the release later."""
        with self._lock:
            self._held.pop(holder, None)
            self._unreleased.add((name, holder))
            self._start()

    def unreleased_holders(self, name: str) -> list[str]:
        with self._lock:
            return [holder for (lease, holder) in self._unreleased if lease == name]

    def forget(self, name: str, holder: str) -> None:
        with self._lock:
            self._unreleased.discard((name, holder))

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="lease-heartbeat", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._held and not self._unreleased:
                    self._thread = None
                    return
                pause = min(self._held.values(), default=1.0)
            time.sleep(pause)
            with self._lock:
                held, unreleased = list(self._held), set(self._unreleased)
            try:
                with transaction(self._factory) as session:
                    leases = LeaseRepository(session)
                    if held:
                        leases.beat(held, leases.now())
                    for name, holder in unreleased:
                        leases.delete(name, holder)
            except Exception as exc:  # noqa: BLE001 - the database may be away: beat again later
                log.warning("lease heartbeat failed: %s", type(exc).__name__)
                continue
            with self._lock:
                self._unreleased -= unreleased


_HEARTBEATS: weakref.WeakKeyDictionary[sessionmaker[Session], _Heartbeats] = (
    weakref.WeakKeyDictionary()
)
_HEARTBEATS_LOCK = threading.Lock()


def _heartbeats(factory: sessionmaker[Session]) -> _Heartbeats:
    with _HEARTBEATS_LOCK:
        found = _HEARTBEATS.get(factory)
        if found is None:
            found = _HEARTBEATS[factory] = _Heartbeats(factory)
        return found


def acquire(
    factory: sessionmaker[Session],
    name: str,
    holder: str,
    seconds: float,
    *,
    stale_after: float = HEARTBEAT_TIMEOUT_SECONDS,
) -> bool:
    """Take lease `name` for `seconds` (or extend it, when `holder` has it): True unless a
    live holder has it (heartbeat fresh, not expired)."""
    try:
        with transaction(factory) as session:
            leases = LeaseRepository(session)
            now = leases.now()
            leases.insert(name, holder, until=now + timedelta(seconds=seconds), now=now)
        return True
    except IntegrityError:
        pass
    heartbeats = _heartbeats(factory)
    unreleased = heartbeats.unreleased_holders(name)
    with transaction(factory) as session:
        leases = LeaseRepository(session)
        now = leases.now()
        taken = leases.take(
            name,
            holder,
            until=now + timedelta(seconds=seconds),
            now=now,
            stale_before=now - timedelta(seconds=stale_after),
            unreleased=unreleased,
        )
    if taken is None:
        return False
    previous, reason = taken
    if previous in unreleased:
        heartbeats.forget(name, previous)
    elif previous != holder:
        heartbeats.takeovers[reason] += 1
        log.info("lease %s taken over from %s (%s)", name, previous, reason)
    return True


def release(factory: sessionmaker[Session], name: str, holder: str) -> None:
    with transaction(factory) as session:
        LeaseRepository(session).delete(name, holder)


def acquire_waiting(
    factory: sessionmaker[Session],
    name: str,
    holder: str,
    seconds: float,
    wait: float,
    *,
    stale_after: float = HEARTBEAT_TIMEOUT_SECONDS,
) -> bool:
    """`acquire`, retried for up to `wait` seconds while another holder has the lease."""
    deadline = time.monotonic() + wait
    pause = 0.02
    while not acquire(factory, name, holder, seconds, stale_after=stale_after):
        if time.monotonic() >= deadline:
            return False
        time.sleep(pause)
        pause = min(pause * 2, 0.25)
    return True


@contextmanager
def heartbeat(
    factory: sessionmaker[Session], name: str, holder: str, stale_after: float
) -> Iterator[None]:
    """Keep the acquired lease's heartbeat for the block, then release it. A release that
    fails is retried in the background instead of failing the block's outcome."""
    heartbeats = _heartbeats(factory)
    heartbeats.hold(holder, stale_after)
    try:
        yield
    finally:
        heartbeats.drop(holder)
        try:
            release(factory, name, holder)
        except Exception as exc:  # noqa: BLE001 - the work's own outcome is what the caller needs
            log.warning("lease %s not released (%s); retrying", name, type(exc).__name__)
            heartbeats.unreleased(name, holder)


@contextmanager
def held(
    factory: sessionmaker[Session],
    name: str,
    seconds: float,
    *,
    busy: Exception,
    wait: float = 0.0,
    stale_after: float = HEARTBEAT_TIMEOUT_SECONDS,
) -> Iterator[str]:
    """Hold lease `name` for the block, raising `busy` when another holder keeps it for more
    than `wait` seconds; yields the holder (for renewals) and releases the lease however the
    block ends."""
    holder = new_holder()
    if not acquire_waiting(factory, name, holder, seconds, wait, stale_after=stale_after):
        raise busy
    with heartbeat(factory, name, holder, stale_after):
        yield holder


@contextmanager
def held_if_free(
    factory: sessionmaker[Session],
    name: str,
    seconds: float,
    *,
    stale_after: float = HEARTBEAT_TIMEOUT_SECONDS,
) -> Iterator[str | None]:
    """For background work: the holder for the block, or None when another one has it."""
    holder = new_holder()
    if not acquire(factory, name, holder, seconds, stale_after=stale_after):
        yield None
        return
    with heartbeat(factory, name, holder, stale_after):
        yield holder


class TakeoverCollector:
    """`clienteling_lease_takeovers_total{reason}`: leases this process took from a holder
    whose heartbeat went silent (`heartbeat`) or whose lease ran out (`expired`)."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._heartbeats = _heartbeats(factory)

    def collect(self) -> Iterable[Metric]:
        family = CounterMetricFamily(
            "clienteling_lease_takeovers",
            "Leases taken over from a holder that stopped heartbeating or ran out of time.",
            labels=["reason"],
        )
        for reason in ("heartbeat", "expired"):
            family.add_metric([reason], self._heartbeats.takeovers[reason])
        yield family
