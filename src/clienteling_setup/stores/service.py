"""The store directory: add, replace, remove and bulk-load stores."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from itertools import islice

from clienteling_setup import errors
from clienteling_setup.db.base import utcnow
from clienteling_setup.stores.models import Store
from clienteling_setup.stores.schemas import StoreImportRow, StoreValues, StoreWrite
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
    _keep_country(uow, store_id, store.country_code, body.country_code)
    for key, value in body.model_dump().items():
        setattr(store, key, value)
    store.updated_at = utcnow()
    return store, False


def delete_store(uows: UnitsOfWork, tenant_id: str, store_id: str) -> None:
    """Remove a store that holds nothing in Twilio (and its finished offboarding's record)."""
    with uows.of(tenant_id) as uow:
        store = uow.stores.require(store_id)
        if holds_anything(uow, store_id):
            raise errors.Conflict(
                f"Store '{store_id}' is onboarded to clienteling (or keeps a number). Offboard "
                f"it first with POST /clienteling/stores/{store_id}/offboard, or send "
                f"DELETE /clienteling/stores/{store_id}?offboard=true, which offboards it "
                "(releasing its numbers) and then deletes it."
            )
        offboarding = uow.offboardings.get(store_id)
        if offboarding is not None:
            uow.offboardings.delete(offboarding)
        uow.stores.delete(store)


def holds_anything(uow: UnitOfWork, store_id: str) -> bool:
    """An onboarding (under way or done), a WhatsApp sender, a claimed number, or an
    offboarding under way: something in Twilio is, or may be, the store's."""
    return (
        uow.onboardings.get(store_id) is not None
        or uow.senders.get(store_id) is not None
        or bool(uow.numbers.of_store(store_id))
        or uow.offboardings.in_progress(store_id) is not None
    )


def _keep_country(uow: UnitOfWork, store_id: str, country: str, new_country: str) -> None:
    """A store onboarded with a number of its country cannot move to another country."""
    if country != new_country and uow.onboardings.get(store_id) is not None:
        raise _country_fixed(store_id, country)


def _country_fixed(store_id: str, country: str) -> errors.Conflict:
    return errors.Conflict(
        f"Store '{store_id}' is onboarded with a number of {country}; its country cannot change."
    )


#: Rows per upsert statement of an import.
IMPORT_CHUNK = 1000


def import_stores(uows: UnitsOfWork, tenant_id: str, rows: Iterable[StoreImportRow]) -> int:
    """`import_store_values` of validated rows."""
    return import_store_values(uows, tenant_id, (row.values() for row in rows))


def import_store_values(uows: UnitsOfWork, tenant_id: str, rows: Iterable[StoreValues]) -> int:
    """Upsert rows validated by `StoreImportRow` in one transaction (all or none),
    `IMPORT_CHUNK` rows per statement. `rows` is consumed as it comes (a file streamed, any
    number of rows, bounded memory); if it raises, as the command line's reader does after an
    invalid row, or a row would move an onboarded store to another country (409), nothing is
    written.

    One chunk is written while the next is read and validated: the write runs on a thread of
    its own (the database works with the interpreter's lock released), one write at a time on
    the unit of work's connection, and the transaction ends only after the last one."""
    count = 0
    with uows.of(tenant_id) as uow, ThreadPoolExecutor(1, "store-import") as writer:
        # The stores whose country is fixed by their number, read once (not per chunk).
        fixed = uow.onboardings.store_countries()
        remaining = iter(rows)
        writing: Future[None] | None = None
        try:
            while chunk := list(islice(remaining, IMPORT_CHUNK)):
                for row in chunk:
                    country = fixed.get(row[0])
                    if country is not None and country != row[2]:
                        raise _country_fixed(row[0], country)
                if writing is not None:
                    writing.result()  # the previous chunk is in (or its error is raised)
                writing = writer.submit(uow.stores.upsert_many, chunk)
                count += len(chunk)
            if writing is not None:
                writing.result()
        finally:
            if writing is not None:
                wait([writing])  # never roll back under a write in flight
    return count
