from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clienteling_setup import errors
from clienteling_setup.stores.models import Store


class StoreRepository:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def get(self, store_id: str) -> Store | None:
        return self.session.get(Store, (self.tenant_id, store_id))

    def require(self, store_id: str) -> Store:
        store = self.get(store_id)
        if store is None:
            raise errors.NotFound(
                f"Store '{store_id}' is not in the store directory. "
                f"Add it with PUT /clienteling/stores/{store_id}."
            )
        return store

    def add(self, store: Store) -> Store:
        store.tenant_id = self.tenant_id
        self.session.add(store)
        return store

    def delete(self, store: Store) -> None:
        if store.tenant_id == self.tenant_id:
            self.session.delete(store)

    def page(self, *, after: str | None, limit: int, country: str | None) -> list[Store]:
        query = select(Store).where(Store.tenant_id == self.tenant_id)
        if after is not None:
            query = query.where(Store.id > after)
        if country is not None:
            query = query.where(Store.country_code == country)
        return list(self.session.scalars(query.order_by(Store.id).limit(limit)))

    def count(self) -> int:
        query = select(func.count()).select_from(Store).where(Store.tenant_id == self.tenant_id)
        return int(self.session.scalar(query) or 0)
