"""Pick a table and sensible plots for a run from its hints alone."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from cielo.core import CallbackFailure, callback_name

from ._base import Document
from ._hints import hinted_fields, image_fields, independent_fields, is_numeric, is_scalar
from ._plot_grid import LiveGrid, LiveScatter
from ._plot_image import FrameReader, LiveImage
from ._plot_line import LivePlot
from ._table import LiveTable

__all__ = ["PLOT_KINDS", "BestEffort"]

logger = logging.getLogger("cielo.callbacks")

#: The plot kinds :class:`BestEffort` can choose: 1D lines, 2D grids/scatters, frames.
PLOT_KINDS = ("line", "grid", "scatter", "image")


class BestEffort:
    """Show one run the way its hints suggest: a table and plots, chosen automatically.

    For the ``primary`` stream (or ``stream``): a :class:`LiveTable` of the hinted fields; for a
    one-dimensional run (a scan, or a count against time) one :class:`LivePlot` per
    hinted detector field; for a two-dimensional run a :class:`LiveGrid` when the start
    document gives ``shape`` and ``extents``, otherwise a :class:`LiveScatter`; for
    hinted frame fields a :class:`LiveImage`. The ``baseline`` stream is printed as a
    short list of readings.

    ``table``/``baseline``: on or off; ``plots``: ``True`` (all kinds), ``False`` or the
    kinds to allow (``["line", "image"]``); ``fields``: the detector fields to show
    (default: the hinted ones); ``max_plots`` bounds the figures per run. Other options
    (``directory``, ``filename``, ``headless``, ``min_interval``) go to the plots and
    ``fetch`` to the image views (a reader of frames stored in files);
    ``out`` and ``width`` to the table. One instance follows one run; the ``best_effort``
    callback of the callbacks plugin wraps it in a :class:`RunRouter`.

    A run without the ``primary`` stream (a fly scan's ``flyer`` stream, a plan that names
    its own) gets its table and plots from the first other stream that is neither
    ``baseline`` nor a monitor (``*_monitor``), unless ``stream`` was chosen; a run that
    shows no stream at all still gets a one-line summary of its exit status and events.

    A child that raises is logged and kept in :attr:`failures`; the others go on. With
    ``fatal=True`` the first failure on a document is re-raised once every child has
    seen it.
    """

    name = "best_effort"

    def __init__(
        self,
        *,
        table: bool = True,
        plots: bool | Sequence[str] = True,
        fields: Sequence[str] | None = None,
        baseline: bool = True,
        max_plots: int = 6,
        out: TextIO | None = None,
        width: int | None = None,
        directory: str | os.PathLike[str] | None = None,
        fetch: FrameReader | None = None,
        stream: str = "primary",
        fatal: bool = False,
        **plot_options: Any,
    ) -> None:
        kinds = PLOT_KINDS if plots is True else () if plots is False else tuple(plots)
        unknown = [k for k in kinds if k not in PLOT_KINDS]
        if unknown:
            raise ValueError(f"unknown plot kind(s) {unknown}; choose from {list(PLOT_KINDS)}")
        self.table = table
        self.kinds = kinds
        self.fields = list(fields) if fields is not None else None
        self.baseline = baseline
        self.max_plots = max_plots
        self.out = out
        self.width = width
        self.stream = stream
        self._any_stream = stream == "primary"  # the default: follow a run's main stream
        self._run_stream = stream
        self.fatal = fatal
        self.plot_options = dict(plot_options, directory=directory)
        self.fetch = fetch
        self.children: list[Any] = []
        self.failures: list[CallbackFailure] = []
        self._start: Document = {}
        self._baseline: set[str] = set()
        self._built = False

    # -- choosing -------------------------------------------------------------
    def _choose(self, descriptor: Document) -> list[Any]:
        keys = descriptor.get("data_keys") or {}
        stream = self._run_stream
        dims = [d for d in independent_fields(self._start, stream) if d in keys or d == "time"]
        wanted = self.fields if self.fields is not None else hinted_fields(descriptor)
        detectors = [f for f in wanted if f in keys and f not in dims]
        scalars = [f for f in detectors if is_scalar(keys[f]) and not keys[f].get("external")]
        numbers = [f for f in scalars if is_numeric(keys[f])]  # plots: no strings, booleans
        images = image_fields(descriptor, self._start.get("detectors") or ())
        if self.fields is not None:
            images = [f for f in images if f in self.fields]
        children: list[Any] = []
        if self.table:
            table_fields = None if self.fields is None else dims + scalars
            children.append(LiveTable(table_fields, stream=stream, out=self.out, width=self.width))
        plots: list[Any] = []
        options = dict(self.plot_options, stream=stream)
        if "line" in self.kinds and len(dims) == 1:
            plots += [LivePlot(f, x=dims[0], **options) for f in numbers]
        elif len(dims) == 2 and numbers:
            shape, extents = self._start.get("shape"), self._start.get("extents")
            gridded = shape and extents and len(shape) == 2 and len(extents) == 2
            x, y = dims[1], dims[0]
            if gridded and "grid" in self.kinds:
                plots += [LiveGrid(f, x=x, y=y, **options) for f in numbers]
            elif "scatter" in self.kinds:
                plots += [LiveScatter(f, x=x, y=y, **options) for f in numbers]
        if "image" in self.kinds:
            plots += [LiveImage(f, fetch=self.fetch, **options) for f in images]
        if len(plots) > self.max_plots:
            logger.info(
                "best_effort: %d plots wanted, showing the first %d (max_plots)",
                len(plots),
                self.max_plots,
            )
        return children + plots[: self.max_plots]

    # -- documents ------------------------------------------------------------
    def __call__(self, name: str, doc: Document) -> None:
        if name == "start":
            self._start = doc
            self.children = []
            self._baseline = set()
            self._built = False
            self._run_stream = self.stream
            return
        if name == "descriptor":
            stream = doc.get("name", "primary")
            if stream == "baseline" and self.baseline:
                self._baseline.add(doc["uid"])
            main = stream != "baseline" and not stream.endswith("_monitor")
            if self._any_stream and main and not self._built:
                self._run_stream = stream  # no primary stream (yet): show this one
            if stream == self._run_stream and not self._built:
                self._built = True
                self.children = self._choose(doc)
                self._send("start", self._start)
        elif name == "event" and doc["descriptor"] in self._baseline:
            self._print_baseline(doc)
        elif name == "event_page" and doc["descriptor"] in self._baseline:
            for i, seq in enumerate(doc["seq_num"]):
                row = {k: v[i] for k, v in doc["data"].items()}
                self._print_baseline({"seq_num": seq, "data": row})
        elif name == "stop" and not self._built and self.table:
            self._print_summary(doc)
        self._send(name, doc)

    def _send(self, name: str, doc: Document) -> None:
        first: Exception | None = None
        for child in self.children:
            try:
                child(name, doc)
            except Exception as exc:
                first = first or exc
                failure = CallbackFailure(
                    f"best_effort.{callback_name(child)}",
                    name,
                    doc.get("uid") if isinstance(doc.get("uid"), str) else None,
                    self._start.get("uid"),
                    exc,
                )
                self.failures.append(failure)
                del self.failures[:-100]  # bounded: a child failing on every event
                logger.error("%s", failure, exc_info=exc)
        if first is not None and self.fatal:
            raise first

    def _print_summary(self, stop: Document) -> None:
        """The one line of a run that showed no stream: its exit status and its events."""
        start = self._start
        counts = {k: v for k, v in (stop.get("num_events") or {}).items() if v}
        events = ", ".join(f"{n} in stream {k!r}" for k, n in counts.items()) or "no events"
        reason = f" ({stop['reason']})" if stop.get("reason") else ""
        out = self.out if self.out is not None else sys.stdout
        out.write(
            f"{stop.get('exit_status', '?')}{reason}: scan {start.get('scan_id', '?')} "
            f"{start.get('plan_name', '')} (uid {str(start.get('uid', ''))[:8]}), {events}\n"
        )
        out.flush()

    def _print_baseline(self, event: Document) -> None:
        when = "start" if event["seq_num"] == 1 else "end"
        items = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in event["data"].items()
            if not isinstance(v, list)
        )
        out = self.out if self.out is not None else sys.stdout
        out.write(f"baseline ({when}): {items}\n")
        out.flush()

    @property
    def plots(self) -> list[Any]:
        """The plots chosen for the current run."""
        return [c for c in self.children if not isinstance(c, LiveTable)]

    @property
    def saved(self) -> list[str]:
        """PNG files the plots of the current run wrote."""
        return [path for p in self.plots for path in p.saved]
