"""Values as analysis callbacks take them in and write them out.

One reading becomes one float (:func:`as_float`); a summary written to a JSON file
(peak statistics, a live fit) has its non-finite numbers as ``null`` and numpy scalars as
plain numbers (:func:`finite_json`), in a file named from the run (:func:`write_sidecar`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["as_float", "finite_json", "write_sidecar"]


def as_float(value: Any) -> float:
    """``value`` as a float, or ``nan`` when it is missing or not a number (a string)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def finite_json(value: Any) -> Any:
    """``value`` with NaN and infinities as ``None``, numpy scalars as numbers, tuples as
    lists (dicts and lists recursed): what a strict JSON reader accepts."""
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_sidecar(
    template: str | os.PathLike[str], start: Mapping[str, Any], summary: Mapping[str, Any]
) -> str:
    """Write ``summary`` as JSON to ``template`` filled from the run's start document
    (``{uid}``, ``{scan_id}``, ``{plan_name}``), making its folder; returns the path."""
    path = os.fspath(template).format(
        uid=start.get("uid", "run"),
        scan_id=start.get("scan_id", 0),
        plan_name=start.get("plan_name", "run"),
    )
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    return path
