"""Store analysis results (peak statistics, fit parameters) in the run as their own stream.

A callback sees the run-stop document after the engine has emitted it, so it cannot add
documents to the run. A plan can: it computes its results from the readings it took and
records them, before ``close_run``, as one event of a named stream (``analysis`` by
default). They are then saved, searched and read back like any other stream of the run.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Mapping
from typing import Any

import numpy as np

from cielo.core import Msg

__all__ = ["AnalysisReadable", "save_analysis"]


def _data_key(source: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool | np.bool_):
        return {"dtype": "boolean", "shape": [], "source": source}
    if isinstance(value, int | np.integer):
        return {"dtype": "integer", "shape": [], "source": source}
    if isinstance(value, float | np.floating):
        return {"dtype": "number", "shape": [], "source": source}
    if isinstance(value, str):
        return {"dtype": "string", "shape": [], "source": source}
    arr = np.asarray(value)
    if arr.dtype.kind in "biuf":
        return {"dtype": "array", "shape": list(arr.shape), "source": source}
    raise TypeError(
        f"analysis value for {source!r} must be a number, boolean, string or numeric array; "
        f"got {type(value).__name__}: {value!r:.60}"
    )


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray | list | tuple):
        return np.asarray(value, dtype=float).tolist()
    if value is None:
        return math.nan
    return value


class AnalysisReadable:
    """A readable device whose reading is a fixed mapping of results.

    ``AnalysisReadable("fit", {"center": 0.31, "success": True})`` reads as the fields
    ``fit_center`` and ``fit_success``; it satisfies the readable protocol, so the
    RunEngine records it like any detector.
    """

    parent = None

    def __init__(self, name: str, values: Mapping[str, Any], *, timestamp: float | None = None):
        import time

        self.name = name
        self._time = time.time() if timestamp is None else timestamp
        self._values = {f"{name}_{k}": _plain(v) for k, v in values.items()}
        self._keys = {
            f"{name}_{k}": _data_key(f"analysis:{name}.{k}", _plain(v)) for k, v in values.items()
        }

    @property
    def hints(self) -> dict[str, Any]:
        return {"fields": list(self._values)}

    def read(self) -> dict[str, dict[str, Any]]:
        return {k: {"value": v, "timestamp": self._time} for k, v in self._values.items()}

    def describe(self) -> dict[str, dict[str, Any]]:
        return {k: dict(v) for k, v in self._keys.items()}

    def read_configuration(self) -> dict[str, Any]:
        return {}

    def describe_configuration(self) -> dict[str, Any]:
        return {}


def save_analysis(
    results: Mapping[str, Mapping[str, Any]], *, stream: str = "analysis"
) -> Generator[Msg, Any, list[AnalysisReadable]]:
    """Plan stub: record ``results`` as one event of ``stream`` in the open run.

    ``results`` maps a group name to its values (``{"fit": {"center": 0.3}, "stats":
    {...}}``); each value becomes a field ``{group}_{key}``. Use it inside a run
    (between ``open_run`` and ``close_run``), once per run and stream: every event of a
    stream reads the same objects. Returns the readables that were recorded.

    Examples
    --------
    >>> def my_plan():
    ...     ...  # open_run, scan, compute stats
    ...     yield from save_analysis({"det": {"com": 0.31, "fwhm": 1.2}})
    """
    if not results:
        raise ValueError("save_analysis needs at least one group of results")
    objs = [AnalysisReadable(name, values) for name, values in results.items()]
    yield Msg("create", None, name=stream)
    for obj in objs:
        yield Msg("read", obj)
    yield Msg("save")
    return objs
