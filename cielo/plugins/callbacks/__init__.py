"""Bundled plugin: live feedback (live_table, live_plot, best_effort, peak_stats, progress)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

from cielo.core import hookimpl
from cielo.hookspecs import CallbackFactory

from ._factories import best_effort, live_plot, live_table, peak_stats, progress
from ._record import with_peak_stats

if TYPE_CHECKING:
    from cielo.core import RunEngine

__all__ = ["cielo_callbacks", "cielo_engine_created", "with_peak_stats"]


@hookimpl
def cielo_callbacks() -> Mapping[str, CallbackFactory]:
    """Offer ``live_table``, ``live_plot``, ``best_effort``, ``peak_stats`` and ``progress``."""
    return {
        "live_table": live_table,
        "live_plot": live_plot,
        "best_effort": best_effort,
        "peak_stats": peak_stats,
        "progress": progress,
    }


@hookimpl
def cielo_engine_created(engine: RunEngine) -> None:
    """Let interactive plots draw while ``RE(plan)`` waits, not only after it returns."""
    engine.add_caller_hook(_draw_queued_plots)


def _draw_queued_plots() -> None:
    # Called every ~50 ms by a waiting engine: free unless a plot has queued GUI work,
    # and a no-op off the main thread (GUI toolkits draw only there).
    gui = sys.modules.get("cielo.callbacks._gui")
    if gui is not None and threading.current_thread() is threading.main_thread():
        if gui.pending_gui_work():
            gui.process_gui_events()
