"""Bounds of a number parameter, declared where the parameter is: ``Annotated[float, Range(ge=0)]``.

:func:`~cielo.core.bind_parameters` refuses a value outside them (a profile's device
parameter, a plan's argument), naming the allowed range; :func:`~cielo.core.signature_schema`
describes them as JSON-schema ``minimum``/``maximum`` (exclusive ones too). Any metadata
object with ``ge``/``gt``/``le``/``lt`` attributes counts, so ``annotated_types.Ge(0)``
(what pydantic uses) works the same.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

__all__ = ["Range", "range_metadata"]

_SCHEMA_KEYS = {
    "ge": "minimum",
    "gt": "exclusiveMinimum",
    "le": "maximum",
    "lt": "exclusiveMaximum",
}
_WORDS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}


@dataclass(frozen=True)
class Range:
    """Inclusive (``ge``, ``le``) and exclusive (``gt``, ``lt``) bounds of a number."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None


def _bounds(meta: Any) -> dict[str, float]:
    found = {}
    for key in _SCHEMA_KEYS:
        bound = getattr(meta, key, None)
        if isinstance(bound, numbers.Real) and not isinstance(bound, bool):
            found[key] = float(bound)
    return found


def range_metadata(metadata: tuple[Any, ...]) -> dict[str, float]:
    """The bounds among ``Annotated`` metadata, by kind (``{"ge": 0, "lt": 10}``)."""
    merged: dict[str, float] = {}
    for meta in metadata:
        merged.update(_bounds(meta))
    return merged


def range_text(bounds: dict[str, float]) -> str:
    """``">= 0 and < 10"``."""
    return " and ".join(f"{_WORDS[k]} {v:g}" for k, v in bounds.items())


def range_schema(bounds: dict[str, float]) -> dict[str, float]:
    """The JSON-schema keywords of ``bounds``."""
    return {_SCHEMA_KEYS[k]: v for k, v in bounds.items()}


def in_range(value: Any, bounds: dict[str, float]) -> bool:
    """Whether the number ``value`` is within ``bounds`` (NaN never is)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return True  # not a number: the type check speaks for it
    if isinstance(value, float) and math.isnan(value):
        return not bounds
    checks = {
        "ge": lambda b: value >= b,
        "gt": lambda b: value > b,
        "le": lambda b: value <= b,
        "lt": lambda b: value < b,
    }
    return all(checks[k](b) for k, b in bounds.items())
