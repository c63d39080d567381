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
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import String, delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from clienteling_setup.db.base import Base, utcnow
from clienteling_setup.db.session import transaction


class Lease(Base):
    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]


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
            session.add(Lease(name=name, holder=holder, expires_at=until))
        return True
    except IntegrityError:
        pass
    with transaction(factory) as session:
        current = session.get(Lease, name)
        takeable = (Lease.expires_at < now) | (Lease.holder == holder)
        if current is not None and holder_is_dead(current.holder):
            takeable = takeable | (Lease.holder == current.holder)
        taken = session.execute(
            update(Lease)
            .where(Lease.name == name)
            .where(takeable)
            .values(holder=holder, expires_at=until)
        )
        return bool(taken.rowcount == 1)  # type: ignore[attr-defined]


def release(factory: sessionmaker[Session], name: str, holder: str) -> None:
    with transaction(factory) as session:
        session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))


@contextmanager
def held(
    factory: sessionmaker[Session], name: str, seconds: float, *, busy: Exception
) -> Iterator[str]:
    """Hold lease `name` for the block, raising `busy` when another holder has it; yields the
    holder (for renewals) and releases the lease however the block ends."""
    holder = new_holder()
    if not acquire(factory, name, holder, seconds):
        raise busy
    try:
        yield holder
    finally:
        release(factory, name, holder)
