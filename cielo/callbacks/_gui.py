"""Plot work for GUI toolkits, which must run on the main thread.

Buffered subscribers run on their own threads, and GUI toolkits (Qt, Tk, macOS) allow
figures to be created and drawn only on the main thread. Interactive plots therefore
queue that work here when called from another thread; :func:`process_gui_events`,
called on the main thread (by a waiting RunEngine, an IPython input hook, or the user
between runs), runs it. Headless plots (``Agg``) never queue anything.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

__all__ = ["on_main_thread", "pending_gui_work", "process_gui_events"]

logger = logging.getLogger("cielo.callbacks")
_pending: deque[Callable[[], None]] = deque()


def on_main_thread(work: Callable[[], None]) -> None:
    """Run ``work`` now if on the main thread, else queue it for :func:`process_gui_events`."""
    if threading.current_thread() is threading.main_thread():
        work()
    else:
        _pending.append(work)


def pending_gui_work() -> int:
    """How many pieces of plot work wait for the main thread."""
    return len(_pending)


def process_gui_events() -> int:
    """Run the queued plot work (create figures, redraw, save); return how much ran.

    Call it on the main thread; a failing piece of work is logged and the rest still run.
    """
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError(
            "process_gui_events() must be called on the main thread (GUI toolkits draw there); "
            f"it was called on {threading.current_thread().name!r}"
        )
    done = 0
    while _pending:
        work = _pending.popleft()
        try:
            work()
        except Exception:
            logger.exception("plot work %r failed", work)
        done += 1
    return done
