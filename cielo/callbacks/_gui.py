"""Plot work for GUI toolkits, which must run on the main thread.

Buffered subscribers run on their own threads, and GUI toolkits (Qt, Tk, macOS) allow
figures to be created and drawn only on the main thread. Interactive plots therefore
queue that work here when called from another thread; :func:`process_gui_events`,
called on the main thread (after each IPython/Jupyter cell, by the user between runs,
or by a waiting RunEngine that offers it), runs it. Headless plots (``Agg``) never queue anything.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

__all__ = ["on_main_thread", "pending_gui_work", "process_gui_events"]

logger = logging.getLogger("cielo.callbacks")
_pending: deque[Callable[[], None]] = deque()


def on_main_thread(work: Callable[[], None]) -> None:
    """Run ``work`` now if on the main thread, else queue it for :func:`process_gui_events`.

    In IPython/Jupyter the queue is also run after every cell (before the inline backend
    shows the cell's figures), so figures come up to date in the cell that ran the plan.
    """
    if threading.current_thread() is threading.main_thread():
        work()
    else:
        _pending.append(work)
        _hook_ipython()


_hooked: set[int] = set()


def _hook_ipython() -> None:
    ipython_module = sys.modules.get("IPython")  # only when already running under IPython
    if ipython_module is None:
        return
    shell = ipython_module.get_ipython()
    if shell is None or id(shell) in _hooked:
        return
    _hooked.add(id(shell))
    events = shell.events
    events.register("post_execute", _after_cell)
    # Run before matplotlib-inline's ``flush_figures`` (registered on ``post_execute`` when
    # the backend loaded): figures finished after the plan then show in the output of the
    # cell that ran it, not in the next one.
    hooks = getattr(events, "callbacks", {}).get("post_execute")
    if isinstance(hooks, list) and hooks and hooks[-1] is _after_cell:
        hooks.insert(0, hooks.pop())


def _after_cell(*_: Any) -> None:
    inline_loaded = _INLINE in sys.modules
    if process_gui_events() and not inline_loaded:
        inline = sys.modules.get(_INLINE)
        if inline is not None:
            # This work made the first figure, which loaded matplotlib-inline and
            # registered its flush_figures during this very post_execute: IPython calls
            # it only after the next cell, so show this cell's figures now.
            inline.flush_figures()


_INLINE = "matplotlib_inline.backend_inline"


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
