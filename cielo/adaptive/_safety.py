"""Checks on what an agent suggests, made before anything moves or is queued."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from cielo.core import LimitError

__all__ = ["AgentPointError", "Bounds", "check_point", "limits_of", "point_values"]

#: ``{motor name: (low, high)}``: where an agent may send each motor.
Bounds = Mapping[str, tuple[float, float]]


class AgentPointError(LimitError):
    """An agent suggested a point that is not a number, has the wrong length, or lies
    outside a motor's limits or the bounds it was given."""


def point_values(point: Any, names: Sequence[str]) -> list[float]:
    """The point as one float per motor (a bare number is fine for one motor).

    :raises AgentPointError: wrong length, or a value that is not a finite number.
    """
    values = list(point) if isinstance(point, Sequence) and not isinstance(point, str) else [point]
    if len(values) != len(names):
        raise AgentPointError(
            f"the agent suggested {point!r}, but there are {len(names)} motors "
            f"({', '.join(names)}); it must give one value per motor"
        )
    numbers: list[float] = []
    for name, value in zip(names, values, strict=True):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise AgentPointError(
                f"the agent suggested {value!r} for {name}, which is not a number"
            ) from None
        if not math.isfinite(number):
            raise AgentPointError(f"the agent suggested {number} for {name}: not a finite number")
        numbers.append(number)
    return numbers


def limits_of(motor: Any) -> tuple[float, float] | None:
    """A motor's soft limits ``(low, high)`` (cielo's and ophyd's ``limits``), if it has any."""
    limits = getattr(motor, "limits", None)
    if limits is None:
        return None
    try:
        low, high = (float(v) for v in limits)
    except (TypeError, ValueError):
        return None
    return None if low == high else (low, high)  # (0, 0): no limits, as ophyd says


def check_point(
    point: Any,
    names: Sequence[str],
    *,
    bounds: Bounds | None = None,
    motors: Sequence[Any] = (),
) -> list[float]:
    """Check one suggested point; returns its values, one float per motor.

    :param point: what the agent asked for.
    :param names: the motors' names, in the order of the point's values.
    :param bounds: ``{name: (low, high)}`` the agent must stay within.
    :param motors: the motor objects, whose own ``limits`` are checked too.
    :raises AgentPointError: naming the value, the motor and the limits it broke.
    """
    values = point_values(point, names)
    for i, (name, value) in enumerate(zip(names, values, strict=True)):
        checks = [("bounds", (bounds or {}).get(name))]
        if i < len(motors):
            checks.append(("soft limits", limits_of(motors[i])))
        for what, window in checks:
            if window is None:
                continue
            low, high = float(window[0]), float(window[1])
            if not low <= value <= high:
                raise AgentPointError(
                    f"the agent suggested {name} = {value}, outside its {what} "
                    f"[{low}, {high}]; nothing was moved"
                )
    return values
