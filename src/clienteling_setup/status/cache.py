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

Beside each document the cache keeps two of its parts (`part`), under the same bound: the head
(the tenant, Twilio, the opt-in template, the country summaries) and the tail (the disabling,
the account's numbers and their orphans), each keyed by what it is built from. While a bulk
job writes, every read misses on the document, but the parts still match (a store's write
moves only the stores' figures of the fingerprint, and the country counts when a store is
onboarded): the read joins the stores' stored entries between them, and the orphans' query
and the compliance rows are not read again.
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
#: The slot of a tenant's whole document (its parts have their own names).
DOCUMENT = "document"


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
    #: Builds that reused a cached part (head or tail) instead of building it.
    part_hits: int


class _Flight:
    """One build in progress: the readers that miss on the same key wait for its result."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.document: bytes | None = None


class StatusCache:
    """Serialised documents of the most recently read tenants, bounded by bytes."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        #: (tenant, DOCUMENT or a part's name) -> (key, bytes), least recently read first.
        self._documents: OrderedDict[tuple[str, str], tuple[tuple[Any, ...], bytes]] = OrderedDict()
        self._flights: dict[tuple[str, tuple[Any, ...]], _Flight] = {}
        self._bytes = 0
        self._hits = self._misses = self._builds = self._shared = self._part_hits = 0
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
            hit = self._documents.get((tenant_id, DOCUMENT))
            if hit is not None and hit[0] == key:
                self._documents.move_to_end((tenant_id, DOCUMENT))
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

    def part(
        self, tenant_id: str, name: str, key: tuple[Any, ...], build: Callable[[], bytes]
    ) -> bytes:
        """The tenant's part `name` of the document (serialised) if it was built from `key`,
        else `build()`, remembered under `key`. Called while building the document."""
        slot = (tenant_id, name)
        with self._lock:
            hit = self._documents.get(slot)
            if hit is not None and hit[0] == key:
                self._documents.move_to_end(slot)
                self._part_hits += 1
                return hit[1]
        built = build()
        with self._lock:
            self._remember(slot, key, built)
        return built

    def _build(self, tenant_id: str, key: tuple[Any, ...], build: Callable[[], bytes]) -> bytes:
        document = build()
        with self._lock:
            self._builds += 1
            self._remember((tenant_id, DOCUMENT), key, document)
        return document

    def _remember(self, slot: tuple[str, str], key: tuple[Any, ...], value: bytes) -> None:
        """Keep `value` under `slot` (the lock held), the least recently read out first."""
        self._forget(slot)
        size = len(value) + ENTRY_OVERHEAD
        if size <= self.max_bytes:
            self._documents[slot] = (key, value)
            self._bytes += size
            while self._bytes > self.max_bytes:
                self._forget(next(iter(self._documents)))

    def _forget(self, slot: tuple[str, str]) -> None:
        old = self._documents.pop(slot, None)
        if old is not None:
            self._bytes -= len(old[1]) + ENTRY_OVERHEAD

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(
                bytes=self._bytes,
                entries=sum(1 for _, name in self._documents if name == DOCUMENT),
                max_bytes=self.max_bytes,
                hits=self._hits,
                misses=self._misses,
                builds=self._builds,
                shared=self._shared,
                part_hits=self._part_hits,
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
    (
        "part_hits",
        CounterMetricFamily,
        "Cold reads that reused a cached part of the document (its head or its tail).",
        "part_hits",
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
