from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from clienteling_setup.workflow.models import Lease


class LeaseRepository:
    """Leases are named by the workflow and subject (`onboard:<tenant>:<store>`), not scoped."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def insert(self, name: str, holder: str, until: datetime) -> None:
        self.session.add(Lease(name=name, holder=holder, expires_at=until))
        self.session.flush()

    def current_holder(self, name: str) -> str | None:
        lease = self.session.get(Lease, name)
        return lease.holder if lease is not None else None

    def take(
        self, name: str, holder: str, until: datetime, *, now: datetime, dead: str | None
    ) -> bool:
        """Take the lease if it expired, is ours already, or its holder `dead` is gone."""
        takeable = (Lease.expires_at < now) | (Lease.holder == holder)
        if dead is not None:
            takeable = takeable | (Lease.holder == dead)
        taken = self.session.execute(
            update(Lease)
            .where(Lease.name == name)
            .where(takeable)
            .values(holder=holder, expires_at=until)
        )
        return bool(taken.rowcount == 1)  # type: ignore[attr-defined]

    def delete(self, name: str, holder: str) -> None:
        self.session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))
