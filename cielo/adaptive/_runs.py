"""From run documents to what an agent is told: ``(x, y)`` for every event of a run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["RunPoints"]


class RunPoints:
    """Collect ``(x, y)`` from the events of each run, handed back when the run stops.

    ``x`` is the value of ``x_fields`` (a number for one field, a tuple for several),
    ``y`` the value of ``y_field``. Only the events of ``stream`` whose descriptor has
    every one of those fields count; a run without such events yields nothing.
    Feed it ``(name, doc)``; :meth:`__call__` returns ``(start, points)`` when a stop
    document closes a run, else ``None``.
    """

    def __init__(self, x_fields: Sequence[str], y_field: str, *, stream: str = "primary") -> None:
        if not x_fields:
            raise ValueError("RunPoints: give at least one x field (a motor name)")
        self.x_fields, self.y_field, self.stream = list(x_fields), y_field, stream
        self._starts: dict[str, dict[str, Any]] = {}
        self._descriptors: dict[str, str] = {}  # descriptor uid -> run uid
        self._points: dict[str, list[tuple[Any, float]]] = {}

    def __call__(self, name: str, doc: dict[str, Any]) -> tuple[dict[str, Any], list[Any]] | None:
        if name == "start":
            self._starts[doc["uid"]] = doc
            self._points[doc["uid"]] = []
        elif name == "descriptor":
            keys = doc.get("data_keys", {})
            if doc.get("name") == self.stream and all(
                k in keys for k in (*self.x_fields, self.y_field)
            ):
                self._descriptors[doc["uid"]] = doc["run_start"]
        elif name == "event" and doc["descriptor"] in self._descriptors:
            self._add(doc["descriptor"], [doc["data"]])
        elif name == "event_page" and doc["descriptor"] in self._descriptors:
            data = doc["data"]
            rows = [{k: data[k][i] for k in data} for i in range(len(doc["seq_num"]))]
            self._add(doc["descriptor"], rows)
        elif name == "stop":
            start = self._starts.pop(doc["run_start"], None)
            points = self._points.pop(doc["run_start"], [])
            self._descriptors = {
                d: r for d, r in self._descriptors.items() if r != doc["run_start"]
            }
            if start is not None:
                return start, points
        return None

    def forget(self, run: str) -> dict[str, Any] | None:
        """Drop what was collected of run ``run`` (documents of it were lost); its start,
        or ``None`` when it was not being collected. Its stop then yields nothing."""
        self._points.pop(run, None)
        self._descriptors = {d: r for d, r in self._descriptors.items() if r != run}
        return self._starts.pop(run, None)

    def _add(self, descriptor: str, rows: list[dict[str, Any]]) -> None:
        points = self._points.get(self._descriptors[descriptor])
        if points is None:  # the run's start was not seen (joined mid-run)
            return
        for row in rows:
            xs = [row[k] for k in self.x_fields]
            points.append((xs[0] if len(xs) == 1 else tuple(xs), row[self.y_field]))
