from __future__ import annotations

from collections.abc import Sequence

from clienteling_setup import errors
from clienteling_setup.db import changes
from clienteling_setup.db.base import utcnow
from clienteling_setup.db.repository import DriverUpsert, TenantScopedRepository
from clienteling_setup.stores.models import Store
from clienteling_setup.stores.schemas import STORE_VALUES, StoreValues

#: The directory columns a write sets (the key, the tenant and the timestamps aside).
FIELDS = STORE_VALUES[1:]


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

    def upsert_many(self, rows: Sequence[StoreValues]) -> None:
        """Insert or replace stores in one statement: INSERT ... ON CONFLICT (tenant_id, id)
        DO UPDATE, on SQLite and PostgreSQL alike. A store whose row already holds those
        values is left as it is (its `updated_at` does not move). Past the ORM and through
        the driver (`db.repository`): no object, no processing per store."""
        now = utcnow()
        mine = {"tenant_id": self.tenant_id, "created_at": now, "updated_at": now}
        _UPSERT.run(self.session, rows, mine)
        # Past the ORM: the status read model writes these stores' stored entries now, from
        # the values just written (not again when the transaction commits).
        written = [(row[0], row[1], row[2]) for row in rows]
        changes.stores_written(self.session, self.tenant_id, written)


_UPSERT = DriverUpsert(
    Store,
    STORE_VALUES,
    constants=("tenant_id", "created_at", "updated_at"),
    key=("tenant_id", "id"),
    changing=FIELDS,
    also_set=("updated_at",),
)
