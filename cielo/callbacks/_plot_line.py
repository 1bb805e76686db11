"""A live line plot of one or more signals against a motor, time or the event number."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._base import Document
from ._figures import FigureCallback
from ._hints import independent_fields

__all__ = ["LivePlot"]


class LivePlot(FigureCallback):
    """Plot ``y`` (one field or several) against ``x`` while the run goes.

    ``x`` is a field of the stream, ``"time"`` (seconds since the run started) or
    ``"seq_num"``; by default the run's first dimension (``time`` for a count). Fields
    missing from the stream are named in the plot instead of failing. Options of
    :class:`~cielo.callbacks.FigureCallback` set throttling and headless PNG output.
    """

    def __init__(
        self, y: str | Sequence[str], x: str | None = None, *, marker: str = "o", **options: Any
    ) -> None:
        super().__init__(**options)
        self.y = [y] if isinstance(y, str) else list(y)
        if not self.y:
            raise ValueError("LivePlot needs at least one field to plot (y=...)")
        self.x = x
        self.marker = marker
        self.label = "+".join(self.y)
        self.xdata: list[float] = []
        self.ydata: dict[str, list[float]] = {f: [] for f in self.y}
        self._x_key = "seq_num"
        self._lines: dict[str, Any] = {}
        self._ax: Any = None

    def start(self, doc: Document) -> None:
        super().start(doc)
        self.xdata = []
        self.ydata = {f: [] for f in self.y}

    def _prepare(self, descriptor: Document) -> None:
        keys = descriptor.get("data_keys") or {}
        x = self.x or next(iter(independent_fields(self.start_doc, self.stream)), "seq_num")
        self._x_key = x if (x in keys or x in ("time", "seq_num")) else "seq_num"

    def _setup(self, descriptor: Document) -> None:
        keys = descriptor.get("data_keys") or {}
        ax = self._ax = self.figure.add_subplot(1, 1, 1)
        units = (keys.get(self._x_key) or {}).get("units")
        xlabel = "time since start [s]" if self._x_key == "time" else self._x_key
        ax.set_xlabel(f"{xlabel} [{units}]" if units else xlabel)
        present = [f for f in self.y if f in keys]
        missing = [f for f in self.y if f not in keys]
        yunits = {(keys[f].get("units") or "") for f in present}
        ax.set_ylabel(
            ", ".join(present)
            + (f" [{yunits.pop()}]" if len(yunits) == 1 and "" not in yunits else "")
        )
        for f in present:
            (self._lines[f],) = ax.plot([], [], marker=self.marker, ms=3, label=f)
        if len(present) > 1:
            ax.legend(loc="best", fontsize="small")
        if missing:
            ax.text(
                0.02,
                0.98,
                f"not in stream {self.stream!r}: {', '.join(missing)}",
                transform=ax.transAxes,
                va="top",
                fontsize="small",
                color="tab:red",
            )
        ax.grid(True, alpha=0.3)

    def event(self, doc: Document) -> None:
        if doc["descriptor"] not in self._descriptors:
            return
        data = doc["data"]
        key = self._x_key
        if key == "time":
            xv = doc["time"] - float(self.start_doc.get("time") or doc["time"])
        elif key == "seq_num":
            xv = doc["seq_num"]
        elif key in data:
            xv = data[key]
        else:
            return
        self.xdata.append(xv)
        for f, values in self.ydata.items():
            values.append(data.get(f, float("nan")))
        self._mark_dirty()

    def _update(self) -> None:
        # another thread may be appending: plot the points complete in every list
        n = min([len(self.xdata), *(len(v) for v in self.ydata.values())])
        for f, line in self._lines.items():
            line.set_data(self.xdata[:n], self.ydata[f][:n])
        if self._ax is not None:
            self._ax.relim()
            self._ax.autoscale_view()
