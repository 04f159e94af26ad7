"""How long Python's garbage collector stops orchgpt, for the metrics.

Every envelope waits while the cyclic collector runs, and a full collection walks every object
it tracks: orchgpt's own (some 60,000 after start-up) and some 80 per connected stream (grpc.aio's
tasks, futures and call state). On a small machine that is ~25 ms with no agent and ~0.2 s with
5,000, so an operator needs to see it. The hook times each collection with two plain callbacks;
the metrics read its sums at scrape time.

:func:`settle` is for a serving process: what exists once the server has started (modules,
classes, the server itself) lives as long as the process, so it is frozen out of every later
collection, which then walks only what came after.
"""

from __future__ import annotations

import gc
import time
from typing import Any

GENERATIONS = 3


class GcPauses:
    """Collections, seconds stopped and the longest stop, per generation, since :meth:`install`."""

    def __init__(self) -> None:
        self.collections = [0] * GENERATIONS
        self.seconds = [0.0] * GENERATIONS
        self.longest = [0.0] * GENERATIONS
        self._began = 0.0

    def install(self) -> None:
        if self._hook not in gc.callbacks:
            gc.callbacks.append(self._hook)

    def remove(self) -> None:
        if self._hook in gc.callbacks:
            gc.callbacks.remove(self._hook)

    def _hook(self, phase: str, info: dict[str, Any]) -> None:
        # Collections never overlap (one at a time, whatever thread triggers it).
        if phase == "start":
            self._began = time.perf_counter()
            return
        took = time.perf_counter() - self._began
        generation = info["generation"]
        self.collections[generation] += 1
        self.seconds[generation] += took
        if took > self.longest[generation]:
            self.longest[generation] = took


def settle() -> int:
    """Collect once, then freeze what is left out of later collections; how many objects were
    frozen. Call it once the process has started serving, never from library code: it freezes the
    caller's whole heap."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
