"""The heap while a plan runs: no full garbage collection of what existed before it.

A full (generation 2) collection visits every object the process tracks. With Bluesky,
ophyd, numpy and a session's data imported that is hundreds of thousands of objects, and
the collection runs on whichever thread happens to allocate: on the engine's loop thread
it held the loop for 180-240 ms at the start of a 200-point count
(``benchmarks/bench_loop_ticks.py``, ``gc`` column). While ``RE(plan)`` runs, the objects
that existed before it are moved to the permanent generation (:func:`gc.freeze`, a list
splice), so collections during the plan visit only what the plan made; when the last
running engine returns they are moved back (:func:`gc.unfreeze`) and collected as usual.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["frozen_heap"]

_lock = threading.Lock()
_holders = 0
#: the freeze is ours to lift (nothing was frozen by someone else, e.g. before a fork)
_ours = False


@contextmanager
def frozen_heap(enabled: bool = True) -> Iterator[None]:
    """Freeze the garbage collector's view of the heap for the ``with`` block.

    Process-wide and counted: engines running at once in several threads share one
    freeze, lifted when the last of them leaves. Cyclic garbage made before the block is
    collected after it; objects made inside it are collected as usual. A heap someone
    else froze (``gc.freeze()`` before a fork) is left as it is.
    """
    global _holders, _ours
    if not enabled:
        yield
        return
    with _lock:
        _holders += 1
        if _holders == 1:
            _ours = gc.get_freeze_count() == 0
            if _ours:
                gc.freeze()
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _ours:
                gc.unfreeze()
