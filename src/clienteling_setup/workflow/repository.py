from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from clienteling_setup.db.base import utcnow
from clienteling_setup.workflow.models import Lease


class LeaseRepository:
    """Leases are named by the workflow and subject (`onboard:<tenant>:<store>`), not scoped."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def now(self) -> datetime:
        """The database's clock, which every process and host sharing it agrees on. SQLite is
        one host's file: its processes share that host's clock."""
        if self.session.get_bind().dialect.name == "sqlite":
            return utcnow()
        return self.session.execute(select(func.now())).scalar_one().astimezone(UTC)

    def insert(self, name: str, holder: str, *, until: datetime, now: datetime) -> None:
        self.session.add(Lease(name=name, holder=holder, expires_at=until, heartbeat_at=now))
        self.session.flush()

    def take(
        self,
        name: str,
        holder: str,
        *,
        until: datetime,
        now: datetime,
        stale_before: datetime,
        unreleased: Collection[str],
    ) -> tuple[str, str] | None:
        """Take the lease if it is ours already, expired, its heartbeat is older than
        `stale_before`, or its holder is one of ours whose release failed (`unreleased`).
        Returns (previous holder, why it could be taken), or None while a live holder has it."""
        lease = self.session.get(Lease, name)
        if lease is None:
            return None  # released meanwhile: the caller's next try inserts it
        previous = lease.holder
        if previous == holder or previous in unreleased:
            reason = "ours"
        elif lease.expires_at < now:
            reason = "expired"
        elif lease.heartbeat_at is not None and lease.heartbeat_at < stale_before:
            reason = "heartbeat"
        else:
            return None
        # The same conditions again in the update: a holder that renewed or beat since the
        # read above keeps its lease.
        takeable = (
            (Lease.holder == holder)
            | (Lease.expires_at < now)
            | (Lease.heartbeat_at < stale_before)
            | Lease.holder.in_(list(unreleased))
        )
        taken = self.session.execute(
            update(Lease)
            .where(Lease.name == name, Lease.holder == previous)
            .where(takeable)
            .values(holder=holder, expires_at=until, heartbeat_at=now)
        )
        return (previous, reason) if taken.rowcount == 1 else None  # type: ignore[attr-defined]

    def beat(self, holders: Collection[str], now: datetime) -> None:
        """The heartbeat of every lease these holders still have."""
        self.session.execute(
            update(Lease).where(Lease.holder.in_(list(holders))).values(heartbeat_at=now)
        )

    def delete(self, name: str, holder: str) -> None:
        self.session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))
