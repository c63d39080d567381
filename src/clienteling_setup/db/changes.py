"""Which stores a transaction changed: what the status read model's per-store fragments
(`status.fragments`) must bring up to date before the transaction commits.

Writes through the ORM are seen on their own (a session event of `status.fragments`). A
write past the ORM (a Core statement: the import's upsert, a conditional delete) says here
which of a tenant's stores it touched, in the same transaction. This is shared ground: the
write side records, the read model consumes, and neither imports the other.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

_KEY = "clienteling_touched_stores"


def stores_touched(session: Session, tenant_id: str, store_ids: Iterable[str]) -> None:
    """Record that this transaction changed (or removed) these stores' rows, their SMS
    onboarding or their WhatsApp sender, other than through the ORM."""
    touched: dict[str, set[str]] = session.info.setdefault(_KEY, {})
    touched.setdefault(tenant_id, set()).update(store_ids)


def take_touched(session: Session) -> dict[str, set[str]]:
    """The stores recorded so far, by tenant; forgets them."""
    touched: dict[str, set[str]] = session.info.pop(_KEY, {})
    return touched


def forget_touched(session: Session) -> None:
    """The transaction rolled back: what it touched was never written."""
    session.info.pop(_KEY, None)
