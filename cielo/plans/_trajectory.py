"""Trajectories: ordered steps, each mapping motors to positions (cycler-style).

``a + b`` moves the axes of ``a`` and ``b`` together (inner product, equal lengths);
``a * b`` visits every combination (outer product, ``b`` fastest); ``a.concat(b)``
runs one after the other. :meth:`Trajectory.grid` builds products that snake.
A :class:`cycler.Cycler` (what Bluesky's ``scan_nd`` takes) converts with
:meth:`Trajectory.from_cycler`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import Any

from cielo.core import PlanParameterError

__all__ = ["Trajectory", "limit_points"]


#: The most points a grid may have unless ``CIELO_MAX_POINTS`` says otherwise.
DEFAULT_MAX_POINTS = 10_000_000


#: The limit a profile's ``[engine] max_points`` sets while its plans run, and where it
#: was set (see :func:`limit_points`).
_PROFILE_LIMIT: ContextVar[tuple[int, str] | None] = ContextVar("cielo_max_points", default=None)


def check_size(points: int, detail: str) -> None:
    """Refuse a trajectory of more than ``$CIELO_MAX_POINTS`` points (else the profile's
    ``[engine] max_points``, else :data:`DEFAULT_MAX_POINTS`) before it is built, naming
    its size and where the limit comes from."""
    text = os.environ.get("CIELO_MAX_POINTS", "")
    try:
        limit = int(text) if text else DEFAULT_MAX_POINTS
    except ValueError:
        raise PlanParameterError(
            f"CIELO_MAX_POINTS must be a whole number of points, got {text!r}"
        ) from None
    source = "CIELO_MAX_POINTS or a profile's [engine] max_points"
    if text:
        source = "CIELO_MAX_POINTS"
    elif (profile := _PROFILE_LIMIT.get()) is not None:
        limit, source = profile
    if points > limit:
        raise PlanParameterError(
            f"the trajectory would have {points:,} points ({detail}), more than the limit "
            f"of {limit:,}; use fewer points or split the scan (or raise {source})"
        )


def limit_points(plan: Iterable[Any], limit: int, source: str) -> Generator[Any, Any, Any]:
    """``plan``, its trajectories limited to ``limit`` points while it runs (the profile's
    ``[engine] max_points``; ``source`` says where the limit was set, for the refusal).
    ``CIELO_MAX_POINTS`` still wins when it is set."""
    token = _PROFILE_LIMIT.set((limit, source))
    try:
        return (yield from plan)  # type: ignore[misc]
    finally:
        try:
            _PROFILE_LIMIT.reset(token)
        except ValueError:  # closed from another context: nothing of ours is left there
            pass


class Trajectory:
    """A finite sequence of steps; each step maps every key (a motor) to a position.

    Parameters
    ----------
    columns
        Positions per key, all of the same length.

    Examples
    --------
    >>> t = Trajectory.axis("x", [1, 2]) * Trajectory.axis("y", [10, 20])
    >>> [tuple(step.values()) for step in t]
    [(1, 10), (1, 20), (2, 10), (2, 20)]
    >>> len(Trajectory.axis("x", [1, 2]) + Trajectory.axis("y", [5, 6]))
    2
    """

    __slots__ = ("_columns", "_length")

    def __init__(self, columns: Mapping[Any, Sequence[Any]]) -> None:
        cols = {k: v if isinstance(v, LazyColumn) else list(v) for k, v in columns.items()}
        lengths = {len(v) for v in cols.values()}
        if len(lengths) > 1:
            raise PlanParameterError(
                "trajectory axes must have equal lengths, got "
                + ", ".join(f"{_name(k)}: {len(v)}" for k, v in cols.items())
            )
        self._columns = cols
        self._length = lengths.pop() if lengths else 0

    @classmethod
    def axis(cls, key: Any, positions: Iterable[Any]) -> Trajectory:
        """One motor through ``positions`` (a :class:`Linspace` stays lazy)."""
        if isinstance(positions, LazyColumn):
            return cls({key: positions})
        return cls({key: [_plain(p) for p in positions]})

    @classmethod
    def from_cycler(cls, cyc: Any) -> Trajectory:
        """Convert a :class:`cycler.Cycler` (or any iterable of ``{motor: position}``),
        keeping the order in which its steps list the motors."""
        steps = list(cyc)
        if not steps:
            return cls(dict(cyc.by_key()) if hasattr(cyc, "by_key") else {})
        keys = list(steps[0])
        return cls({k: [step[k] for step in steps] for k in keys})

    @classmethod
    def grid(cls, axes: Sequence[Trajectory], snake: Sequence[bool] | None = None) -> Trajectory:
        """Outer product of ``axes`` (the first slowest); a snaking axis reverses its
        direction on every pass of the slower axes, so it never jumps back.
        """
        snake = list(snake) if snake is not None else [False] * len(axes)
        if len(snake) != len(axes):
            raise PlanParameterError(f"grid: {len(axes)} axes but {len(snake)} snake flags")
        lengths = [len(a) for a in axes]
        total = math.prod(lengths)
        check_size(total, " x ".join(map(str, lengths)))
        columns: dict[Any, Sequence[Any]] = {}
        for i, (axis, snaking) in enumerate(zip(axes, snake, strict=True)):
            faster = math.prod(lengths[i + 1 :])
            for key, values in axis.by_key().items():
                columns[key] = GridColumn(values, faster, snaking and i > 0, total)
        return cls(columns)

    @property
    def keys(self) -> list[Any]:
        """The motors, in order."""
        return list(self._columns)

    def by_key(self) -> dict[Any, list[Any]]:
        """Positions per motor."""
        return {k: list(v) for k, v in self._columns.items()}

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[dict[Any, Any]]:
        keys = list(self._columns)
        cols = [self._columns[k] for k in keys]
        for i in range(self._length):
            yield {k: c[i] for k, c in zip(keys, cols, strict=True)}

    def __getitem__(self, index: slice) -> Trajectory:
        return Trajectory({k: v[index] for k, v in self._columns.items()})

    def __add__(self, other: Trajectory) -> Trajectory:
        other = _coerce(other)
        self._check_disjoint(other, "+")
        if len(self) != len(other):
            raise PlanParameterError(
                f"inner product (+) needs equal lengths, got {len(self)} and {len(other)}"
            )
        return Trajectory({**self._columns, **other._columns})

    def __mul__(self, other: Trajectory) -> Trajectory:
        other = _coerce(other)
        self._check_disjoint(other, "*")
        n = len(other)
        check_size(len(self) * n, f"{len(self)} x {n}")
        cols: dict[Any, list[Any]] = {
            k: [x for x in v for _ in range(n)] for k, v in self._columns.items()
        }
        for k, v in other._columns.items():
            cols[k] = list(v) * len(self)
        return Trajectory(cols)

    def concat(self, other: Trajectory) -> Trajectory:
        """This trajectory, then ``other`` (same motors)."""
        other = _coerce(other)
        if set(map(id, self.keys)) != set(map(id, other.keys)):
            raise PlanParameterError("concat needs the same motors on both sides")
        return Trajectory({k: [*v, *other._columns[k]] for k, v in self._columns.items()})

    def reversed(self) -> Trajectory:
        """The steps in reverse order."""
        return self[::-1]

    def _check_disjoint(self, other: Trajectory, op: str) -> None:
        common = [k for k in self._columns if k in other._columns]
        if common:
            raise PlanParameterError(
                f"{', '.join(_name(k) for k in common)} appear(s) on both sides of {op!r}; "
                "each motor may be in a trajectory once"
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Trajectory) and self._columns == other._columns

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = ", ".join(f"{_name(k)}: {len(v)} points" for k, v in self._columns.items())
        return f"Trajectory({inner})"

    # -- text form (plan schemas) -------------------------------------------
    @classmethod
    def __cielo_schema__(cls) -> dict[str, Any]:
        """JSON form: ``{"motor1": [positions], "motor2": [positions]}`` moved together."""
        return {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "number"}},
            "x-cielo-keys": "device",
            "description": "motor name -> positions, all of equal length, moved together",
        }

    @classmethod
    def __cielo_convert__(cls, value: Any, devices: Mapping[str, Any]) -> Trajectory:
        """Accept a Trajectory, a cycler, or ``{"motor name": [positions]}``."""
        if isinstance(value, Trajectory):
            return value
        if hasattr(value, "by_key") and hasattr(value, "keys"):
            return cls.from_cycler(value)
        if isinstance(value, Mapping):
            cols = {}
            for name, positions in value.items():
                if isinstance(name, str):
                    if name not in devices:
                        raise PlanParameterError(
                            f"unknown device {name!r}; devices: {', '.join(sorted(devices))}"
                        )
                    device = devices[name]
                    if not callable(getattr(device, "set", None)):
                        movable = sorted(
                            n for n, d in devices.items() if callable(getattr(d, "set", None))
                        )
                        raise PlanParameterError(
                            f"{name!r} cannot be moved (it has no set); a trajectory moves "
                            f"motors: {', '.join(movable) or 'none in this profile'}"
                        )
                    cols[device] = positions
                else:
                    cols[name] = positions
            return cls(cols)
        raise PlanParameterError(
            f"got {value!r}; give a trajectory as {{'motor': [positions], ...}}"
        )


class LazyColumn(Sequence[Any]):
    """A trajectory column computed when read: ``len``, ``[i]``, slices (as lists), iteration."""

    __slots__ = ()

    def _at(self, i: int) -> Any:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index: Any) -> Any:
        n = len(self)
        if isinstance(index, slice):
            return [self._at(i) for i in range(*index.indices(n))]
        i = index + n if index < 0 else index
        if not 0 <= i < n:
            raise IndexError(f"{type(self).__name__} index {index} out of range for {n} points")
        return self._at(i)

    def __iter__(self) -> Iterator[Any]:
        return (self._at(i) for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]


class GridColumn(LazyColumn):
    """One axis of a grid: each of ``values`` repeated ``faster`` times, pass after pass of
    the slower axes, reversed on every other pass when ``snaking``; ``total`` long."""

    __slots__ = ("faster", "snaking", "total", "values")

    def __init__(self, values: Sequence[Any], faster: int, snaking: bool, total: int) -> None:
        self.values, self.faster, self.snaking, self.total = list(values), faster, snaking, total

    def __len__(self) -> int:
        return self.total

    def _at(self, i: int) -> Any:
        n = len(self.values)
        j = (i // self.faster) % n
        if self.snaking and (i // (n * self.faster)) % 2:
            j = n - 1 - j
        return self.values[j]

    def __repr__(self) -> str:
        return f"GridColumn({len(self.values)} values x {self.faster}, {self.total} points)"


class Linspace(LazyColumn):
    """``num`` evenly spaced numbers from ``start`` to ``stop``, computed when read.

    The same numbers as ``numpy.linspace(start, stop, num)`` (``start + i * step``, the
    last one exactly ``stop``) without building them: a scan of 10⁸ points starts at
    once instead of spending minutes (and gigabytes) on its positions first.
    """

    __slots__ = ("num", "start", "step", "stop")

    def __init__(self, start: float, stop: float, num: int) -> None:
        self.start, self.stop, self.num = float(start), float(stop), int(num)
        self.step = (self.stop - self.start) / (self.num - 1) if self.num > 1 else 0.0

    def __len__(self) -> int:
        return self.num

    def _at(self, i: int) -> float:
        return self.stop if i == self.num - 1 and self.num > 1 else i * self.step + self.start

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Linspace):
            return (self.start, self.stop, self.num) == (other.start, other.stop, other.num)
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Linspace({self.start!r}, {self.stop!r}, {self.num})"


def _coerce(value: Any) -> Trajectory:
    if isinstance(value, Trajectory):
        return value
    if hasattr(value, "by_key"):
        return Trajectory.from_cycler(value)
    raise TypeError(f"cannot combine a Trajectory with {type(value).__name__}")


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    if item is not None and getattr(value, "ndim", None) == 0:
        return item()
    return value


def _name(key: Any) -> str:
    return str(getattr(key, "name", key))
