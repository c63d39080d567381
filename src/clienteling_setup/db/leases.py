"""Named leases in the database: at most one worker per name at a time, across processes.

A lease expires, so a crashed holder never blocks the work for good; the next caller takes over.
Each acquire/release runs in its own short transaction so the lease is visible to everyone.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

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


def new_holder() -> str:
    return uuid.uuid4().hex


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
        taken = session.execute(
            update(Lease)
            .where(Lease.name == name)
            .where((Lease.expires_at < now) | (Lease.holder == holder))
            .values(holder=holder, expires_at=until)
        )
        return bool(taken.rowcount == 1)  # type: ignore[attr-defined]


def release(factory: sessionmaker[Session], name: str, holder: str) -> None:
    with transaction(factory) as session:
        session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))
