"""Each store's entry of the status document, serialised and kept current on write.

Most of the status document is `stores[]`: one entry per store, from three of the tenant's
tables (the store, its SMS onboarding, its WhatsApp sender). Each entry is kept serialised in
`status_store_fragments` (`status.models.StoreFragment`), beside the two facts the country
summaries count (the store's country, whether it is onboarded for SMS), and rewritten in the
transaction of any write that changes what it shows:

* writes through the session are noticed: rows before each flush (new, changed and deleted
  `Store`, `StoreOnboarding` and `WhatsAppSenderRecord` rows), and INSERT, UPDATE and DELETE
  statements on their tables before they run (the rows they will change are read first);
  writes past the session (on its connection) say which stores they touched with
  `db.changes.stores_touched`;
* an upsert of whole store rows (the import, a chunk at a time) has its stores' entries written
  at once, from the values it wrote (`write_written`, through `db.changes.stores_written`):
  nothing is rebuilt, locked or held for them at commit, whatever the size of the import;
* before the transaction commits, each touched store's entry is rebuilt from its rows and
  written, or removed with the store. On PostgreSQL the stores' rows are locked first, so two
  transactions changing one store (an onboarding step and a sender callback, say) write its
  entry one after the other, the second from what the first committed. SQLite's transactions
  are serialised already (BEGIN IMMEDIATE, `db.session`).

A status read then assembles the document from the stored entries in one scan of one table
(`status.view`): it serialises the head and the country summaries, never a store. A read right
after one store changed costs the same, since the write rebuilt that store's entry already.
`repair` rebuilds entries that are missing or left over (a database from before this table, a
write that bypassed both ways above); until then reads fall back to building every entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from itertools import chain
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from clienteling_setup.db import changes
from clienteling_setup.db.changes import WrittenStore
from clienteling_setup.onboarding.models import StoreOnboarding
from clienteling_setup.status.repository import (
    FragmentRow,
    OnboardingRow,
    SenderRow,
    StatusRepository,
    stores_a_statement_changes,
)
from clienteling_setup.stores.models import Store
from clienteling_setup.unit_of_work import UnitsOfWork
from clienteling_setup.whatsapp.models import WhatsAppSenderRecord

#: Stores rebuilt per round of queries (an IN list each).
CHUNK = 500
#: Beyond this many stores at once, every entry of the tenant is rebuilt from full scans.
WHOLE_TENANT = 4 * CHUNK

#: The `whatsapp` channel of a store without a sender.
NO_WHATSAPP: dict[str, Any] = {
    "sid": None,
    "status": "not_onboarded",
    "waba": None,
    "quality_rating": None,
    "messaging_limit": None,
    "offline_reasons": [],
    "phone_number": None,
    "last_error": None,
}

#: The `sms` channel of a store onboarded for SMS, and of one never tried.
SMS_ONBOARDED: dict[str, Any] = {
    "status": "onboarded",
    "pending_phone_number": None,
    "last_error": None,
}
#: A US store whose number is ready while its A2P 10DLC campaign is not verified yet.
SMS_REGISTRATION_PENDING: dict[str, Any] = {
    "status": "registration_pending",
    "pending_phone_number": None,
    "last_error": None,
}
SMS_NOT_ONBOARDED: dict[str, Any] = {
    "status": "not_onboarded",
    "pending_phone_number": None,
    "last_error": None,
}


#: SMS states whose store has its number (it shows `phone_number`, and counts as onboarded in
#: its country's summary); ``registration_pending``: a US store whose Messaging Service has
#: no verified A2P 10DLC campaign yet (the status queries say so, `repository._sms_status`).
NUMBER_READY = ("onboarded", "registration_pending")


def last_error(message: str | None, at: Any, request_id: str | None) -> dict[str, Any] | None:
    """A channel's `last_error` from its row's columns; `at` is a datetime (the ORM,
    psycopg) or the text SQLite stores it as: the same instant reads the same either way."""
    if message is None:
        return None
    when: datetime | None = None
    if isinstance(at, datetime):
        when = at
    elif isinstance(at, str):
        when = datetime.fromisoformat(at)
    if when is not None:
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return {
        "message": message,
        "request_id": request_id,
        "at": when.isoformat().replace("+00:00", "Z") if when is not None else None,
    }


def sms_channel(row: OnboardingRow | None) -> dict[str, Any]:
    """`channels.sms` from the store's onboarding row (None: none). A store stuck pending
    shows the number it claimed and why the last attempt failed."""
    if row is None:
        return SMS_NOT_ONBOARDED
    if row[2] == "onboarded":
        return SMS_ONBOARDED
    if row[2] == "registration_pending":
        return SMS_REGISTRATION_PENDING
    return {
        "status": "pending",
        "pending_phone_number": row[1],
        "last_error": last_error(row[3], row[4], row[5]),
    }


def whatsapp_channel(row: SenderRow) -> dict[str, Any]:
    """`channels.whatsapp` of a store with a sender row. The last error is shown while the
    sender does not exist (a registration that failed before Twilio created it)."""
    _store_id, sid, status, waba, quality, limit, offline, number, error, at, request_id = row
    return {
        "sid": sid,
        "status": (status or "not_onboarded").lower(),
        "waba": waba,
        "quality_rating": quality,
        "messaging_limit": limit,
        "offline_reasons": list(offline or []),
        "phone_number": number,
        "last_error": last_error(error, at, request_id) if sid is None else None,
    }


def store_entry(
    store: tuple[str, str, str],
    onboarding: OnboardingRow | None,
    sender: SenderRow | None,
) -> dict[str, Any]:
    """One `stores[]` entry: `store` is (id, name, country), `onboarding` its SMS onboarding
    row, `sender` its WhatsApp sender row."""
    store_id, name, country = store
    number_ready = onboarding is not None and onboarding[2] in NUMBER_READY
    return {
        "id": store_id,
        "name": name,
        "country_code": country,
        "phone_number": onboarding[1] if onboarding is not None and number_ready else None,
        "channels": {
            "sms": sms_channel(onboarding),
            "whatsapp": whatsapp_channel(sender) if sender is not None else NO_WHATSAPP,
        },
    }


def refresh(session: Session, tenant_id: str, store_ids: Iterable[str]) -> None:
    """Rebuild and write the entries of these stores of the tenant from their rows (and
    remove those of stores that are gone), in the session's transaction."""
    status = StatusRepository(session, tenant_id)
    wanted = sorted(set(store_ids))
    if len(wanted) > WHOLE_TENANT:
        _refresh_all(status)
        return
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        status.lock_stores(chunk)
        stores = status.stores_among(chunk)
        _write_entries(status, stores)
        gone = set(chunk).difference(store[0] for store in stores)
        if gone:
            status.delete_fragments(gone)


def write_written(session: Session, tenant_id: str, stores: Sequence[WrittenStore]) -> None:
    """The entries of stores whose rows were just written with these values (id, name,
    country_code), in the session's transaction: `db.changes.stores_written`, what the
    import's upsert calls after each chunk. The stores' rows are not read again; their
    onboardings and senders are looked up, unless the tenant has none at all.

    Read after the upsert, which on PostgreSQL locked each row it inserted or found (changed
    or not): a writer that onboards one of these stores meanwhile rewrites its entry after
    this transaction commits (`refresh` locks the store first), and one that committed before
    is seen here. SQLite's write transactions are serialised."""
    status = StatusRepository(session, tenant_id)
    if status.has_channels():
        _write_entries(status, stores)
    else:
        status.write_fragments([_fragment_row(store, {}, {}) for store in stores])


def _write_entries(status: StatusRepository, stores: Sequence[tuple[str, str, str]]) -> None:
    """Write the entries of these stores, (id, name, country_code) each, from their SMS
    onboardings and WhatsApp senders (two look-ups by key)."""
    if not stores:
        return
    ids = [store[0] for store in stores]
    onboardings = {row[0]: row for row in status.onboardings_among(ids)}
    senders = {row[0]: row for row in status.senders_among(ids)}
    status.write_fragments([_fragment_row(s, onboardings, senders) for s in stores])


def _refresh_all(status: StatusRepository) -> None:
    """Every entry of the tenant, from the three scans of a full build (an import of many
    stores, a repair): cheaper than looking thousands of stores up by key."""
    status.lock_stores(None)
    onboardings = {row[0]: row for row in status.onboardings()}
    senders = {row[0]: row for row in status.senders()}
    stores = status.stores()
    for start in range(0, len(stores), CHUNK * 4):
        chunk = stores[start : start + CHUNK * 4]
        status.write_fragments([_fragment_row(s, onboardings, senders) for s in chunk])
    status.delete_fragments_except([store[0] for store in stores])


def _fragment_row(
    store: tuple[str, str, str],
    onboardings: dict[str, OnboardingRow],
    senders: dict[str, SenderRow],
) -> FragmentRow:
    onboarding = onboardings.get(store[0])
    return (
        store[0],
        store[2],
        onboarding is not None and onboarding[2] in NUMBER_READY,
        orjson.dumps(store_entry(store, onboarding, senders.get(store[0]))),
    )


def repair(session: Session, tenant_id: str) -> int:
    """Rebuild the entries of the tenant's stores that have none, and remove entries whose
    store is gone. Returns how many were fixed. Two counts when all is in place (each
    reconciliation pass checks): the searches run only when the counts differ."""
    status = StatusRepository(session, tenant_id)
    if status.fragment_count() == status.store_count():
        return 0
    broken = status.stores_without_fragment() + status.fragments_without_store()
    refresh(session, tenant_id, broken)
    return len(broken)


def repair_tenant(uows: UnitsOfWork, tenant_id: str) -> int:
    """`repair` in a unit of work of its own (for reconciliation)."""
    with uows.of(tenant_id) as uow:
        return repair(uow.session, tenant_id)


def keep_current(sessions: sessionmaker[Session]) -> None:
    """Make every session of `sessions` keep the entries of the stores it writes current
    (the composition root calls this once for the service's sessions)."""
    event.listen(sessions, "before_flush", _notice_orm_writes)
    event.listen(sessions, "do_orm_execute", _notice_orm_statements)
    event.listen(sessions, "before_commit", _rewrite_touched)
    event.listen(sessions, "after_rollback", changes.forget_touched)
    changes.write_stores_with(sessions, write_written)


_SOURCES = (Store, StoreOnboarding, WhatsAppSenderRecord)


def _notice_orm_writes(session: Session, _context: object, _instances: object) -> None:
    dirty = (row for row in session.dirty if session.is_modified(row))  # not set to the same
    for row in chain(session.new, dirty, session.deleted):
        if isinstance(row, Store):
            changes.stores_touched(session, row.tenant_id, [row.id])
        elif isinstance(row, (StoreOnboarding, WhatsAppSenderRecord)):
            changes.stores_touched(session, row.tenant_id, [row.store_id])


def _notice_orm_statements(execution: ORMExecuteState) -> None:
    """An INSERT, UPDATE or DELETE statement on the stores' rows, run through the session
    (`session.execute(update(Store)...)`): the stores it is about to change, read first."""
    if not (execution.is_insert or execution.is_update or execution.is_delete):
        return
    mapper = execution.bind_mapper
    if mapper is None or mapper.class_ not in _SOURCES:
        return
    model = mapper.class_
    key = model.__table__.c.id if model is Store else model.__table__.c.store_id
    session = execution.session
    if execution.is_insert:
        params: Any = execution.parameters
        given: list[Any] = params if isinstance(params, list) else [params or {}]
        if not any(given):  # insert(...).values(...): the values are in the statement
            given = [execution.statement.compile().params]  # type: ignore[attr-defined]
        for values in given:
            changes.stores_touched(session, values["tenant_id"], [values[key.key]])
    elif isinstance(execution.parameters, list) and execution.parameters:
        for values in execution.parameters:  # a bulk UPDATE by primary key
            changes.stores_touched(session, values["tenant_id"], [values[key.key]])
    elif execution.is_update or execution.is_delete:
        where = execution.statement.whereclause  # type: ignore[attr-defined]
        for tenant_id, store_id in stores_a_statement_changes(session, model, where):
            changes.stores_touched(session, tenant_id, [store_id])


def _rewrite_touched(session: Session) -> None:
    session.flush()  # the block's last ORM writes, noticed above, reach the database first
    for tenant_id, store_ids in changes.take_touched(session).items():
        refresh(session, tenant_id, store_ids)
