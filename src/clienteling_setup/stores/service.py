"""The store directory: add, replace, remove and bulk-load stores."""

from __future__ import annotations

from collections.abc import Iterable

from clienteling_setup import errors
from clienteling_setup.db.base import utcnow
from clienteling_setup.stores.models import Store
from clienteling_setup.stores.schemas import StoreImportRow, StoreWrite
from clienteling_setup.unit_of_work import UnitOfWork, UnitsOfWork


def get_store(uows: UnitsOfWork, tenant_id: str, store_id: str) -> Store:
    with uows.of(tenant_id) as uow:
        return uow.stores.require(store_id)


def page_stores(
    uows: UnitsOfWork, tenant_id: str, *, after: str | None, limit: int, country: str | None
) -> list[Store]:
    with uows.of(tenant_id) as uow:
        return uow.stores.page(after=after, limit=limit, country=country)


def put_store(
    uows: UnitsOfWork, tenant_id: str, store_id: str, body: StoreWrite
) -> tuple[Store, bool]:
    with uows.of(tenant_id) as uow:
        store, created = _put(uow, store_id, body)
        uow.flush()
        return store, created


def _put(uow: UnitOfWork, store_id: str, body: StoreWrite) -> tuple[Store, bool]:
    store = uow.stores.get(store_id)
    if store is None:
        return uow.stores.add(Store(id=store_id, **body.model_dump())), True
    if store.country_code != body.country_code and uow.onboardings.get(store_id) is not None:
        raise errors.Conflict(
            f"Store '{store_id}' is onboarded with a number of {store.country_code}; "
            "its country cannot change."
        )
    for key, value in body.model_dump().items():
        setattr(store, key, value)
    store.updated_at = utcnow()
    return store, False


def delete_store(uows: UnitsOfWork, tenant_id: str, store_id: str) -> None:
    with uows.of(tenant_id) as uow:
        store = uow.stores.require(store_id)
        if uow.onboardings.get(store_id) is not None:
            raise errors.Conflict(
                f"Store '{store_id}' is onboarded to clienteling and its number is in use; "
                "it cannot be removed from the directory."
            )
        uow.stores.delete(store)


def import_stores(uows: UnitsOfWork, tenant_id: str, rows: Iterable[StoreImportRow]) -> int:
    """Upsert validated rows in one transaction (all or none)."""
    count = 0
    with uows.of(tenant_id) as uow:
        for row in rows:
            _put(uow, row.id, StoreWrite(**row.model_dump(exclude={"id"})))
            count += 1
    return count
