"""Document consumers: routing base, run router, replay, live table, plots, peak statistics.

Everything here consumes event-model documents as ``callback(name, doc)`` and works on
documents live (subscribed to a RunEngine) or replayed from storage. Plotting imports
matplotlib lazily and peak statistics import nothing beyond numpy, so importing this
package is cheap. It depends on :mod:`cielo.core` only.
"""

from cielo.core import CallbackFailure, RunRouter, callback_name, per_run  # the run router

from ._analysis import AnalysisReadable, save_analysis
from ._base import (
    DOCUMENT_NAMES,
    CallbackBase,
    pack_datum,
    pack_event,
    unpack_datum_page,
    unpack_event_page,
)
from ._best_effort import PLOT_KINDS, BestEffort
from ._figures import FigureCallback, is_headless
from ._gui import on_main_thread, pending_gui_work, process_gui_events
from ._hints import dimensions, hinted_fields, image_fields, independent_fields, is_numeric
from ._peak_stats import (
    PeakStatistics,
    PeakStats,
    PeakStatsCollector,
    compute_peak_stats,
    format_peak_stats,
)
from ._plot_grid import LiveGrid, LiveScatter
from ._plot_image import LiveImage
from ._plot_line import LivePlot
from ._progress import LiveProgress
from ._replay import replay
from ._sync import wait_until
from ._table import LiveTable
from ._values import as_float, finite_json, write_sidecar

__all__ = [
    "as_float",
    "finite_json",
    "write_sidecar",
    "DOCUMENT_NAMES",
    "LiveProgress",
    "PLOT_KINDS",
    "AnalysisReadable",
    "BestEffort",
    "CallbackBase",
    "CallbackFailure",
    "FigureCallback",
    "LiveGrid",
    "LiveImage",
    "LivePlot",
    "LiveScatter",
    "LiveTable",
    "PeakStatistics",
    "PeakStats",
    "PeakStatsCollector",
    "RunRouter",
    "callback_name",
    "compute_peak_stats",
    "format_peak_stats",
    "dimensions",
    "hinted_fields",
    "image_fields",
    "independent_fields",
    "is_headless",
    "is_numeric",
    "on_main_thread",
    "pack_datum",
    "pack_event",
    "pending_gui_work",
    "per_run",
    "process_gui_events",
    "replay",
    "save_analysis",
    "unpack_datum_page",
    "unpack_event_page",
    "wait_until",
]
