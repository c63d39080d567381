"""The serving collector settings: start-up objects frozen, young collections rarer."""

from __future__ import annotations

import gc

from clienteling_setup import gc_tuning


def test_for_serving_freezes_the_start_up_heap_and_raises_the_young_threshold() -> None:
    before = gc.get_threshold()
    start_up = [{"a": i} for i in range(1000)]  # objects the process holds from start-up
    try:
        gc_tuning.for_serving()
        assert gc.get_freeze_count() >= len(start_up)
        assert not any(obj is start_up for obj in gc.get_objects())  # never walked again
        assert gc.get_threshold() == (gc_tuning.YOUNG_THRESHOLD, *before[1:])
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1  # garbage cycles are still collected
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
