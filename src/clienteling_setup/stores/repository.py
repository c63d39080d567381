from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from clienteling_setup import errors
from clienteling_setup.db import changes
from clienteling_setup.db.base import utcnow
from clienteling_setup.db.repository import TenantScopedRepository
from clienteling_setup.stores.models import Store

#: The directory columns a write sets (the key, the tenant and the timestamps aside).
FIELDS = (
    "name",
    "country_code",
    "region",
    "locality",
    "postal_code",
    "phone",
    "latitude",
    "longitude",
)


class StoreRepository(TenantScopedRepository[Store]):
    model = Store

    def require(self, store_id: str) -> Store:
        store = self.get(store_id)
        if store is None:
            raise errors.NotFound(
                f"Store '{store_id}' is not in the store directory. "
                f"Add it with PUT /clienteling/stores/{store_id}."
            )
        return store

    def page(self, *, after: str | None, limit: int, country: str | None) -> list[Store]:
        query = self._select()
        if after is not None:
            query = query.where(Store.id > after)
        if country is not None:
            query = query.where(Store.country_code == country)
        return list(self.session.scalars(query.order_by(Store.id).limit(limit)))

    def count(self) -> int:
        return self._count()

    def upsert_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert or replace stores (each row: `id` and every one of `FIELDS`) in one
        statement: INSERT ... ON CONFLICT (tenant_id, id) DO UPDATE, on SQLite and PostgreSQL
        alike. A store whose row already holds those values is left as it is (its
        `updated_at` does not move). Core rows, past the ORM: no object per store."""
        if not rows:
            return
        dialect = self.session.get_bind().dialect.name
        insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
        statement = insert(Store)
        new = statement.excluded
        table = Store.__table__.c
        statement = statement.on_conflict_do_update(
            index_elements=[table.tenant_id, table.id],
            set_={**{c: new[c] for c in FIELDS}, "updated_at": new.updated_at},
            where=or_(*(table[c].is_distinct_from(new[c]) for c in FIELDS)),
        )
        now = utcnow()
        mine = {"tenant_id": self.tenant_id, "created_at": now, "updated_at": now}
        self.session.connection().execute(statement, [{**row, **mine} for row in rows])
        # Past the ORM: the status read model's stored entries of these stores follow.
        changes.stores_touched(self.session, self.tenant_id, (row["id"] for row in rows))
