"""Bundled plugin: live feedback callbacks (live_table, live_plot, best_effort, peak_stats)."""

from __future__ import annotations

from collections.abc import Mapping

from cielo.core import hookimpl
from cielo.hookspecs._types import CallbackFactory

from ._factories import best_effort, live_plot, live_table, peak_stats

__all__ = ["cielo_callbacks"]


@hookimpl
def cielo_callbacks() -> Mapping[str, CallbackFactory]:
    """Offer ``live_table``, ``live_plot``, ``best_effort`` and ``peak_stats``."""
    return {
        "live_table": live_table,
        "live_plot": live_plot,
        "best_effort": best_effort,
        "peak_stats": peak_stats,
    }
