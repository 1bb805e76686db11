"""A plain-text table of a run's events, one row per event, for terminals and notebooks."""

from __future__ import annotations

import math
import shutil
import sys
import time as _time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TextIO

from ._base import CallbackBase, Document
from ._hints import hinted_fields, independent_fields, is_external, is_scalar

__all__ = ["LiveTable"]

Formatter = Callable[[Any], str]


def _number_formatter(width: int, precision: int) -> Formatter:
    fixed = f"{{:>{width}.{precision}f}}"
    general = f"{{:>{width}.{max(precision, 1)}g}}"
    limit = 10 ** (width - precision - 2)

    def fmt(value: Any) -> str:
        try:
            v = float(value)
        except (TypeError, ValueError):
            return f"{str(value):>{width}.{width}}"
        if math.isfinite(v) and (abs(v) >= limit or (v and abs(v) < 10**-precision)):
            return general.format(v)
        return fixed.format(v)

    return fmt


def _integer_formatter(width: int) -> Formatter:
    def fmt(value: Any) -> str:
        try:
            return f"{int(value):>{width}d}"
        except (TypeError, ValueError):
            return f"{str(value):>{width}.{width}}"

    return fmt


def _text_formatter(width: int) -> Formatter:
    return lambda value: f"{str(value):>{width}.{width}}"


class _Column:
    __slots__ = ("key", "title", "units", "width", "fmt")

    def __init__(self, key: str, data_key: Mapping[str, Any], precision: int, min_width: int):
        self.key = key
        self.title = key
        self.units = str(data_key.get("units") or "")
        dtype = data_key.get("dtype")
        prec = data_key.get("precision")
        prec = precision if prec is None else int(prec)
        if dtype == "integer":
            width = max(min_width, len(key), len(self.units) + 2)
            self.fmt = _integer_formatter(width)
        elif dtype == "number":
            width = max(min_width, len(key), len(self.units) + 2, prec + 6)
            self.fmt = _number_formatter(width, prec)
        else:
            width = max(min_width, len(key), len(self.units) + 2)
            self.fmt = _text_formatter(width)
        self.width = width


class LiveTable(CallbackBase):
    """Print one row per event of a run's ``stream``, with a header and a footer.

    Columns are ``seq_num``, the event time, the run's independent axes (the start
    document's ``hints.dimensions``) and the fields the descriptor's hints name (or
    ``fields``, given explicitly); units and precision come from the data keys.
    Array and externally stored fields are listed under the header rather than shown.
    Columns that do not fit in ``width`` characters (default: the terminal's width) are
    left out and named, so a run with many detectors stays readable; pass ``fields`` or a
    larger ``width`` to choose. The footer gives the exit status, the number of events
    and the duration.

    ``out`` is a text stream with ``write``/``flush`` (default: ``sys.stdout``, looked up
    at each write so captured output and notebooks work). One instance follows one run
    at a time; use :func:`cielo.callbacks.per_run` or :class:`~cielo.callbacks.RunRouter`
    for interleaved runs.
    """

    def __init__(
        self,
        fields: Sequence[str] | None = None,
        *,
        stream: str = "primary",
        out: TextIO | None = None,
        width: int | None = None,
        precision: int = 3,
        min_width: int = 10,
        header_every: int | None = None,
    ) -> None:
        self.fields = list(fields) if fields is not None else None
        self.stream = stream
        self.out = out
        self.width = width
        self.precision = precision
        self.min_width = min_width
        self.header_every = header_every
        self.columns: list[_Column] = []
        self._start: Document = {}
        self._descriptors: set[str] = set()
        self._rows = 0
        self._t0 = 0.0
        self._header = ""

    # -- output ---------------------------------------------------------------
    def _write(self, text: str) -> None:
        out = self.out if self.out is not None else sys.stdout
        out.write(text)
        out.flush()

    def _width(self) -> int:
        if self.width is not None:
            return self.width
        return shutil.get_terminal_size((120, 24)).columns

    # -- documents ------------------------------------------------------------
    def start(self, doc: Document) -> None:
        self._start = doc
        self._descriptors.clear()
        self.columns = []
        self._rows = 0
        self._t0 = float(doc.get("time", _time.time()))

    def descriptor(self, doc: Document) -> None:
        if doc.get("name", "primary") != self.stream:
            return
        self._descriptors.add(doc["uid"])
        if self.columns:  # a second descriptor of the same stream: keep the columns
            return
        data_keys: Mapping[str, Any] = doc.get("data_keys") or {}
        if self.fields is not None:
            wanted = self.fields
            missing = [f for f in wanted if f not in data_keys]
        else:
            axes = [f for f in independent_fields(self._start, self.stream) if f in data_keys]
            wanted = axes + [f for f in hinted_fields(doc) if f not in axes]
            missing = []
        shown, hidden = [], []
        for f in wanted:
            if f in data_keys and is_scalar(data_keys[f]) and not is_external(data_keys[f]):
                shown.append(f)
            elif f in data_keys:
                shape = data_keys[f].get("shape") or []
                hidden.append(f"{f} ({data_keys[f].get('dtype', '?')} {list(shape)})")
        fixed = [
            _Column("seq_num", {"dtype": "integer"}, 0, 7),
            _Column("time", {"dtype": "string"}, 0, 12),
        ]
        budget = self._width() - sum(c.width + 3 for c in fixed) - 1
        columns: list[_Column] = []
        for f in shown:
            col = _Column(f, data_keys[f], self.precision, self.min_width)
            if col.width + 3 > budget and columns:
                hidden.append(f"{f} (no room: width={self._width()})")
                continue
            budget -= col.width + 3
            columns.append(col)
        self.columns = fixed + columns
        self._header = self._format_header()
        notes = []
        if missing:
            notes.append(f"  fields not in stream {self.stream!r}: {', '.join(missing)}\n")
        if hidden:
            notes.append(f"  not shown: {', '.join(hidden)}\n")
        self._write(self._title() + "".join(notes) + self._header)

    def _title(self) -> str:
        start = self._start
        parts = [f"scan {start.get('scan_id', '?')}"]
        if start.get("plan_name"):
            parts.append(str(start["plan_name"]))
        parts.append(f"uid {str(start.get('uid', ''))[:8]}")
        return "  ".join(parts) + "\n"

    def _format_header(self) -> str:
        rule = "+" + "+".join("-" * (c.width + 2) for c in self.columns) + "+\n"
        titles = "|" + "|".join(f" {c.title:>{c.width}.{c.width}} " for c in self.columns) + "|\n"
        units = ""
        if any(c.units for c in self.columns):
            cells = (f"[{c.units}]" if c.units else "" for c in self.columns)
            units = (
                "|"
                + "|".join(f" {u:>{c.width}} " for u, c in zip(cells, self.columns, strict=True))
                + "|\n"
            )
        return rule + titles + units + rule

    def event(self, doc: Document) -> None:
        if doc["descriptor"] not in self._descriptors or not self.columns:
            return
        data = doc["data"]
        seq, clock = self.columns[0], self.columns[1]
        cells = [
            seq.fmt(doc["seq_num"]),
            clock.fmt(datetime.fromtimestamp(doc["time"]).strftime("%H:%M:%S.%f")[:12]),
        ]
        cells += [c.fmt(data[c.key]) if c.key in data else " " * c.width for c in self.columns[2:]]
        row = "| " + " | ".join(cells) + " |\n"
        self._rows += 1
        if self.header_every and self._rows % self.header_every == 0:
            row = self._header + row
        self._write(row)

    def stop(self, doc: Document) -> None:
        if self.columns:
            self._write("+" + "+".join("-" * (c.width + 2) for c in self.columns) + "+\n")
        duration = float(doc.get("time", _time.time())) - self._t0
        num = (doc.get("num_events") or {}).get(self.stream, self._rows)
        line = (
            f"{doc.get('exit_status', '?')}: scan {self._start.get('scan_id', '?')} "
            f"(uid {str(doc.get('run_start', ''))[:8]}), {num} events in "
            f"stream {self.stream!r}, {duration:.3f} s"
        )
        if doc.get("reason"):
            line += f"; reason: {doc['reason']}"
        self._write(line + "\n")
