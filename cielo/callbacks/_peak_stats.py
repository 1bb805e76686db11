"""Peak statistics of a 1D scan: centre of mass, centroid, FWHM, extrema, derivative.

Results are available during the run (computed on demand from the points so far), after
it (kept per run uid), written to a JSON sidecar file when asked, and can be stored in
the run itself by a plan through :func:`cielo.callbacks.save_analysis`.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TextIO

import numpy as np

from cielo.core import RunRouter

from ._base import CallbackBase, Document
from ._hints import dimensions, hinted_fields, independent_fields, is_numeric
from ._values import as_float, finite_json, write_sidecar

__all__ = [
    "PeakStatistics",
    "PeakStats",
    "PeakStatsCollector",
    "compute_peak_stats",
    "format_peak_stats",
]

logger = logging.getLogger("cielo.callbacks")


@dataclass(frozen=True)
class PeakStatistics:
    """Statistics of ``y(x)`` for one field (positions in units of ``x``).

    ``com``: centre of mass of ``y - min(y)``; ``cen``: centroid, the middle of the
    half-maximum crossings; ``fwhm``: distance between the outermost crossings;
    ``max``/``min``: ``(x, y)`` of the extrema; ``crossings``: every x where ``y``
    crosses half maximum; ``derivative``: the same statistics of ``dy/dx`` (edge scans:
    its ``max`` is the steepest rise), when asked.

    ``com``, ``cen`` and ``fwhm`` are ``nan`` unless the peak is *bracketed* (see
    :func:`compute_peak_stats`); ``note`` then says why it is not (``""`` when it is).
    """

    n: int
    com: float
    cen: float
    fwhm: float
    max: tuple[float, float]
    min: tuple[float, float]
    crossings: tuple[float, ...]
    derivative: PeakStatistics | None = None
    note: str = ""

    @property
    def bracketed(self) -> bool:
        """Whether the scan covers the peak and its half maximum on both sides."""
        return self.n > 0 and not self.note

    def as_dict(self, prefix: str = "") -> dict[str, float | int]:
        """A flat mapping of numbers (``com``, ``max_x``, ``max_y``, ``derivative_cen``...)."""
        out: dict[str, float | int] = {
            f"{prefix}n": self.n,
            f"{prefix}com": self.com,
            f"{prefix}cen": self.cen,
            f"{prefix}fwhm": self.fwhm,
            f"{prefix}max_x": self.max[0],
            f"{prefix}max_y": self.max[1],
            f"{prefix}min_x": self.min[0],
            f"{prefix}min_y": self.min[1],
            f"{prefix}bracketed": int(self.bracketed),
        }
        if self.derivative is not None:
            out.update(self.derivative.as_dict(f"{prefix}derivative_"))
        return out


_NAN = float("nan")

#: a side's tail has levelled off when its outer slope is at most this share of the
#: side's steepest slope (a Gaussian: from about 2 standard deviations out)
TAIL_FLATNESS = 0.65


def _stats(x: np.ndarray, y: np.ndarray) -> PeakStatistics:
    n = len(x)
    if n == 0:
        return PeakStatistics(0, _NAN, _NAN, _NAN, (_NAN, _NAN), (_NAN, _NAN), (), note="no points")
    imax, imin = int(np.argmax(y)), int(np.argmin(y))
    lifted = y - y[imin]
    total = float(lifted.sum())
    half = y[imin] + 0.5 * (y[imax] - y[imin])
    above = lifted > 0.5 * (y[imax] - y[imin])
    idx = np.flatnonzero(above[1:] != above[:-1])
    # linear interpolation between the two samples around each crossing
    x0, x1, y0, y1 = x[idx], x[idx + 1], y[idx], y[idx + 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        crossings = np.where(y1 != y0, x0 + (half - y0) * (x1 - x0) / (y1 - y0), x0)
    note = _unbracketed(x, y, imax, half)
    if note:
        com = cen = fwhm = _NAN
    else:
        com = float((x * lifted).sum() / total) if total > 0 else float(x[imax])
        cen = float(crossings.mean())
        fwhm = float(abs(crossings[-1] - crossings[0]))
    return PeakStatistics(
        n=n,
        com=com,
        cen=cen,
        fwhm=fwhm,
        max=(float(x[imax]), float(y[imax])),
        min=(float(x[imin]), float(y[imin])),
        crossings=tuple(float(c) for c in crossings),
        note=note,
    )


def _unbracketed(x: np.ndarray, y: np.ndarray, imax: int, half: float) -> str:
    """Why the scan does not bracket the peak and its half maximum, or ``""`` when it does.

    On each side of the maximum the signal must fall below half maximum and its tail
    (the points beyond) must level off: the slope fitted over the outer half of the tail
    at most :data:`TAIL_FLATNESS` of the side's steepest slope. A scan over a peak's top
    only (its edges still on the steep flanks) is therefore not bracketed, although its
    lowest points cross the half of its own range.
    """
    if not np.ptp(y) > 0:
        return "the signal is flat"
    if imax in (0, len(y) - 1):
        return f"the maximum is at the {'low' if imax == 0 else 'high'} end of the scan"
    for side, xs, ys in (
        ("low", x[imax::-1], y[imax::-1]),
        ("high", x[imax:], y[imax:]),
    ):
        below = np.flatnonzero(ys < half)
        if not len(below):
            return f"the signal does not fall to half maximum at the {side} side"
        tail = slice(max(below[0] + (len(ys) - below[0]) // 2, 0), None)
        tx, ty = xs[tail], ys[tail]
        if len(tx) < 2:
            tx, ty = xs[-2:], ys[-2:]
        with np.errstate(divide="ignore", invalid="ignore"):
            steps = np.abs(np.diff(ys) / np.diff(xs))
        steepest = float(np.nanmax(steps[np.isfinite(steps)], initial=0.0))
        outer = abs(float(np.polyfit(tx, ty, 1)[0])) if np.ptp(tx) > 0 else 0.0
        if outer > TAIL_FLATNESS * steepest:
            return f"the signal is still falling steeply at the {side} end of the scan"
    return ""


def compute_peak_stats(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    *,
    derivative: bool = False,
) -> PeakStatistics:
    """Compute :class:`PeakStatistics` of ``y`` against ``x`` (points sorted by ``x`` first).

    Non-finite points are dropped. ``derivative=True`` adds the statistics of the finite
    difference ``dy/dx`` at the midpoints between samples.
    """
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    if xa.shape != ya.shape or xa.ndim != 1:
        raise ValueError(
            f"compute_peak_stats needs two 1D sequences of equal length; got shapes "
            f"{xa.shape} and {ya.shape}"
        )
    keep = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[keep], ya[keep]
    order = np.argsort(xa, kind="stable")
    xa, ya = xa[order], ya[order]
    stats = _stats(xa, ya)
    if derivative:
        dx = np.diff(xa)
        ok = dx != 0
        dydx = np.diff(ya)[ok] / dx[ok]
        mid = (xa[1:] + xa[:-1])[ok] / 2
        stats = PeakStatistics(**{**stats.__dict__, "derivative": _stats(mid, dydx)})
    return stats


class PeakStats(CallbackBase):
    """Collect ``y`` against ``x`` from a run's ``stream`` and compute peak statistics.

    ``y``: the field(s) to analyse (default: every hinted scalar detector field);
    ``x``: the independent field (default: the run's first dimension, or ``seq_num``
    for a count). :attr:`stats` computes the statistics of the points so far (during the
    run, on demand: per event the callback only appends two numbers); after the stop
    document :attr:`results` holds the final ones. With ``sidecar`` (a path template
    with ``{uid}``, ``{scan_id}``, ``{plan_name}``), the results are written there as
    JSON after the run.
    """

    def __init__(
        self,
        y: str | Sequence[str] | None = None,
        x: str | None = None,
        *,
        stream: str = "primary",
        derivative: bool = False,
        sidecar: str | os.PathLike[str] | None = None,
    ) -> None:
        self.y = [y] if isinstance(y, str) else (list(y) if y is not None else None)
        self.x = x
        self.stream = stream
        self.derivative = derivative
        self.sidecar = sidecar
        self._fields = self.y
        self._reset()

    def _reset(self) -> None:
        self.y = list(self._fields) if self._fields is not None else None
        self.start_doc: Document = {}
        self.stop_doc: Document | None = None
        self.xdata: list[float] = []
        self.ydata: dict[str, list[float]] = {}
        self.results: dict[str, PeakStatistics] = {}
        self.sidecar_path: str | None = None
        self._x_key: str | None = None
        self._descriptors: set[str] = set()
        self._cache: tuple[int, dict[str, PeakStatistics]] = (-1, {})

    def start(self, doc: Document) -> None:
        self._reset()
        self.start_doc = doc

    def descriptor(self, doc: Document) -> None:
        if doc.get("name", "primary") != self.stream:
            return
        self._descriptors.add(doc["uid"])
        keys: Mapping[str, Any] = doc.get("data_keys") or {}
        if self._x_key is None:
            x = self.x or next(iter(independent_fields(self.start_doc, self.stream)), "seq_num")
            if x == "time" and self.x is None:  # a count: statistics against the point number
                x = "seq_num"
            self._x_key = x if x in keys or x in ("seq_num", "time") else "seq_num"
        if self.y is None:
            self.y = [f for f in hinted_fields(doc) if f != self._x_key and is_numeric(keys[f])]
            dims = set(independent_fields(self.start_doc, self.stream))
            self.y = [f for f in self.y if f not in dims] or self.y
        for f in self.y:
            self.ydata.setdefault(f, [])

    def event(self, doc: Document) -> None:
        if doc["descriptor"] not in self._descriptors:
            return
        data = doc["data"]
        key = self._x_key
        xv = as_float(doc[key] if key in ("seq_num", "time") else data.get(key))
        if math.isnan(xv):
            return
        self.xdata.append(xv)
        for f, values in self.ydata.items():
            values.append(as_float(data.get(f)))

    @property
    def x_key(self) -> str | None:
        """The field used as ``x`` (known after the first descriptor)."""
        return self._x_key

    @property
    def stats(self) -> dict[str, PeakStatistics]:
        """Statistics per ``y`` field of the points received so far."""
        n, cached = self._cache
        if n != len(self.xdata):
            cached = {
                f: compute_peak_stats(self.xdata, values, derivative=self.derivative)
                for f, values in self.ydata.items()
            }
            self._cache = (len(self.xdata), cached)
        return cached

    def stop(self, doc: Document) -> None:
        self.stop_doc = doc
        self.results = self.stats
        if self.sidecar is not None:
            self.sidecar_path = self.write_sidecar(self.sidecar)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary: run uid, x field, and the statistics of each y field."""
        return {
            "run_start": self.start_doc.get("uid"),
            "scan_id": self.start_doc.get("scan_id"),
            "stream": self.stream,
            "x": self._x_key,
            "stats": {f: finite_json(asdict(s)) for f, s in self.stats.items()},
        }

    def write_sidecar(self, template: str | os.PathLike[str]) -> str:
        """Write :meth:`summary` as JSON to ``template`` filled from the start document."""
        return write_sidecar(template, self.start_doc, self.summary())


def format_peak_stats(results: Mapping[str, PeakStatistics], x: str = "x") -> str:
    """One line per field: centroid, centre of mass, FWHM and maximum, for a terminal.

    A peak the scan does not bracket gets its maximum and the reason instead of a centre
    and a width. Positions within rounding noise of zero (relative to the peak's own
    scale) print as 0.
    """
    lines = []
    for field, s in results.items():
        scale = max(
            (abs(v) for v in (s.cen, s.com, s.fwhm, s.max[0], s.min[0]) if math.isfinite(v)),
            default=0.0,
        )

        def pos(value: float, scale: float = scale) -> str:
            return f"{0.0 if abs(value) <= 1e-12 * scale else value:.6g}"

        peak = f"max={s.max[1]:.6g} at {pos(s.max[0])}"
        if s.bracketed:
            line = (
                f"peak stats of {field} vs {x}: cen={pos(s.cen)} com={pos(s.com)} "
                f"fwhm={s.fwhm:.4g} {peak}"
            )
        else:
            line = f"peak stats of {field} vs {x}: {peak}; not bracketed ({s.note})"
        if s.derivative is not None and s.derivative.bracketed:
            d = s.derivative
            line += f"; derivative: cen={pos(d.cen)} max at {pos(d.max[0])}"
        lines.append(line + "\n")
    return "".join(lines)


class PeakStatsCollector(RunRouter):
    """Peak statistics for every run it sees, kept by run uid after each run ends.

    ``collector.results[run_uid]`` maps each y field to its :class:`PeakStatistics`;
    :attr:`last` is the most recent finished run's mapping; :meth:`current` gives the
    live statistics of runs still going. With ``out`` (a text stream) a short summary
    per field is written there after each run. Runs with more than one dimension (grids,
    spirals), whose points do not lie along one axis, are skipped unless ``x`` is given.
    ``fatal``: see :class:`RunRouter`. Other options are those of :class:`PeakStats`.
    """

    def __init__(
        self, *, keep: int = 100, out: TextIO | None = None, fatal: bool = False, **options: Any
    ) -> None:
        self.options = options
        self.keep = keep
        self.out = out
        self.results: dict[str, dict[str, PeakStatistics]] = {}
        self.summaries: dict[str, dict[str, Any]] = {}
        self._live: dict[str, PeakStats] = {}
        super().__init__([self._make], name="peak_stats", fatal=fatal)

    def _make(self, start: Document) -> PeakStats | None:
        stream = self.options.get("stream", "primary")
        if self.options.get("x") is None and len(dimensions(start, stream)) > 1:
            logger.info(
                "peak_stats skips scan %s: it has %d dimensions; give x=... to use one of them",
                start.get("scan_id"),
                len(dimensions(start, stream)),
            )
            return None
        if self.options.get("x") is None and independent_fields(start, stream) == ["time"]:
            # a count: no axis to find a peak along (every field would print cen=nan)
            logger.info("peak_stats skips scan %s: it scans no motor", start.get("scan_id"))
            return None
        ps = PeakStats(**self.options)
        self._live[start["uid"]] = ps
        return ps

    def __call__(self, name: str, doc: Document) -> None:
        try:
            super().__call__(name, doc)
        finally:  # keep the run's results even when a fatal failure is re-raised
            if name == "stop":
                self._finished(doc["run_start"])

    def _finished(self, run_uid: str) -> None:
        ps = self._live.pop(run_uid, None)
        if ps is None:
            return
        self.results[run_uid] = ps.results
        self.summaries[run_uid] = ps.summary()
        if self.out is not None:
            self.out.write(format_peak_stats(ps.results, ps.x_key or "x"))
            self.out.flush()
        for old in list(self.results)[: -self.keep]:
            self.results.pop(old)
            self.summaries.pop(old, None)

    @property
    def last(self) -> dict[str, PeakStatistics] | None:
        """The statistics of the most recently finished run, or ``None``."""
        return next(reversed(self.results.values()), None)

    def current(self, run_uid: str | None = None) -> dict[str, PeakStatistics]:
        """Live statistics of an open run (the latest one by default)."""
        if not self._live:
            return {}
        ps = self._live[run_uid] if run_uid else next(reversed(self._live.values()))
        return ps.stats
