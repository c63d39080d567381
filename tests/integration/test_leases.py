"""Database leases across processes and hosts: a holder keeps its lease by heartbeat; one whose
heartbeat stopped (a killed process, a zombie, another host's process that died or lost the
database) is taken over within seconds; a lease whose release failed never blocks a retry."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from clienteling_setup import errors
from clienteling_setup.db.base import utcnow
from clienteling_setup.db.migrate import upgrade
from clienteling_setup.db.session import make_engine, make_sessionmaker, transaction
from clienteling_setup.metrics import Metrics
from clienteling_setup.workflow import leases
from clienteling_setup.workflow.core import LEASE_SECONDS, Run
from clienteling_setup.workflow.models import Lease
from tests.support import postgres_database, sqlite_url
from tests.tcp_proxy import TcpProxy

#: Short heartbeat timeout for these tests (the service's default is 10 s).
STALE = 1.0

HOLD = """
import sys
from clienteling_setup.workflow import leases
from clienteling_setup.db.session import make_engine, make_sessionmaker
factory = make_sessionmaker(make_engine(sys.argv[1]))
with leases.held(factory, "work", 600, busy=RuntimeError("busy"), stale_after=float(sys.argv[2])):
    print("held", flush=True)
    sys.stdin.readline()
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = sqlite_url(tmp_path)
        upgrade(url)
        yield url
    else:
        with postgres_database() as url:
            upgrade(url)
            yield url


@pytest.fixture
def factory(url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(url)
    yield make_sessionmaker(engine)
    engine.dispose()


@contextmanager
def holder_process(url: str) -> Iterator[subprocess.Popen[str]]:
    """Another process that holds the lease 'work' (600 s) with a heartbeat every STALE / 4
    seconds; the test may kill it; it is reaped when the block ends."""
    with subprocess.Popen(
        [sys.executable, "-c", HOLD, url, str(STALE)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "held"
            yield process
        finally:
            process.kill()
            process.wait(timeout=10)


def process_state(pid: int) -> str:
    """The state letter of /proc/<pid>/stat: R, S, ... or Z for a zombie."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rpartition(")")[2].split()[0]


def takeovers(factory: sessionmaker[Session]) -> dict[str, float]:
    metrics = Metrics()
    metrics.register(leases.TakeoverCollector(factory))
    families = text_string_to_metric_families(metrics.render().decode())
    family = next(f for f in families if f.name == "clienteling_lease_takeovers")
    return {s.labels["reason"]: s.value for s in family.samples if s.name.endswith("_total")}


def test_a_live_holder_keeps_its_lease_past_the_heartbeat_timeout(
    url: str, factory: sessionmaker[Session]
) -> None:
    with holder_process(url):
        time.sleep(STALE * 2.5)  # its heartbeat, not its start, keeps the lease
        assert not leases.acquire(factory, "work", leases.new_holder(), 60, stale_after=STALE)


def test_a_killed_holder_is_taken_over_within_seconds_even_as_a_zombie(
    url: str, factory: sessionmaker[Session]
) -> None:
    before = takeovers(factory).get("heartbeat", 0)
    with holder_process(url) as process:
        process.kill()  # SIGKILL, and not reaped: the process stays a zombie
        deadline = time.monotonic() + 10
        while process_state(process.pid) != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        killed = time.monotonic()
        mine = leases.new_holder()
        assert leases.acquire_waiting(factory, "work", mine, 60, wait=10, stale_after=STALE)
        assert time.monotonic() - killed < STALE + 2
        assert process_state(process.pid) == "Z"  # taken over from a zombie
    assert not leases.acquire(factory, "work", leases.new_holder(), 60, stale_after=STALE)
    assert takeovers(factory)["heartbeat"] == before + 1


def test_a_lease_held_on_another_host_is_taken_over_once_its_heartbeat_is_stale(
    factory: sessionmaker[Session],
) -> None:
    """A holder on another host: its PID means nothing here, its heartbeat is all we see."""
    now = utcnow()
    with transaction(factory) as session:
        session.add(
            Lease(
                name="work",
                holder="other-host.4242.0123456789abcdef01234567",
                expires_at=now + timedelta(seconds=600),
                heartbeat_at=now,
            )
        )
    assert not leases.acquire(factory, "work", leases.new_holder(), 60, stale_after=30)
    with transaction(factory) as session:
        lease = session.get(Lease, "work")
        assert lease is not None
        lease.heartbeat_at = now - timedelta(seconds=31)
    assert leases.acquire(factory, "work", leases.new_holder(), 60, stale_after=30)


def test_an_expired_lease_is_taken_over(factory: sessionmaker[Session]) -> None:
    assert leases.acquire(factory, "work", leases.new_holder(), -1, stale_after=60)
    assert leases.acquire(factory, "work", leases.new_holder(), 60, stale_after=60)


def test_a_lease_whose_release_failed_does_not_block_a_retry(tmp_path: Path) -> None:
    """The database goes away while a request ends: its lease cannot be deleted. Once the
    database is back, the retry in the same process takes the lease at once, and another
    process once the heartbeat is stale; the background thread deletes it meanwhile."""
    with postgres_database() as direct:
        upgrade(direct)
        proxy = TcpProxy("127.0.0.1", 5432).start()
        engine = make_engine(proxy.url_for(direct))
        try:
            factory = make_sessionmaker(engine)
            busy = errors.Conflict("busy")
            with leases.held(factory, "work", 600, busy=busy, stale_after=STALE):
                proxy.cut()
            proxy.restore()
            assert leases.acquire(factory, "work", leases.new_holder(), 60, stale_after=600)
        finally:
            proxy.stop()
            engine.dispose()


def test_a_worker_renews_its_lease_and_stops_once_it_lost_it(
    factory: sessionmaker[Session],
) -> None:
    """Onboarding extends the store's lease before each step; a worker whose lease expired
    and was taken by another stops with a 409 instead of touching Twilio again."""
    name, mine, theirs = "onboard:acme:s1", leases.new_holder(), leases.new_holder()
    assert leases.acquire(factory, name, mine, 0.5, stale_after=STALE)
    lost = errors.Conflict("The onboarding of store 's1' was taken over by another request.")
    renew = Run(factory, name, mine, lost, stale_after=STALE, renew_after=0).renew
    renew()
    with factory() as session:
        lease = session.get(Lease, name)
        assert lease is not None
        left = (lease.expires_at - utcnow()).total_seconds()
    assert LEASE_SECONDS - 5 < left <= LEASE_SECONDS
    with factory() as session, session.begin():
        held = session.get(Lease, name)
        assert held is not None
        held.expires_at = utcnow()
    assert leases.acquire(factory, name, theirs, 60, stale_after=STALE)
    with pytest.raises(errors.Conflict, match="taken over"):
        renew()
    # Soon after taking it, a worker does not write again: its lease is fresh.
    lazy = Run(factory, name, theirs, lost, stale_after=STALE).renew
    with transaction(factory) as session:
        session.execute(delete(Lease).where(Lease.name == name))
    lazy()
    with factory() as session:
        assert session.get(Lease, name) is None
