"""Fit a model to a run's points while it goes, refitting every N points, and plot it."""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from cielo.callbacks import (
    CallbackBase,
    LivePlot,
    RunRouter,
    as_float,
    dimensions,
    finite_json,
    hinted_fields,
    independent_fields,
    is_numeric,
    write_sidecar,
)

from ._fit import FitResult, fit_points
from ._models import make_model

__all__ = ["LiveFit", "LiveFitCollector", "LiveFitPlot"]

logger = logging.getLogger("cielo.fitting")
Document = dict[str, Any]


class LiveFit(CallbackBase):
    """Fit ``model`` to ``y`` against ``x`` from one run's ``stream``, as points arrive.

    ``model``: ``gaussian``, ``lorentzian``, ``voigt``, ``step``/``erf``, ``linear`` or an
    lmfit model; ``y``: the field (default: the first hinted detector field); ``x``: the
    independent field, ``"time"`` (seconds since the run started) or ``"seq_num"``
    (default: the run's first dimension; ``seq_num`` for a count). Per event the callback only
    stores two numbers; it refits after every ``update_every`` new points and once at the
    end of the run. ``max_load`` bounds the share of time spent fitting while the run
    goes (a refit waits until ``fit duration / max_load`` has passed since the last one
    began; ``None``: refit strictly every ``update_every`` points), so fits of long scans
    never slow the engine down. :attr:`result` is the latest :class:`FitResult` (``None`` before the
    first fit), :attr:`nfits` counts the fits. With ``sidecar`` (a path template with
    ``{uid}``, ``{scan_id}``, ``{plan_name}``) the final result is written as JSON.
    """

    def __init__(
        self,
        model: str | Any = "gaussian",
        y: str | None = None,
        x: str | None = None,
        *,
        update_every: int = 5,
        init_guess: Mapping[str, float] | None = None,
        background: str = "constant",
        stream: str = "primary",
        sidecar: str | os.PathLike[str] | None = None,
        max_load: float | None = 0.2,
        max_nfev: int | None = None,
    ) -> None:
        if update_every < 1:
            raise ValueError(f"update_every must be at least 1; got {update_every}")
        self.fit_model = make_model(model, background=background)
        self.y = y
        self.x = x
        self.update_every = update_every
        self.init_guess = dict(init_guess or {})
        self.background = background
        self.stream = stream
        self.sidecar = sidecar
        if max_load is not None and not 0 < max_load <= 1:
            raise ValueError(f"max_load must be in (0, 1] or None; got {max_load}")
        self.max_load = max_load
        self.max_nfev = max_nfev
        self._reset()

    def _reset(self) -> None:
        self.start_doc: Document = {}
        self.xdata: list[float] = []
        self.ydata: list[float] = []
        self.result: FitResult | None = None
        self.nfits = 0
        self.sidecar_path: str | None = None
        self._x_key: str | None = self.x
        self._y_key: str | None = self.y
        self._descriptors: set[str] = set()
        self._fields_seen: set[str] = set()
        self._fitted_at = 0
        self._next_fit_time = 0.0
        self.skipped = 0

    @property
    def x_key(self) -> str | None:
        return self._x_key

    @property
    def y_key(self) -> str | None:
        return self._y_key

    def start(self, doc: Document) -> None:
        self._reset()
        self.start_doc = doc

    def descriptor(self, doc: Document) -> None:
        if doc.get("name", "primary") != self.stream:
            return
        self._descriptors.add(doc["uid"])
        keys = doc.get("data_keys") or {}
        self._fields_seen.update(keys)
        if self._x_key is None:
            dims = independent_fields(self.start_doc, self.stream)
            x = dims[0] if dims else "seq_num"
            self._x_key = x if x in keys else "seq_num"
        if self._y_key is None:
            skip = {*independent_fields(self.start_doc, self.stream), self._x_key}
            candidates = [f for f in hinted_fields(doc) if f not in skip and is_numeric(keys[f])]
            if not candidates:
                raise ValueError(
                    f"LiveFit found no detector field to fit in stream {self.stream!r} "
                    f"(data keys: {sorted(keys)}); pass y=..."
                )
            self._y_key = candidates[0]

    def event(self, doc: Document) -> None:
        if doc["descriptor"] not in self._descriptors:
            return
        data = doc["data"]
        key = self._x_key
        if key == "seq_num":
            xv = doc["seq_num"]
        elif key == "time" and key not in data:  # seconds since the run started
            xv = doc["time"] - float(self.start_doc.get("time") or doc["time"])
        else:
            xv = data.get(key)
        xv, yv = as_float(xv), as_float(data.get(self._y_key))
        if math.isnan(xv) or math.isnan(yv):
            return  # missing or not a number (a string): not a point to fit
        self.xdata.append(xv)
        self.ydata.append(yv)
        if len(self.xdata) - self._fitted_at >= self.update_every:
            if self.max_load is not None and time.monotonic() < self._next_fit_time:
                self.skipped += 1  # fitting would take more than max_load of the time
                return
            self.refit()

    def refit(self) -> FitResult:
        """Fit the points received so far now (also called every ``update_every`` points)."""
        self._fitted_at = len(self.xdata)
        began = time.monotonic()
        self.result = fit_points(
            self.fit_model,
            self.xdata,
            self.ydata,
            init_guess=self.init_guess,
            background=self.background,
            max_nfev=self.max_nfev,
        )
        took = time.monotonic() - began
        if self.max_load is not None:
            self._next_fit_time = began + took / self.max_load
        self.nfits += 1
        return self.result

    def stop(self, doc: Document) -> None:
        if self.xdata and (self.result is None or self._fitted_at != len(self.xdata)):
            self.refit()
        if self.result is not None and not self.result.success:
            logger.warning(
                "live fit of %s in scan %s failed: %s",
                self._y_key,
                self.start_doc.get("scan_id"),
                self.result.message,
            )
        elif self._descriptors and not self.xdata:
            logger.warning(
                "live fit of %r against %r in scan %s: no points; stream %r has the fields %s",
                self._y_key,
                self._x_key,
                self.start_doc.get("scan_id"),
                self.stream,
                sorted(self._fields_seen),
            )
        if self.sidecar is not None:
            self.sidecar_path = self.write_sidecar(self.sidecar)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary of the latest fit, with the run it belongs to."""
        result = self.result
        fit: dict[str, Any] | None = None
        if result is not None:
            fit = {**result.as_dict(), "message": result.message, "center": result.center}
        return {
            "run_start": self.start_doc.get("uid"),
            "scan_id": self.start_doc.get("scan_id"),
            "x": self._x_key,
            "y": self._y_key,
            "fit": finite_json(fit),
        }

    def write_sidecar(self, template: str | os.PathLike[str]) -> str:
        """Write :meth:`summary` as JSON to ``template`` filled from the start document."""
        return write_sidecar(template, self.start_doc, self.summary())


class LiveFitPlot(LivePlot):
    """Plot a :class:`LiveFit`'s data and its latest fitted curve, while the run goes.

    Documents sent to the plot are passed to the fit first, so subscribe only the plot.
    Options are those of :class:`~cielo.callbacks.LivePlot` (headless PNG files,
    throttled redraws).
    """

    def __init__(self, livefit: LiveFit, *, num_points: int = 200, **options: Any) -> None:
        super().__init__(livefit.y or "fit", x=livefit.x, **options)
        self.livefit = livefit
        self.num_points = num_points
        self._fit_line: Any = None
        self._fit_text: Any = None

    def __call__(self, name: str, doc: Document) -> Any:
        self.livefit(name, doc)
        return super().__call__(name, doc)

    def descriptor(self, doc: Document) -> None:
        if doc.get("name", "primary") == self.stream and self.livefit.y_key:
            self.y = [self.livefit.y_key]
            self.x = self.livefit.x_key
            self.label = f"{self.livefit.y_key}-fit"
            self.ydata = {self.livefit.y_key: []}
        super().descriptor(doc)

    def _setup(self, descriptor: Document) -> None:
        super()._setup(descriptor)
        for line in self._lines.values():
            line.set_linestyle("none")  # data as points, the fit as a curve
        (self._fit_line,) = self._ax.plot([], [], "-", color="tab:red", label="fit")
        self._fit_text = self._ax.text(
            0.02, 0.98, "", transform=self._ax.transAxes, va="top", fontsize="small"
        )
        self._ax.legend(loc="upper right", fontsize="small")

    def _update(self) -> None:
        super()._update()
        result = self.livefit.result
        if result is None or not self.xdata:
            return
        xs = np.linspace(min(self.xdata), max(self.xdata), self.num_points)
        self._fit_line.set_data(xs, result.evaluate(xs))
        if result.success:
            text = f"{result.model}: center = {result.center:.4g} ± {result.center_stderr:.2g}"
            if not math.isfinite(result.center):
                text = f"{result.model} fit"
            text += f"\nreduced χ² = {result.redchi:.3g}, {result.npoints} points"
        else:
            text = f"{result.model} fit failed: {result.message}"
        self._fit_text.set_text(text)


class LiveFitCollector(RunRouter):
    """A :class:`LiveFit` (and optionally a plot) per run, results kept by run uid.

    ``collector.results[run_uid]`` is the final :class:`FitResult` of each finished run,
    :attr:`last` the most recent one, :meth:`current` the latest fit of a run still going.
    ``plot`` adds a :class:`LiveFitPlot` with ``plot_options``. Runs with more than
    one dimension (grids, spirals) are skipped unless ``x`` is given. ``fatal``: see
    :class:`~cielo.callbacks.RunRouter`.
    """

    def __init__(
        self,
        *,
        plot: bool = False,
        plot_options: Mapping[str, Any] | None = None,
        keep: int = 100,
        fatal: bool = False,
        **fit_options: Any,
    ) -> None:
        make_model(
            fit_options.get("model", "gaussian"),
            background=fit_options.get("background", "constant"),
        )
        self.fit_options = fit_options
        self.plot = plot
        self.plot_options = dict(plot_options or {})
        self.keep = keep
        self.results: dict[str, FitResult | None] = {}
        self.plots: dict[str, LiveFitPlot] = {}
        self._live: dict[str, LiveFit] = {}
        super().__init__([self._make], name="live_fit", fatal=fatal)

    def _make(self, start: Document) -> Sequence[Any] | None:
        stream = self.fit_options.get("stream", "primary")
        if self.fit_options.get("x") is None and len(dimensions(start, stream)) > 1:
            logger.info(
                "live_fit skips scan %s: it has %d dimensions; give x=... to fit one of them",
                start.get("scan_id"),
                len(dimensions(start, stream)),
            )
            return None
        fit = LiveFit(**self.fit_options)
        self._live[start["uid"]] = fit
        if self.plot:
            plot = LiveFitPlot(fit, **self.plot_options)
            self.plots[start["uid"]] = plot
            for old in list(self.plots)[: -self.keep]:
                self.plots.pop(old)
            return [plot]
        return [fit]

    def __call__(self, name: str, doc: Document) -> None:
        try:
            super().__call__(name, doc)
        finally:  # keep the run's result even when a fatal failure is re-raised
            if name == "stop":
                fit = self._live.pop(doc["run_start"], None)
                if fit is not None:
                    self.results[doc["run_start"]] = fit.result
                    for old in list(self.results)[: -self.keep]:
                        self.results.pop(old)

    @property
    def last(self) -> FitResult | None:
        """The final fit of the most recently finished run."""
        return next(reversed(self.results.values()), None)

    def current(self, run_uid: str | None = None) -> FitResult | None:
        """The latest fit of an open run (the most recent one by default)."""
        if not self._live:
            return None
        fit = self._live[run_uid] if run_uid else next(reversed(self._live.values()))
        return fit.result
