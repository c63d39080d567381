from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from clienteling_setup import errors
from clienteling_setup.db.base import utcnow
from clienteling_setup.onboarding.repository import get_onboarding
from clienteling_setup.stores import repository
from clienteling_setup.stores.models import Store
from clienteling_setup.stores.schemas import StoreImportRow, StoreWrite


def require_store(session: Session, tenant_id: str, store_id: str) -> Store:
    store = repository.get_store(session, tenant_id, store_id)
    if store is None:
        raise errors.NotFound(
            f"Store '{store_id}' is not in the store directory. "
            f"Add it with PUT /clienteling/stores/{store_id}."
        )
    return store


def put_store(
    session: Session, tenant_id: str, store_id: str, body: StoreWrite
) -> tuple[Store, bool]:
    store = repository.get_store(session, tenant_id, store_id)
    if store is None:
        store = Store(tenant_id=tenant_id, id=store_id, **body.model_dump())
        session.add(store)
        return store, True
    if store.country_code != body.country_code and get_onboarding(session, tenant_id, store_id):
        raise errors.Conflict(
            f"Store '{store_id}' is onboarded with a number of {store.country_code}; "
            "its country cannot change."
        )
    for key, value in body.model_dump().items():
        setattr(store, key, value)
    store.updated_at = utcnow()
    return store, False


def delete_store(session: Session, tenant_id: str, store_id: str) -> None:
    store = require_store(session, tenant_id, store_id)
    if get_onboarding(session, tenant_id, store_id) is not None:
        raise errors.Conflict(
            f"Store '{store_id}' is onboarded to clienteling and its number is in use; "
            "it cannot be removed from the directory."
        )
    session.delete(store)


def import_stores(session: Session, tenant_id: str, rows: Iterable[StoreImportRow]) -> int:
    """Upsert validated rows in the caller's transaction (all or none)."""
    count = 0
    for row in rows:
        put_store(session, tenant_id, row.id, StoreWrite(**row.model_dump(exclude={"id"})))
        count += 1
    return count
