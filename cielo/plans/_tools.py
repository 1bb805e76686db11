"""Plan tools: run a plan against a stand-in for the RunEngine, without hardware.

:func:`simulate_plan` answers each message as a RunEngine would (positions follow the
``set`` targets, statuses are finished, run uids are made up), so a plan's moves and
reads can be inspected; :func:`summarize_plan` counts them and estimates the duration
from the devices' velocities, accelerations and count times; :func:`check_limits`
checks every target against the motors' limits before anything moves.
"""

from __future__ import annotations

import math
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cielo.core import LimitError, Msg, finished_status

from ._composites import ensure_generator, hinted_fields

__all__ = [
    "Move",
    "PlanSummary",
    "simulate_plan",
    "summarize_plan",
    "check_limits",
    "move_duration",
]

#: Readings for a device at the simulated positions: ``readings(obj, positions)``.
ReadingsFunc = Callable[[Any, Mapping[Any, Any]], "dict[str, Any] | None"]


@dataclass(frozen=True)
class Move:
    """One ``set`` the plan makes: device name, target, where it was, and its index."""

    device: str
    target: Any
    start: Any
    index: int


@dataclass
class PlanSummary:
    """What a plan would do: moves, events per stream, runs, and an estimated duration."""

    moves: list[Move] = field(default_factory=list)
    events: Counter[str] = field(default_factory=Counter)
    commands: Counter[str] = field(default_factory=Counter)
    runs: list[dict[str, Any]] = field(default_factory=list)
    reads: Counter[str] = field(default_factory=Counter)
    duration: float = 0.0
    #: The first 100,000 messages (all of them for ordinary plans).
    messages: list[Msg] = field(default_factory=list)
    #: The devices the plan sets, by name.
    devices: dict[str, Any] = field(default_factory=dict)
    #: Whether the plan was stopped after ``max_messages`` (it may run forever).
    truncated: bool = False

    @property
    def partial(self) -> str:
        """What was left unchecked when the dry run was stopped (``""`` when it ran whole)."""
        if not self.truncated:
            return ""
        return (
            f"the dry run stopped after {sum(self.commands.values()):,} messages (the plan is "
            "longer, or may run forever): moves after them were not checked"
        )

    @property
    def num_points(self) -> int:
        """Events in the ``primary`` stream."""
        return self.events.get("primary", 0)

    def targets(self, device: str) -> list[Any]:
        """The targets set on ``device`` (by name), in order."""
        return [m.target for m in self.moves if m.device == device]

    def __str__(self) -> str:
        lines = []
        for run in self.runs:
            lines.append(
                f"run {run.get('plan_name', '?')}: detectors {run.get('detectors', [])}, "
                f"motors {run.get('motors', [])}"
            )
        streams = ", ".join(f"{k}: {v}" for k, v in sorted(self.events.items())) or "none"
        lines.append(f"events per stream: {streams}")
        per_device: dict[str, list[Any]] = {}
        for move in self.moves:
            per_device.setdefault(move.device, []).append(move.target)
        for name, targets in per_device.items():
            values = [t for t in targets if isinstance(t, int | float)]
            span = f" from {min(values):g} to {max(values):g}" if values else ""
            lines.append(f"{name}: {len(targets)} moves{span}")
        reads = ", ".join(f"{k}: {v}" for k, v in sorted(self.reads.items())) or "none"
        lines.append(f"reads: {reads}")
        lines.append(f"estimated duration: {_duration_text(self.duration)}")
        if self.truncated:
            lines.append(self.partial)
        return "\n".join(lines)


def _duration_text(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {sec:02d}s" if hours else f"{minutes}m {sec:02d}s"


def _value(attr: Any) -> Any:
    """A number from a plain attribute or a signal-like one (``get()``)."""
    if attr is None:
        return None
    get = getattr(attr, "get", None)
    if callable(get):
        try:
            attr = get()
        except Exception:
            return None
    if isinstance(attr, int | float) and not isinstance(attr, bool):
        return float(attr)
    return None


def move_duration(distance: float, velocity: float | None, acceleration: float | None) -> float:
    """Seconds a trapezoidal move takes (0 when the velocity is unknown)."""
    distance = abs(distance)
    if not velocity or distance == 0:
        return 0.0
    if not acceleration:
        return distance / velocity
    if distance >= velocity * velocity / acceleration:
        return distance / velocity + velocity / acceleration
    return 2.0 * math.sqrt(distance / acceleration)


def _count_time(obj: Any, simulated: Mapping[int, Any]) -> float:
    """A detector's count time: as the plan set it (simulated) or as the device has it."""
    for name in ("count_time", "exposure_time", "acquire_time", "exposure"):
        attr = getattr(obj, name, None)
        if attr is None:
            continue
        value = simulated.get(id(attr), None)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        value = _value(attr)
        if value is not None:
            return value
    return 0.0


def _name(obj: Any) -> str:
    return str(getattr(obj, "name", obj))


def _hashable(obj: Any) -> bool:
    try:
        hash(obj)
    except TypeError:
        return False
    return True


def _initial_position(obj: Any) -> Any:
    try:
        value = obj.position
    except Exception:
        return 0.0
    return value if value is not None else 0.0


def simulate_plan(
    plan: Any,
    *,
    positions: Mapping[Any, Any] | None = None,
    readings: ReadingsFunc | None = None,
    inputs: Iterable[str] = (),
    max_messages: int = 1_000_000,
) -> PlanSummary:
    """Drive ``plan`` without hardware or RunEngine and record what it does.

    Parameters
    ----------
    plan
        A plan (generator or list of messages).
    positions
        Starting positions by device (object or name); otherwise a device's
        ``position`` attribute, else 0.
    readings
        ``readings(obj, positions)`` returns the reading dict of ``obj`` (``None`` for
        the default: a movable reads its simulated position, anything else 0).
    inputs
        Answers to ``input`` messages, in order (then ``"q"``).
    max_messages
        Stop a plan that runs forever (e.g. ``count(num=None)``) after this many.

    Returns
    -------
    PlanSummary
    """
    given = dict(positions or {})
    pos: dict[int, Any] = {}
    by_name: dict[str, Any] = {}
    answers = iter(inputs)
    summary = PlanSummary()
    clock = 0.0
    pending: dict[Any, float] = {}
    open_bundle: str | None = None
    tokens = 0

    def where(obj: Any) -> Any:
        key = id(obj)
        if key not in pos:
            if _hashable(obj) and obj in given:
                pos[key] = given[obj]
            elif _name(obj) in given:
                pos[key] = given[_name(obj)]
            else:
                pos[key] = _initial_position(obj)
            by_name[_name(obj)] = pos[key]
        return pos[key]

    def read(obj: Any) -> dict[str, Any]:
        now = time.time()
        if readings is not None:
            custom = readings(obj, by_name)
            if custom is not None:
                return custom
        fields = hinted_fields(obj) or [_name(obj)]
        value = where(obj) if hasattr(obj, "set") else 0.0
        return {f: {"value": value, "timestamp": now} for f in fields}

    def add(group: Any, seconds: float) -> None:
        if group is None:
            nonlocal clock
            clock += seconds
        else:
            pending[group] = max(pending.get(group, 0.0), seconds)

    gen = ensure_generator(plan)
    reply: Any = None
    for _ in range(max_messages):
        try:
            msg = gen.send(reply)
        except StopIteration:
            break
        if len(summary.messages) < 100_000:
            summary.messages.append(msg)
        summary.commands[msg.command] += 1
        command, obj = msg.command, msg.obj
        reply = None
        if command == "set":
            start = where(obj)
            target: Any = msg.args[0] if msg.args else None
            summary.moves.append(Move(_name(obj), target, start, len(summary.moves)))
            try:
                distance = float(target) - float(start)
            except (TypeError, ValueError):
                distance = 0.0
            seconds = move_duration(
                distance,
                _value(getattr(obj, "velocity", None)),
                _value(getattr(obj, "acceleration", None)),
            )
            add(msg.kwargs.get("group"), seconds)
            pos[id(obj)] = by_name[_name(obj)] = target
            summary.devices.setdefault(_name(obj), obj)
            reply = finished_status(obj)
        elif command == "locate":
            located = [{"setpoint": where(o), "readback": where(o)} for o in (obj, *msg.args)]
            squeeze = msg.kwargs.get("squeeze", True)
            reply = located[0] if squeeze and len(located) == 1 else located
        elif command == "read":
            reply = read(obj)
            summary.reads[_name(obj)] += 1
        elif command == "trigger":
            add(msg.kwargs.get("group"), _count_time(obj, pos))
            reply = finished_status(obj)
        elif command in ("kickoff", "complete", "prepare", "stage", "unstage"):
            reply = finished_status(obj)
        elif command == "wait":
            group = msg.kwargs.get("group", msg.args[0] if msg.args else None)
            clock += pending.pop(group, 0.0)
            reply = True
        elif command == "sleep":
            clock += float(msg.args[0]) if msg.args else 0.0
        elif command == "create":
            open_bundle = msg.kwargs.get("name", msg.args[0] if msg.args else "primary")
        elif command == "save":
            if open_bundle is not None:
                summary.events[open_bundle] += 1
            open_bundle = None
        elif command == "drop":
            open_bundle = None
        elif command == "open_run":
            summary.runs.append(dict(msg.kwargs))
            reply = str(uuid.uuid4())
        elif command == "close_run":
            reply = None
        elif command == "input":
            reply = next(answers, "q")
        elif command == "subscribe":
            tokens += 1
            reply = tokens
        elif command == "collect":
            reply = []
    else:
        gen.close()
        summary.truncated = True
    summary.duration = clock
    return summary


def summarize_plan(plan: Any, **kwargs: Any) -> PlanSummary:
    """Summarize what ``plan`` would do: moves, reads, events, runs and duration.

    Takes the keyword arguments of :func:`simulate_plan`. ``print(summary)`` gives a
    readable account.

    Examples
    --------
    >>> s = summarize_plan([Msg("set", "m", 1.0, group="a"), Msg("wait", None, group="a")])
    >>> s.targets("m")
    [1.0]
    """
    return simulate_plan(plan, **kwargs)


def _limits_of(obj: Any) -> tuple[float, float] | None:
    limits = getattr(obj, "limits", None)
    if limits is None:
        low, high = (
            _value(getattr(obj, "low_limit", None)),
            _value(getattr(obj, "high_limit", None)),
        )
        limits = (low, high) if low is not None and high is not None else None
    try:
        low, high = (float(x) for x in limits)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return None
    return None if low == high else (low, high)


def check_limits(plan: Any, **kwargs: Any) -> PlanSummary:
    """Check every ``set`` target of ``plan`` against the devices' limits.

    Uses a device's ``check_value`` when it has one, else its ``limits`` (or
    ``low_limit``/``high_limit``). Takes the keyword arguments of :func:`simulate_plan`.

    Returns
    -------
    PlanSummary
        The summary, when every target is allowed.

    Raises
    ------
    LimitError
        Listing every target outside its limits (device, target, limits, move number).
    """
    summary = simulate_plan(plan, **kwargs)
    devices = summary.devices
    problems = []
    for move in summary.moves:
        obj = devices.get(move.device)
        limits = _limits_of(obj)
        check = getattr(obj, "check_value", None)
        if callable(check):
            try:
                check(move.target)
            except Exception as exc:
                problems.append(f"move {move.index}: {move.device} -> {move.target!r}: {exc}")
            continue
        if limits is not None and not limits[0] <= move.target <= limits[1]:
            problems.append(
                f"move {move.index}: {move.device} -> {move.target!r} is outside "
                f"[{limits[0]}, {limits[1]}]"
            )
    if problems:
        shown = problems[:20] + (
            [f"... and {len(problems) - 20} more"] if len(problems) > 20 else []
        )
        partial = f"\n({summary.partial})" if summary.truncated else ""
        raise LimitError(
            f"{len(problems)} of {len(summary.moves)} moves are outside the limits; change "
            "the plan's ranges or the limits:\n  " + "\n  ".join(shown) + partial
        )
    return summary
