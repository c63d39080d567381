"""A small thread-safe TTL cache for Twilio list answers (per tenant and query)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class TTLCache:
    def __init__(self, ttl_seconds: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._items: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}

    def get_or_load(self, key: Hashable, load: Callable[[], T]) -> T:
        hit = self._get(key)
        if hit is not None:
            return hit[0]  # type: ignore[no-any-return]
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:  # one loader per key: concurrent misses pay Twilio once
            hit = self._get(key)
            if hit is not None:
                return hit[0]  # type: ignore[no-any-return]
            value = load()
            with self._lock:
                if len(self._items) >= self.max_entries:
                    self._items.clear()
                self._items[key] = (time.monotonic() + self.ttl, value)
            return value

    def _get(self, key: Hashable) -> tuple[Any] | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] < time.monotonic():
                return None
            return (item[1],)

    def invalidate(self, predicate: Callable[[Hashable], bool]) -> None:
        with self._lock:
            for key in [k for k in self._items if predicate(k)]:
                del self._items[key]

    def replace(self, predicate: Callable[[Hashable], bool], change: Callable[[Any], Any]) -> None:
        """Replace the value of every live entry whose key matches with `change(value)`,
        keeping its expiry (a correction of a cached answer, not a fresher one)."""
        with self._lock:
            for key, (expires, value) in list(self._items.items()):
                if predicate(key):
                    self._items[key] = (expires, change(value))
