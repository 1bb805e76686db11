"""Factories behind the callbacks plugin's names; each returns ``callback(name, doc)``.

Each factory takes the parameters of a profile's ``[callbacks.NAME]`` table and returns a
callback that may see many runs, interleaved or nested: every run gets its own table,
plots or statistics. :mod:`cielo.callbacks` (and matplotlib) are imported when a
factory is called, never when the plugin is registered.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

__all__ = [
    "PLOTS_FALLBACK",
    "best_effort",
    "live_plot",
    "live_table",
    "peak_stats",
    "progress",
    "resolve_out",
]

#: where plots go as PNG files when a profile asks for plots and there is no display
PLOTS_FALLBACK = "cielo-plots"


def resolve_out(out: str | TextIO | None) -> TextIO | None:
    """``"stdout"``/``"stderr"``/``None`` (standard output) or a stream with ``write``."""
    if out is None or out == "stdout":
        return None
    if out == "stderr":
        return sys.stderr
    if isinstance(out, str):
        raise ValueError(
            f"out={out!r} is not understood: use 'stdout', 'stderr' or, from Python, "
            "a text stream with write()"
        )
    if not hasattr(out, "write"):
        raise TypeError(f"out must be a text stream with write(); got {type(out).__name__}")
    return out


def live_table(
    *,
    fields: Sequence[str] | None = None,
    stream: str = "primary",
    width: int | None = None,
    precision: int = 3,
    header_every: int | None = None,
    out: str | TextIO | None = None,
    fatal: bool = False,
) -> Any:
    """A table of each run's events in the terminal (or notebook): one row per event.

    ``fatal``: re-raise the table's errors to the engine (which records them in
    ``RE.callback_errors`` and, with ``fatal_callback_errors``, fails the run) instead of
    only logging them.
    """
    from cielo.callbacks import LiveTable, per_run

    stream_out = resolve_out(out)
    return per_run(
        lambda: LiveTable(
            fields,
            stream=stream,
            out=stream_out,
            width=width,
            precision=precision,
            header_every=header_every,
        ),
        name="live_table",
        fatal=fatal,
    )


def live_plot(
    *,
    y: str | Sequence[str],
    x: str | None = None,
    kind: str = "line",
    stream: str = "primary",
    directory: str | os.PathLike[str] | None = None,
    filename: str = "{scan_id}-{plan_name}-{field}.png",
    headless: bool | None = None,
    min_interval: float = 0.25,
    fatal: bool = False,
) -> Any:
    """A live plot per run: ``kind`` is ``line`` (y vs x), ``grid``, ``scatter`` or ``image``.

    For ``grid``/``scatter`` ``y`` names the colour field and the axes come from the
    run's dimensions; for ``image`` it names the frame field. ``fatal``: as for
    ``live_table``.
    """
    from cielo.callbacks import LiveGrid, LiveImage, LivePlot, LiveScatter, per_run

    options: dict[str, Any] = dict(
        stream=stream,
        directory=_plot_directory(directory, headless, "live_plot"),
        filename=filename,
        headless=headless,
        min_interval=min_interval,
    )
    single = y if isinstance(y, str) else (y[0] if len(y) == 1 else None)
    if kind == "line":
        return per_run(lambda: LivePlot(y, x=x, **options), name="live_plot", fatal=fatal)
    if single is None:
        raise ValueError(f"live_plot kind={kind!r} shows one field; got y={list(y)!r}")
    if kind == "grid":
        return per_run(lambda: LiveGrid(single, **options), name="live_plot", fatal=fatal)
    if kind == "scatter":
        return per_run(lambda: LiveScatter(single, **options), name="live_plot", fatal=fatal)
    if kind == "image":
        fetch = _frame_reader()
        return per_run(
            lambda: LiveImage(single, fetch=fetch, **options), name="live_plot", fatal=fatal
        )
    raise ValueError(
        f"live_plot kind={kind!r} is unknown; use 'line', 'grid', 'scatter' or 'image'"
    )


def best_effort(
    *,
    enabled: bool = True,
    table: bool = True,
    plots: bool | Sequence[str] = True,
    fields: Sequence[str] | None = None,
    baseline: bool = True,
    max_plots: int = 6,
    width: int | None = None,
    out: str | TextIO | None = None,
    directory: str | os.PathLike[str] | None = None,
    filename: str = "{scan_id}-{plan_name}-{field}.png",
    headless: bool | None = None,
    min_interval: float = 0.25,
    read_frames: bool = True,
    stream: str = "primary",
    fatal: bool = False,
) -> Any:
    """The table and plots each run's hints suggest; ``enabled=false`` turns it off.

    ``read_frames``: show area-detector frames written to files (HDF5, TIFF) by reading
    them through the storage readers when a view redraws. ``fatal``: as for
    ``live_table`` (a failing table or plot is re-raised after the others saw the
    document).
    """
    from cielo.callbacks import PLOT_KINDS, BestEffort, per_run

    if not isinstance(plots, bool):
        unknown = [k for k in plots if k not in PLOT_KINDS]
        if unknown:
            raise ValueError(
                f"best_effort plots={list(plots)!r}: unknown kind(s) {unknown}; "
                f"choose from {list(PLOT_KINDS)} or true/false"
            )
    if not enabled:
        return _off
    stream_out = resolve_out(out)
    if plots:
        directory = _plot_directory(directory, headless, "best_effort")
    return per_run(
        lambda: BestEffort(
            table=table,
            plots=plots,
            fields=fields,
            baseline=baseline,
            max_plots=max_plots,
            out=stream_out,
            width=width,
            directory=directory,
            filename=filename,
            headless=headless,
            min_interval=min_interval,
            fetch=_frame_reader() if read_frames else None,
            stream=stream,
            fatal=fatal,
        ),
        name="best_effort",
        fatal=fatal,
    )


def _plot_directory(
    directory: str | os.PathLike[str] | None, headless: bool | None, name: str
) -> str | os.PathLike[str] | None:
    """``directory``, or :data:`PLOTS_FALLBACK` (announced in one line) when plots were
    asked for, none was given and nothing can show them (no display: matplotlib's
    backend draws to files only)."""
    if directory is not None or headless is False:
        return directory
    if headless is None:
        try:
            from cielo.callbacks import is_headless

            headless = is_headless()
        except ImportError:  # no matplotlib: the plots report that themselves
            return directory
    if not headless:
        return directory
    folder = os.path.abspath(PLOTS_FALLBACK)
    print(
        f"cielo: no display for the plots of [callbacks.{name}]: they are saved as PNG files "
        f"in {folder} (set directory = ... there to choose another folder)",
        file=sys.stderr,
        flush=True,
    )
    return folder


def _frame_reader() -> Any:
    from ._frames import read_frame

    return read_frame


def _off(name: str, doc: dict[str, Any]) -> None:
    """best_effort with ``enabled = false``: consumes documents and shows nothing."""


def peak_stats(
    *,
    y: str | Sequence[str] | None = None,
    x: str | None = None,
    stream: str = "primary",
    derivative: bool = False,
    sidecar: str | None = None,
    keep: int = 100,
    report: bool = False,
    out: str | TextIO | None = None,
    fatal: bool = False,
) -> Any:
    """Peak statistics of every run (centre of mass, centroid, FWHM, extrema), kept per run.

    ``sidecar``: a path template (``{uid}``, ``{scan_id}``, ``{plan_name}``) to write each
    run's statistics as JSON after the run; ``report``: print a summary line per field
    after each run (to ``out``, standard output by default). ``fatal``: as for
    ``live_table``.
    """
    from cielo.callbacks import PeakStatsCollector

    stream_out = (resolve_out(out) or sys.stdout) if report else None
    return PeakStatsCollector(
        y=y,
        x=x,
        stream=stream,
        derivative=derivative,
        sidecar=sidecar,
        keep=keep,
        out=stream_out,
        fatal=fatal,
    )


def progress(*, delay: float = 2.0) -> Any:
    """Progress bars (rich) for runs and waits lasting longer than ``delay`` seconds.

    A run's bar shows points done of its planned ``num_points``, elapsed time and ETA;
    a slow ``wait`` shows each moving motor's position and target (subscribed with
    :func:`cielo.plans.subscribe_profile`, it becomes the engine's ``waiting_hook``).
    Drawn only on a terminal or in a notebook; without rich (``pip install
    'cielo[shell]'``) it shows nothing.
    """
    if delay < 0:
        raise ValueError(f"progress delay={delay!r} must be 0 or more seconds")
    from cielo.callbacks import LiveProgress

    try:
        return LiveProgress(delay=delay)
    except ImportError:  # rich is not installed: no bars, nothing else changes
        return _off
