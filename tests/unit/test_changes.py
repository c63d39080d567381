"""`db.changes`: what a bulk write of store rows says it wrote reaches the read model's writer
in the same session, once; without a writer it is remembered for the commit."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session, sessionmaker

from clienteling_setup.db import changes
from clienteling_setup.db.changes import WrittenStore

STORES: list[WrittenStore] = [("a", "Store a", "US"), ("b", "Store b", "CA")]


def test_written_stores_go_to_the_installed_writer_and_are_not_left_for_the_commit() -> None:
    received: list[tuple[str, list[WrittenStore]]] = []

    def writer(_session: Session, tenant_id: str, stores: Sequence[WrittenStore]) -> None:
        received.append((tenant_id, list(stores)))

    sessions: sessionmaker[Session] = sessionmaker()
    changes.write_stores_with(sessions, writer)
    with sessions() as session, sessions() as other:
        changes.stores_written(session, "acme", STORES)
        assert received == [("acme", STORES)]
        assert changes.take_touched(session) == {}
        changes.stores_written(other, "acme", STORES[:1])  # every session has the writer
        assert received[1:] == [("acme", STORES[:1])]


def test_without_a_writer_written_stores_are_touched() -> None:
    with Session() as session:
        changes.stores_written(session, "acme", STORES)
        assert changes.take_touched(session) == {"acme": {"a", "b"}}
        assert changes.take_touched(session) == {}
