from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from clienteling_setup.db.base import utcnow
from clienteling_setup.db.repository import TenantScopedRepository
from clienteling_setup.ledger.models import LedgerEntry

#: The columns a caller sets on an entry (the key and the bookkeeping columns aside).
FIELDS = (
    "store_id",
    "phone_number",
    "account_sid",
    "actor",
    "request_id",
    "monthly_price",
    "price_unit",
    "reason",
)


class LedgerRepository(TenantScopedRepository[LedgerEntry]):
    model = LedgerEntry

    def record(self, sid: str, action: str, **values: str | None) -> LedgerEntry:
        """Append the entry for `action` on `sid` unless it is there already, and return the
        one that is: INSERT ... ON CONFLICT DO NOTHING on the primary key, so a concurrent
        transaction recording the same action waits for the other and then writes nothing."""
        unknown = set(values) - set(FIELDS)
        if unknown:
            raise TypeError(f"unknown ledger fields {sorted(unknown)}")
        dialect = self.session.get_bind().dialect.name
        insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
        row = {
            **dict.fromkeys(FIELDS),
            **values,
            "tenant_id": self.tenant_id,
            "sid": sid,
            "action": action,
            "entry_id": uuid.uuid4().hex,
            "recorded_at": utcnow(),
        }
        self.session.execute(insert(LedgerEntry).values(row).on_conflict_do_nothing())
        entry = self.find(sid, action)
        assert entry is not None  # inserted, or there already
        return entry

    def recorded_among(self, sids: Collection[str], action: str) -> set[str]:
        """Those of `sids` with an entry for `action`."""
        found: set[str] = set()
        wanted = list(sids)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            query = select(LedgerEntry.sid).where(
                self._mine(LedgerEntry.action == action, LedgerEntry.sid.in_(chunk))
            )
            found.update(self.session.scalars(query))
        return found

    def find(self, sid: str, action: str) -> LedgerEntry | None:
        return self._one(LedgerEntry.sid == sid, LedgerEntry.action == action)

    def page(
        self,
        *,
        after: tuple[datetime, str] | None,
        limit: int,
        store_id: str | None = None,
        actions: tuple[str, ...] = (),
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[LedgerEntry]:
        """Entries in the order they were recorded, after the cursor (`recorded_at`, entry id
        of the last one seen), within [since, until)."""
        where = []
        if store_id is not None:
            where.append(LedgerEntry.store_id == store_id)
        if actions:
            where.append(LedgerEntry.action.in_(actions))
        if since is not None:
            where.append(LedgerEntry.recorded_at >= since)
        if until is not None:
            where.append(LedgerEntry.recorded_at < until)
        if after is not None:
            at, entry_id = after
            where.append(
                or_(
                    LedgerEntry.recorded_at > at,
                    and_(LedgerEntry.recorded_at == at, LedgerEntry.entry_id > entry_id),
                )
            )
        query = self._select(*where).order_by(LedgerEntry.recorded_at, LedgerEntry.entry_id)
        return list(self.session.scalars(query.limit(limit)))
