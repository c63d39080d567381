"""What a persistent world changed since it was last written: the tables and the commit lock.

A world kept in a file (`persistence.WorldStore`) swaps its record dicts for `Table`s and its
lock for a `CommitLock`. A `Table` notes each key set or deleted, and tags the records it holds
so that a changed field (`models.Record.__setattr__`) notes the record's key too; when the
outermost holder of the world's lock lets go, the store writes what was noted. Handlers need not
know: they change records under the lock as they always did. An in-memory world (the tests')
keeps plain dicts and a plain lock, and pays nothing.

One rule follows: replace a record's list or dict field instead of changing it in place (an
in-place change of a nested value is not seen).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from .models import Record

#: The attribute a record held by a `Table` carries: (table, key).
HELD_BY = "_held_by"
_tracking = 0  # open persistent worlds in this process
_tracking_lock = threading.Lock()


def _noting_setattr(record: Any, name: str, value: Any) -> None:
    object.__setattr__(record, name, value)
    held = record.__dict__.get(HELD_BY)
    if held is not None:
        held[0].touch(held[1])


def track_changes(on: bool) -> None:
    """Count a persistent world opened (True) or closed (False). While one is open, every
    `Record` notes its field changes to its table; class-wide, because a ``__setattr__`` is
    looked up on the class, and only then, because it slows every record's construction."""
    global _tracking
    with _tracking_lock:
        _tracking += 1 if on else -1
        if _tracking == 1 and on:
            Record.__setattr__ = _noting_setattr  # type: ignore[method-assign]
        elif _tracking == 0 and "__setattr__" in Record.__dict__:
            del Record.__setattr__


class Journal:
    """The (table name, key) pairs changed since the last write, in the order of their first
    change (a dict as an ordered set: new records are written in the order they were added)."""

    def __init__(self) -> None:
        self.changed: dict[tuple[str, Hashable], None] = {}

    def take(self) -> dict[tuple[str, Hashable], None]:
        changed, self.changed = self.changed, {}
        return changed


class Table(dict[Hashable, Any]):
    """A dict of records that notes in a `Journal` every key it sets or deletes."""

    def __init__(self, journal: Journal, name: str, items: Mapping[Hashable, Any]) -> None:
        super().__init__()
        self.journal = journal
        self.name = name
        for key, record in items.items():
            dict.__setitem__(self, key, record)
            self._hold(key, record)

    def _hold(self, key: Hashable, record: Any) -> None:
        if hasattr(record, "__dict__"):
            object.__setattr__(record, HELD_BY, (self, key))

    def touch(self, key: Hashable) -> None:
        self.journal.changed[self.name, key] = None

    def __setitem__(self, key: Hashable, record: Any) -> None:
        super().__setitem__(key, record)
        self._hold(key, record)
        self.touch(key)

    def __delitem__(self, key: Hashable) -> None:
        super().__delitem__(key)
        self.touch(key)

    def pop(self, key: Hashable, *default: Any) -> Any:
        if key in self:
            self.touch(key)
        return super().pop(key, *default)

    def popitem(self) -> tuple[Hashable, Any]:
        key, record = super().popitem()
        self.touch(key)
        return key, record

    def setdefault(self, key: Hashable, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, record in dict(*args, **kwargs).items():
            self[key] = record

    def __ior__(self, other: Any) -> Table:  # type: ignore[misc]
        self.update(other)
        return self

    def clear(self) -> None:
        for key in self:
            self.touch(key)
        super().clear()


class CommitLock:
    """A re-entrant lock that calls `commit` when its outermost holder lets go.

    `commit` runs while the lock is still held, so it sees the world between two changes; it runs
    also when the block raised, since the records changed before the exception are in memory.
    """

    def __init__(self, commit: Callable[[], None]) -> None:
        self._lock = threading.RLock()
        self._depth = 0  # only changed by the thread holding the lock
        self._commit = commit

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if not self._lock.acquire(blocking, timeout):
            return False
        self._depth += 1
        return True

    def release(self) -> None:
        try:
            if self._depth == 1:
                self._commit()
        finally:
            self._depth -= 1
            self._lock.release()

    def __enter__(self) -> CommitLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
