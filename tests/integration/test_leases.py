"""Database leases across processes: a live holder excludes others until its lease expires; a
holder whose process is gone is taken over at once (a killed server must not block retries)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from clienteling_setup import errors
from clienteling_setup.db.base import utcnow
from clienteling_setup.db.migrate import upgrade
from clienteling_setup.db.session import make_engine, make_sessionmaker, transaction
from clienteling_setup.workflow import leases
from clienteling_setup.workflow.core import LEASE_SECONDS, Run
from clienteling_setup.workflow.models import Lease
from tests.support import sqlite_url

HOLD = """
import sys
from clienteling_setup.workflow import leases
from clienteling_setup.db.session import make_engine, make_sessionmaker
factory = make_sessionmaker(make_engine(sys.argv[1]))
assert leases.acquire(factory, "work", leases.new_holder(), 600)
print("held", flush=True)
sys.stdin.readline()
"""


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = sqlite_url(tmp_path)
    upgrade(url)
    return url


@pytest.fixture
def factory(url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(url)
    yield make_sessionmaker(engine)
    engine.dispose()


@contextmanager
def holder_process(url: str) -> Iterator[subprocess.Popen[str]]:
    """Another process that takes the lease 'work' for 10 minutes and keeps running; killed
    (and reaped) when the block ends."""
    with subprocess.Popen(
        [sys.executable, "-c", HOLD, url],
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


def test_a_live_holder_in_another_process_keeps_the_lease(
    url: str, factory: sessionmaker[Session]
) -> None:
    with holder_process(url):
        assert not leases.acquire(factory, "work", leases.new_holder(), 60)


def test_the_lease_of_a_killed_process_is_taken_over_at_once(
    url: str, factory: sessionmaker[Session]
) -> None:
    with holder_process(url):
        pass
    mine = leases.new_holder()
    assert leases.acquire(factory, "work", mine, 60)
    assert not leases.acquire(factory, "work", leases.new_holder(), 60)  # and now it is mine
    leases.release(factory, "work", mine)
    assert leases.acquire(factory, "work", leases.new_holder(), 60)


def test_an_expired_lease_is_taken_over(factory: sessionmaker[Session]) -> None:
    assert leases.acquire(factory, "work", leases.new_holder(), -1)
    assert leases.acquire(factory, "work", leases.new_holder(), 60)


def test_a_holder_of_this_process_is_never_taken_for_dead() -> None:
    assert not leases.holder_is_dead(leases.new_holder())
    assert not leases.holder_is_dead("0123456789abcdef0123456789abcdef")  # no process named


def test_a_worker_renews_its_lease_and_stops_once_it_lost_it(
    factory: sessionmaker[Session],
) -> None:
    """Onboarding extends the store's lease before each step; a worker whose lease expired
    and was taken by another stops with a 409 instead of touching Twilio again."""
    name, mine, theirs = "onboard:acme:s1", leases.new_holder(), leases.new_holder()
    assert leases.acquire(factory, name, mine, 0.5)
    lost = errors.Conflict("The onboarding of store 's1' was taken over by another request.")
    renew = Run(factory, name, mine, lost, renew_after=0).renew
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
    assert leases.acquire(factory, name, theirs, 60)
    with pytest.raises(errors.Conflict, match="taken over"):
        renew()
    # Soon after taking it, a worker does not write again: its lease is fresh.
    lazy = Run(factory, name, theirs, lost).renew
    with transaction(factory) as session:
        session.execute(delete(Lease).where(Lease.name == name))
    lazy()
    with factory() as session:
        assert session.get(Lease, name) is None
