"""Which stores a transaction changed: what the status read model's per-store fragments
(`status.fragments`) must bring up to date before the transaction commits.

Writes through the ORM are seen on their own (a session event of `status.fragments`). A
write past the ORM (a Core statement, a conditional delete) says here which of a tenant's
stores it touched, in the same transaction, and their entries are rebuilt from their rows
before it commits.

A bulk write of whole store rows (the import's upsert, a chunk at a time) says instead what it
wrote, with `stores_written`: the read model writes those stores' entries at once, from the
values given, in the same transaction, so that nothing accumulates until the commit (an import
of 100,000 stores would otherwise rebuild 100,000 entries from the rows it has just written).

This is shared ground: the write side records, the read model consumes (it installs its writer
with `write_stores_with`), and neither imports the other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from sqlalchemy.orm import Session, sessionmaker

_KEY = "clienteling_touched_stores"
_WRITER = "clienteling_stores_writer"

#: (id, name, country_code) of a store row just written.
WrittenStore = tuple[str, str, str]
#: Writes the entries of stores just written, in the session's transaction.
StoresWriter = Callable[[Session, str, Sequence[WrittenStore]], None]


def stores_touched(session: Session, tenant_id: str, store_ids: Iterable[str]) -> None:
    """Record that this transaction changed (or removed) these stores' rows, their SMS
    onboarding or their WhatsApp sender, other than through the ORM."""
    touched: dict[str, set[str]] = session.info.setdefault(_KEY, {})
    touched.setdefault(tenant_id, set()).update(store_ids)


def stores_written(session: Session, tenant_id: str, stores: Sequence[WrittenStore]) -> None:
    """These stores' rows were just inserted or replaced, past the ORM, with these values
    (id, name, country_code): their entries are written now, by the read model's writer (see
    `write_stores_with`), else recorded as touched. Call it after the write, in its
    transaction (on PostgreSQL the write holds the rows' locks, so that writers of one store's
    entry take turns)."""
    info = session.info  # the writer `write_stores_with` put there, copied to every session
    writer: StoresWriter | None = info.get(_WRITER)
    if writer is None:
        stores_touched(session, tenant_id, (store[0] for store in stores))
    else:
        writer(session, tenant_id, stores)


def write_stores_with(sessions: sessionmaker[Session], writer: StoresWriter) -> None:
    """Every session of `sessions` hands what `stores_written` is told to `writer`."""
    configured = sessions.kw
    info = dict(configured.get("info") or {})
    info[_WRITER] = writer
    sessions.configure(info=info)


def take_touched(session: Session) -> dict[str, set[str]]:
    """The stores recorded so far, by tenant; forgets them."""
    touched: dict[str, set[str]] = session.info.pop(_KEY, {})
    return touched


def forget_touched(session: Session) -> None:
    """The transaction rolled back: what it touched was never written."""
    session.info.pop(_KEY, None)
