"""The garbage collector of a serving process, set once start-up is over.

A cold status rebuild at 10,000 stores allocates some 30,000 containers (a dict per store,
the per-country entries, the driver's row tuples). Those allocations trigger collections, and
every so often a full one, which walks every tracked object of the process: the ~140,000 that
importing FastAPI, SQLAlchemy, pydantic and the service's own models left behind. That walk
was the p99 tail of a cold rebuild (issue 18: 6 full collections in 30 rebuilds; p99 236 ms
with the collector on, 100 ms with it off).

`for_serving()` runs after start-up: one collection, then `gc.freeze()` moves every surviving
object to a permanent generation the collector never walks again (they live as long as the
process anyway), and a larger first-generation threshold makes young collections, and the
promotions that lead to full ones, rarer during a rebuild. Garbage cycles are still collected.
`bench.data_paths` measures cold rebuilds with and without it.

Since the database joins the stores' entries into one value (`status.view.build_document`), a
rebuild allocates a few hundred objects, not tens of thousands: in one process, alternating
the two settings, a 10,000-store rebuild ran 1 collection with CPython's default and none
tuned (12 and none when it read a row per store), and the tuned setting was not the slower one
(p50 176 against 217 ms, on a loaded machine). `bench.data_paths` measures the two settings in
two servers one after the other, tuned first, and twice found tuned slower: that may be the
order (the first reads of a database just loaded) as much as the setting; it is not settled.
It stays: it keeps every other request's full collections off the start-up heap.
"""

from __future__ import annotations

import gc

#: Allocations (net of frees) between young collections; CPython's default is 700.
YOUNG_THRESHOLD = 20_000


def for_serving() -> None:
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
