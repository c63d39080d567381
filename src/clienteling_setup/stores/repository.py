from __future__ import annotations

from clienteling_setup import errors
from clienteling_setup.db.repository import TenantScopedRepository
from clienteling_setup.stores.models import Store


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
