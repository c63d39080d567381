"""Named leases in the database: at most one worker per name at a time, across processes.

A lease expires, so a crashed holder never blocks the work for good; the next caller takes over.
A holder names its process and the process table it lives in, so a caller in the same process
table takes over at once from a holder whose process is gone (a server killed mid-onboarding
must not make the retry wait for the lease to expire). Holders elsewhere are waited out.
Each acquire/release runs in its own short transaction so the lease is visible to everyone.
"""

from __future__ import annotations

import functools
import hashlib
import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from clienteling_setup.db.base import utcnow
from clienteling_setup.db.session import transaction
from clienteling_setup.workflow.repository import LeaseRepository


@functools.cache
def _process_table() -> str | None:
    """Names this host's process table (host, boot, PID namespace); None where unknown."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    seed = f"{socket.gethostname()}|{boot}|{namespace}"
    return hashlib.sha256(seed.encode()).hexdigest()[:16]


def new_holder() -> str:
    """`<process table>.<pid>.<random>` (at most 64 characters), or random alone."""
    table = _process_table()
    token = uuid.uuid4().hex[:24]
    return f"{table}.{os.getpid()}.{token}" if table else uuid.uuid4().hex


def holder_is_dead(holder: str) -> bool:
    """True only when the holder's process is known to be gone: same process table, no pid."""
    table, _, rest = holder.partition(".")
    pid_text = rest.partition(".")[0]
    if table != _process_table() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it exists (another user's, say)
    return False


def acquire(factory: sessionmaker[Session], name: str, holder: str, seconds: float) -> bool:
    now = utcnow()
    until = now + timedelta(seconds=seconds)
    try:
        with transaction(factory) as session:
            LeaseRepository(session).insert(name, holder, until)
        return True
    except IntegrityError:
        pass
    with transaction(factory) as session:
        leases = LeaseRepository(session)
        current = leases.current_holder(name)
        dead = current if current is not None and holder_is_dead(current) else None
        return leases.take(name, holder, until, now=now, dead=dead)


def release(factory: sessionmaker[Session], name: str, holder: str) -> None:
    with transaction(factory) as session:
        LeaseRepository(session).delete(name, holder)


def acquire_waiting(
    factory: sessionmaker[Session], name: str, holder: str, seconds: float, wait: float
) -> bool:
    """`acquire`, retried for up to `wait` seconds while another holder has the lease."""
    deadline = time.monotonic() + wait
    pause = 0.02
    while not acquire(factory, name, holder, seconds):
        if time.monotonic() >= deadline:
            return False
        time.sleep(pause)
        pause = min(pause * 2, 0.25)
    return True


@contextmanager
def held(
    factory: sessionmaker[Session],
    name: str,
    seconds: float,
    *,
    busy: Exception,
    wait: float = 0.0,
) -> Iterator[str]:
    """Hold lease `name` for the block, raising `busy` when another holder keeps it for more
    than `wait` seconds; yields the holder (for renewals) and releases the lease however the
    block ends."""
    holder = new_holder()
    if not acquire_waiting(factory, name, holder, seconds, wait):
        raise busy
    try:
        yield holder
    finally:
        release(factory, name, holder)
