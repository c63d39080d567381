"""A cache of serialised status documents, keyed by a fingerprint of what they are built from.

The status document depends only on the tenant's rows (stores, onboardings, senders, bundles,
trust products, configuration, opt-in template) and the global refreshed requirements. Every
write to them moves their `updated_at` (or `refreshed_at`) forward, and every delete lowers a
count, so (count, newest timestamp) per table changes whenever the document could. Writers
that find nothing changed write nothing (reconciliation, callbacks), so the fingerprint, and
the cached document with it, survives a sync pass over an unchanged tenant. Reading that
fingerprint costs a few index lookups; rebuilding the document costs a scan of every store.
The fingerprint is read *before* the document is built, so a write landing in between can
only make a cached document newer than its key, never older: the next read sees another
fingerprint and rebuilds. The check is against the database, so it holds across processes.
The fingerprint query is `StatusRepository.fingerprint`.

The cache is bounded by the bytes of the documents it holds (least recently read first out),
not by a count of tenants: one retailer with 10,000 stores weighs as much as a hundred small
ones. Concurrent readers of one tenant that miss on the same fingerprint share one build
(single flight): the first builds, the others wait for its document.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from clienteling_setup.status.repository import StatusRepository

#: The default bound (`CLIENTELING_STATUS_CACHE_BYTES`): about sixteen 10,000-store tenants.
DEFAULT_MAX_BYTES = 48 * 1024 * 1024
#: Bookkeeping per entry beyond the document itself (key tuple, dict slot, bytes header).
ENTRY_OVERHEAD = 512


@dataclass(frozen=True)
class CacheStats:
    bytes: int
    entries: int
    max_bytes: int
    hits: int
    misses: int
    builds: int
    #: Readers that waited for another reader's build of the same document instead of building.
    shared: int


class _Flight:
    """One build in progress: the readers that miss on the same key wait for its result."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.document: bytes | None = None


class StatusCache:
    """Serialised documents of the most recently read tenants, bounded by bytes."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._documents: OrderedDict[str, tuple[tuple[Any, ...], bytes]] = OrderedDict()
        self._flights: dict[tuple[str, tuple[Any, ...]], _Flight] = {}
        self._bytes = 0
        self._hits = self._misses = self._builds = self._shared = 0
        self._lock = threading.Lock()

    def get_or_build(
        self,
        status: StatusRepository,
        build: Callable[[], bytes],
        *,
        key: tuple[Any, ...] | None = None,
    ) -> bytes:
        """The cached document of `status`'s tenant if its fingerprint still matches, else
        `build()` (remembered under the fingerprint read before it ran). Of several readers
        missing on one fingerprint at once, one builds and the others take its document.
        `key`: the fingerprint, when the caller has just read it."""
        tenant_id = status.tenant_id
        key = status.fingerprint() if key is None else key
        with self._lock:
            hit = self._documents.get(tenant_id)
            if hit is not None and hit[0] == key:
                self._documents.move_to_end(tenant_id)
                self._hits += 1
                return hit[1]
            self._misses += 1
            flight = self._flights.get((tenant_id, key))
            leader = flight is None
            if flight is None:
                flight = self._flights[(tenant_id, key)] = _Flight()
        if not leader:
            flight.done.wait()
            if flight.document is not None:
                with self._lock:
                    self._shared += 1
                return flight.document
            # The build failed: build for ourselves (and fail with our own error, if so).
            return self._build(tenant_id, key, build)
        try:
            flight.document = self._build(tenant_id, key, build)
            return flight.document
        finally:
            with self._lock:
                del self._flights[(tenant_id, key)]
            flight.done.set()

    def _build(self, tenant_id: str, key: tuple[Any, ...], build: Callable[[], bytes]) -> bytes:
        document = build()
        with self._lock:
            self._builds += 1
            self._forget(tenant_id)
            size = len(document) + ENTRY_OVERHEAD
            if size <= self.max_bytes:
                self._documents[tenant_id] = (key, document)
                self._bytes += size
                while self._bytes > self.max_bytes:
                    self._forget(next(iter(self._documents)))
        return document

    def _forget(self, tenant_id: str) -> None:
        old = self._documents.pop(tenant_id, None)
        if old is not None:
            self._bytes -= len(old[1]) + ENTRY_OVERHEAD

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(
                bytes=self._bytes,
                entries=len(self._documents),
                max_bytes=self.max_bytes,
                hits=self._hits,
                misses=self._misses,
                builds=self._builds,
                shared=self._shared,
            )


#: Each metric of the cache: its name after `clienteling_status_cache_`, its kind, its help
#: text and the `CacheStats` figure it reports.
_METRICS: tuple[tuple[str, type[GaugeMetricFamily | CounterMetricFamily], str, str], ...] = (
    ("bytes", GaugeMetricFamily, "Bytes held by cached status documents.", "bytes"),
    (
        "max_bytes",
        GaugeMetricFamily,
        "Bound of the status cache (CLIENTELING_STATUS_CACHE_BYTES).",
        "max_bytes",
    ),
    ("entries", GaugeMetricFamily, "Tenants whose status document is cached.", "entries"),
    ("hits", CounterMetricFamily, "Status reads served from the cache.", "hits"),
    ("misses", CounterMetricFamily, "Status reads the cache could not serve.", "misses"),
    ("builds", CounterMetricFamily, "Status documents built (cold reads).", "builds"),
    (
        "shared_builds",
        CounterMetricFamily,
        "Cold reads that waited for a concurrent reader's build instead of building.",
        "shared",
    ),
)


class StatusCacheCollector:
    """The cache's figures for `GET /metrics` (registered in `clienteling_setup.metrics`)."""

    def __init__(self, cache: StatusCache) -> None:
        self.cache = cache

    def collect(self) -> Iterator[Metric]:
        stats = self.cache.stats()
        for name, family, documentation, figure in _METRICS:
            yield family(
                f"clienteling_status_cache_{name}", documentation, value=getattr(stats, figure)
            )
