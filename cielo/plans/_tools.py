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
from typing import Any, TypeVar

from cielo.core import LimitError, Msg, finished_status

from ._composites import ensure_generator, hinted_fields

__all__ = [
    "Move",
    "PlanSummary",
    "SIMULATIONS",
    "Simulation",
    "Simulator",
    "plugin_simulations",
    "simulated_by",
    "simulate_plan",
    "summarize_plan",
    "check_limits",
    "move_duration",
]

H = TypeVar("H", bound=Callable[..., Any])

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
    #: Messages whose command has no simulation (a plugin's command, or an unknown one).
    unsimulated: Counter[str] = field(default_factory=Counter)

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
        if self.unsimulated:
            names = ", ".join(f"{k} ({v})" for k, v in sorted(self.unsimulated.items()))
            lines.append(f"not simulated (replied None): {names}")
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


#: ``simulation(sim, msg)``: a command's stand-in; returns the reply the plan gets.
Simulation = Callable[["Simulator", Msg], Any]


class Simulator:
    """The stand-in RunEngine a simulated command acts on: positions, clock, the summary.

    A plugin's command is simulated by a ``simulation(sim, msg)`` attached to its handler
    (:func:`simulated_by`); it may move the clock (:meth:`advance`), read the simulated
    positions (:meth:`position`) and returns the reply sent back into the plan.
    """

    def __init__(
        self,
        positions: Mapping[Any, Any] | None,
        readings: ReadingsFunc | None,
        inputs: Iterable[str],
    ) -> None:
        self.summary = PlanSummary()
        self.clock = 0.0
        self.pending: dict[Any, float] = {}
        self.open_bundle: str | None = None
        self.tokens = 0
        self.answers = iter(inputs)
        self._given = dict(positions or {})
        self._readings = readings
        self.positions: dict[int, Any] = {}
        self.by_name: dict[str, Any] = {}

    def position(self, obj: Any) -> Any:
        """Where ``obj`` is in the simulation (given, its ``position``, else 0)."""
        key = id(obj)
        if key not in self.positions:
            if _hashable(obj) and obj in self._given:
                self.positions[key] = self._given[obj]
            elif _name(obj) in self._given:
                self.positions[key] = self._given[_name(obj)]
            else:
                self.positions[key] = _initial_position(obj)
            self.by_name[_name(obj)] = self.positions[key]
        return self.positions[key]

    def move(self, obj: Any, target: Any) -> None:
        self.positions[id(obj)] = self.by_name[_name(obj)] = target

    def read(self, obj: Any) -> dict[str, Any]:
        now = time.time()
        if self._readings is not None:
            custom = self._readings(obj, self.by_name)
            if custom is not None:
                return custom
        fields = hinted_fields(obj) or [_name(obj)]
        value = self.position(obj) if hasattr(obj, "set") else 0.0
        return {f: {"value": value, "timestamp": now} for f in fields}

    def advance(self, seconds: float, group: Any = None) -> None:
        """Spend ``seconds``: now, or (with ``group``) when that group is waited for."""
        if group is None:
            self.clock += seconds
        else:
            self.pending[group] = max(self.pending.get(group, 0.0), seconds)


def _set(sim: Simulator, msg: Msg) -> Any:
    obj = msg.obj
    start = sim.position(obj)
    target: Any = msg.args[0] if msg.args else None
    sim.summary.moves.append(Move(_name(obj), target, start, len(sim.summary.moves)))
    try:
        distance = float(target) - float(start)
    except (TypeError, ValueError):
        distance = 0.0
    velocity = _value(getattr(obj, "velocity", None))
    seconds = move_duration(distance, velocity, _value(getattr(obj, "acceleration", None)))
    sim.advance(seconds, msg.kwargs.get("group"))
    sim.move(obj, target)
    sim.summary.devices.setdefault(_name(obj), obj)
    return finished_status(obj)


def _locate(sim: Simulator, msg: Msg) -> Any:
    located = [
        {"setpoint": sim.position(o), "readback": sim.position(o)} for o in (msg.obj, *msg.args)
    ]
    return located[0] if msg.kwargs.get("squeeze", True) and len(located) == 1 else located


def _read(sim: Simulator, msg: Msg) -> Any:
    sim.summary.reads[_name(msg.obj)] += 1
    return sim.read(msg.obj)


def _trigger(sim: Simulator, msg: Msg) -> Any:
    sim.advance(_count_time(msg.obj, sim.positions), msg.kwargs.get("group"))
    return finished_status(msg.obj)


def _finished(sim: Simulator, msg: Msg) -> Any:
    return finished_status(msg.obj)


def _wait(sim: Simulator, msg: Msg) -> Any:
    sim.clock += sim.pending.pop(msg.kwargs.get("group", msg.args[0] if msg.args else None), 0.0)
    return True


def _sleep(sim: Simulator, msg: Msg) -> Any:
    sim.clock += float(msg.args[0]) if msg.args else 0.0


def _create(sim: Simulator, msg: Msg) -> Any:
    sim.open_bundle = msg.kwargs.get("name", msg.args[0] if msg.args else "primary")


def _save(sim: Simulator, msg: Msg) -> Any:
    if sim.open_bundle is not None:
        sim.summary.events[sim.open_bundle] += 1
    sim.open_bundle = None


def _drop(sim: Simulator, msg: Msg) -> Any:
    sim.open_bundle = None


def _open_run(sim: Simulator, msg: Msg) -> Any:
    sim.summary.runs.append(dict(msg.kwargs))
    return str(uuid.uuid4())


def _subscribe(sim: Simulator, msg: Msg) -> Any:
    sim.tokens += 1
    return sim.tokens


def _nothing(sim: Simulator, msg: Msg) -> Any:
    return None


#: The built-in commands' simulations; the engine's other built-in commands reply ``None``.
SIMULATIONS: dict[str, Simulation] = {
    "set": _set,
    "locate": _locate,
    "read": _read,
    "trigger": _trigger,
    **dict.fromkeys(("kickoff", "complete", "prepare", "stage", "unstage"), _finished),
    "wait": _wait,
    "sleep": _sleep,
    "create": _create,
    "save": _save,
    "drop": _drop,
    "open_run": _open_run,
    "input": lambda sim, msg: next(sim.answers, "q"),
    "subscribe": _subscribe,
    "collect": lambda sim, msg: [],
    **dict.fromkeys(
        (
            "close_run",
            "null",
            "checkpoint",
            "clear_checkpoint",
            "rewindable",
            "pause",
            "configure",
            "declare_stream",
            "monitor",
            "unmonitor",
            "unsubscribe",
            "wait_for",
            "install_suspender",
            "remove_suspender",
            "stop",
        ),
        _nothing,
    ),
}


def simulated_by(simulation: Simulation) -> Callable[[H], H]:
    """Mark a plugin's command handler with the simulation :func:`simulate_plan` uses.

    Examples
    --------
    >>> @simulated_by(lambda sim, msg: sim.advance(msg.args[0]))
    ... def settle(ctx, msg): ...
    """

    def mark(handler: H) -> H:
        handler.simulate = simulation  # type: ignore[attr-defined]
        return handler

    return mark


def plugin_simulations(plugin_manager: Any) -> dict[str, Simulation | None]:
    """The commands plugins add (``cielo_msg_commands``) and their simulations (``None``:
    the plugin gave none; the command replies ``None`` and is listed as not simulated)."""
    found: dict[str, Simulation | None] = {}
    for offered in plugin_manager.hook.cielo_msg_commands():
        for name, handler in dict(offered or {}).items():
            found[name] = getattr(handler, "simulate", None)
    return found


def simulate_plan(
    plan: Any,
    *,
    positions: Mapping[Any, Any] | None = None,
    readings: ReadingsFunc | None = None,
    inputs: Iterable[str] = (),
    max_messages: int = 1_000_000,
    plugin_manager: Any = None,
    commands: Mapping[str, Simulation] | None = None,
) -> PlanSummary:
    """Drive ``plan`` without hardware or RunEngine and record what it does.

    Each message is answered by its command's simulation: the built-in ones
    (:data:`SIMULATIONS`), the plugins' (a handler marked with :func:`simulated_by`), and
    ``commands``. A command without one replies ``None`` and is counted in
    ``summary.unsimulated``.

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
    plugin_manager
        Whose plugins' commands (``cielo_msg_commands``) are simulated too (e.g. ``env.pm``).
    commands
        More simulations by command name (a command registered with
        ``RE.register_command``).

    Returns
    -------
    PlanSummary
    """
    table: dict[str, Simulation | None] = dict(SIMULATIONS)
    if plugin_manager is not None:
        table.update(plugin_simulations(plugin_manager))
    table.update(commands or {})
    sim = Simulator(positions, readings, inputs)
    summary = sim.summary
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
        simulation = table.get(msg.command)
        if simulation is None:
            summary.unsimulated[msg.command] += 1
            reply = None
        else:
            reply = simulation(sim, msg)
    else:
        gen.close()
        summary.truncated = True
    summary.duration = sim.clock
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
