"""Reading the ledger: filters checked once, pages by an opaque cursor, and the CSV export.

The cursor is the position of the last entry seen (when it was recorded, its id), so a page
never repeats or skips an entry that was there when the previous page was read, whatever is
appended meanwhile. An entry whose transaction was still open then (recorded a moment earlier,
committed after) can land before the cursor: an export bounded by an `until` a minute in the
past is exact. The CSV export reads page after page, each in a unit of work of its own,
so a long export holds no transaction open while the client reads.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from clienteling_setup import errors
from clienteling_setup.ledger.schemas import (
    CSV_COLUMNS,
    LedgerEntryRead,
    LedgerPage,
    csv_row,
    entry_read,
)
from clienteling_setup.unit_of_work import UnitsOfWork

#: Entries one CSV read takes from the database at a time.
EXPORT_BATCH = 500

Position = tuple[datetime, str]


@dataclass(frozen=True)
class LedgerQuery:
    """What to read: entries of a store, of some actions, recorded within [since, until),
    after `after` (the cursor's position)."""

    store_id: str | None
    actions: tuple[str, ...]
    since: datetime | None
    until: datetime | None
    after: Position | None


def ledger_query(
    *,
    store_id: str | None,
    actions: Sequence[str] | None,
    since: str | None,
    until: str | None,
    cursor: str | None,
) -> LedgerQuery:
    """The query the parameters ask for; 400 naming the parameter for a bad one."""
    start = _instant("since", since)
    end = _instant("until", until)
    if start is not None and end is not None and end <= start:
        raise errors.BadRequest(
            f"'until' ({until}) must be later than 'since' ({since}): the range is [since, until)."
        )
    return LedgerQuery(
        store_id=store_id or None,
        actions=tuple(sorted(set(actions or ()))),
        since=start,
        until=end,
        after=_position(cursor) if cursor else None,
    )


def ledger_page(uows: UnitsOfWork, tenant_id: str, query: LedgerQuery, limit: int) -> LedgerPage:
    entries = _read(uows, tenant_id, query, query.after, limit + 1)
    more = len(entries) > limit
    entries = entries[:limit]
    return LedgerPage(
        items=entries,
        next_cursor=_cursor(entries[-1]) if more and entries else None,
    )


def ledger_csv(uows: UnitsOfWork, tenant_id: str, query: LedgerQuery) -> Iterator[str]:
    """The CSV export: a header row, then one line per entry the query matches, oldest
    first, read `EXPORT_BATCH` entries at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    after = query.after
    while True:
        entries = _read(uows, tenant_id, query, after, EXPORT_BATCH)
        for entry in entries:
            writer.writerow(csv_row(entry))
        if entries:
            yield flush()
        if len(entries) < EXPORT_BATCH:
            return
        after = (entries[-1].recorded_at, entries[-1].entry_id)


def _read(
    uows: UnitsOfWork, tenant_id: str, query: LedgerQuery, after: Position | None, limit: int
) -> list[LedgerEntryRead]:
    with uows.of(tenant_id) as uow:
        rows = uow.ledger.page(
            after=after,
            limit=limit,
            store_id=query.store_id,
            actions=query.actions,
            since=query.since,
            until=query.until,
        )
        return [entry_read(row) for row in rows]


def _instant(name: str, value: str | None) -> datetime | None:
    """An ISO 8601 date or date and time; one without an offset is UTC."""
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise errors.BadRequest(
            f"'{name}': '{value}' is not an ISO 8601 date and time; send one such as "
            "2026-12-01T00:00:00Z (or a date, 2026-12-01)."
        ) from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _cursor(entry: LedgerEntryRead) -> str:
    raw = json.dumps([entry.recorded_at.isoformat(), entry.entry_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _position(cursor: str) -> Position:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, entry_id = json.loads(raw)
        position = (datetime.fromisoformat(at), str(entry_id))
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise errors.BadRequest(
            "'cursor' is not one this service gave: pass the next_cursor of the previous "
            "page unchanged, or leave it out to start from the oldest entry."
        ) from exc
    if position[0].tzinfo is None:
        raise errors.BadRequest("'cursor' is not one this service gave.")
    return position
