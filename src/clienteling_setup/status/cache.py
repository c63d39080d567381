"""A cache of serialised status documents, keyed by a fingerprint of what they are built from.

The status document depends only on the tenant's rows (stores, onboardings, senders, bundles,
trust products, configuration, opt-in template) and the global refreshed requirements. Every
write to them moves their `updated_at` (or `refreshed_at`) forward, and every delete lowers a
count, so (count, newest timestamp) per table changes whenever the document could. Reading
that fingerprint costs a few index lookups; rebuilding the document costs a scan of every
store. The fingerprint is read *before* the document is built, so a write landing in between
can only make a cached document newer than its key, never older: the next read sees another
fingerprint and rebuilds. The check is against the database, so it holds across processes.
The fingerprint query is `StatusRepository.fingerprint`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from clienteling_setup.status.repository import StatusRepository


class StatusCache:
    """Serialised documents of the most recently read tenants (bounded)."""

    def __init__(self, max_tenants: int = 64) -> None:
        self.max_tenants = max_tenants
        self._documents: OrderedDict[str, tuple[tuple[Any, ...], bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_build(self, status: StatusRepository, build: Callable[[], bytes]) -> bytes:
        """The cached document of `status`'s tenant if its fingerprint still matches, else
        `build()` (remembered under the fingerprint read before it ran)."""
        tenant_id = status.tenant_id
        key = status.fingerprint()
        with self._lock:
            hit = self._documents.get(tenant_id)
            if hit is not None and hit[0] == key:
                self._documents.move_to_end(tenant_id)
                return hit[1]
        document = build()
        with self._lock:
            self._documents[tenant_id] = (key, document)
            self._documents.move_to_end(tenant_id)
            while len(self._documents) > self.max_tenants:
                self._documents.popitem(last=False)
        return document
