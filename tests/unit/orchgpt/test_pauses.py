"""The garbage collector's pauses are counted by generation, and only while the hook is in."""

from __future__ import annotations

import gc

from orchgpt.pauses import GcPauses


def test_each_collection_is_counted_under_its_generation_with_its_time() -> None:
    pauses = GcPauses()
    pauses.install()
    pauses.install()  # a second install does not count twice
    try:
        gc.collect(0)
        gc.collect(2)
        gc.collect(2)
    finally:
        pauses.remove()
    assert pauses.collections[2] == 2
    assert pauses.collections[0] >= 1  # allocations may add collections of their own
    assert 0 < pauses.longest[2] <= pauses.seconds[2]
    assert gc.callbacks.count(pauses._hook) == 0

    before = list(pauses.collections)
    gc.collect(2)
    assert pauses.collections == before  # removed: no longer counted
