"""What the standard plans share: run-start metadata, per-step adaptation, the staged
run (absolute or relative) and the per-step loop over a trajectory."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np

from cielo.core import PlanParameterError
from cielo.core.protocols import Readable
from cielo.plans import (
    MsgGenerator,
    Trajectory,
    one_nd_step,
    relative_set_wrapper,
    reset_positions_wrapper,
    run_wrapper,
    stage_wrapper,
    validated,
)

__all__ = [
    "PerStep",
    "PATTERN_MODULE",
    "names",
    "jsonable",
    "dimensions",
    "joint_dimensions",
    "plan_md",
    "one_motor_md",
    "merge_md",
    "check_detectors",
    "field_value",
    "adapt_per_step",
    "staged_run",
    "run_nd",
    "share_parameters_doc",
    "relative_plan",
]

#: ``per_step(detectors, step, pos_cache)`` (or ``(detectors, motor, step)`` for one motor).
PerStep: TypeAlias = Callable[..., Any]
#: Where the trajectory patterns named in run-start documents live.
PATTERN_MODULE = "cielo.plans.patterns"


def names(devices: Iterable[Any]) -> list[str]:
    """Device names, for metadata."""
    return [getattr(d, "name", str(d)) for d in devices]


#: Methods that mark an object as a device (recorded in ``plan_args`` by its name).
_DEVICE_METHODS = ("read", "set", "describe", "kickoff", "trigger")


def jsonable(value: Any) -> Any:
    """``value`` as it is recorded in ``plan_args``: JSON values, devices by name.

    Numpy numbers and arrays become numbers and lists, tuples lists, devices their
    ``name``, a trajectory ``{motor name: [positions]}`` (the form plan text takes),
    functions (a ``per_step``) ``"module.qualname"``; anything else its ``repr``.
    """
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    name = getattr(value, "name", None)
    if isinstance(name, str) and any(hasattr(value, m) for m in _DEVICE_METHODS):
        return name
    by_key = getattr(value, "by_key", None)
    if callable(by_key):  # a Trajectory
        return {str(jsonable(k)): jsonable(v) for k, v in by_key().items()}
    qualname = getattr(value, "__qualname__", None)
    if callable(value) and isinstance(qualname, str):
        return f"{getattr(value, '__module__', None) or '?'}.{qualname}"
    return repr(value)


def dimensions(motors: Sequence[Any], stream: str = "primary") -> list[tuple[list[str], str]]:
    """One plotting dimension per motor: its hinted fields, or its name."""
    dims = []
    for motor in motors:
        try:
            fields = list(motor.hints["fields"])
        except (AttributeError, KeyError, TypeError):
            fields = []
        dims.append((fields or [getattr(motor, "name", str(motor))], stream))
    return dims


def joint_dimensions(motors: Sequence[Any]) -> list[tuple[list[str], str]]:
    """One plotting dimension for motors moved together: all their fields."""
    return [([field for fields, _ in dimensions(motors) for field in fields], "primary")]


def plan_md(
    name: str,
    detectors: Sequence[Any],
    plan_args: Mapping[str, Any],
    *,
    hints: dict[str, Any],
    pattern: str | None = None,
    pattern_args: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The run-start metadata every standard plan records.

    ``plan_args`` (made :func:`jsonable`, after the detectors' names), ``plan_name``, the trajectory
    ``pattern`` with its module and ``pattern_args`` when there is one, and ``hints``.
    """
    md: dict[str, Any] = {
        "plan_args": {"detectors": names(detectors), **jsonable(plan_args)},
        "plan_name": name,
    }
    if pattern is not None:
        md["plan_pattern"] = pattern
        md["plan_pattern_module"] = PATTERN_MODULE
        md["plan_pattern_args"] = dict(pattern_args or {})
    md["hints"] = hints
    return md


def one_motor_md(
    name: str, detectors: Sequence[Any], motor: Any, plan_args: Mapping[str, Any]
) -> dict[str, Any]:
    """:func:`plan_md` of a plan that moves one motor in a loop of its own."""
    return {
        "detectors": names(detectors),
        "motors": names([motor]),
        **plan_md(name, detectors, plan_args, hints={"dimensions": dimensions([motor])}),
    }


def merge_md(base: dict[str, Any], md: Mapping[str, Any] | None) -> dict[str, Any]:
    """``base`` updated by the user's ``md``; ``hints`` are merged key by key."""
    md = dict(md or {})
    hints = {**base.get("hints", {}), **(md.pop("hints", None) or {})}
    out = {**base, **md}
    out["hints"] = hints
    return out


def check_detectors(detectors: Any, plan: str) -> list[Readable]:
    """``detectors`` as a list, refusing a single device or a string."""
    if isinstance(detectors, str) or not isinstance(detectors, Iterable):
        shown = getattr(detectors, "name", detectors)
        raise PlanParameterError(
            f"{plan}: detectors must be a list of devices, got {shown!r}; write [{shown}]"
        )
    return list(detectors)


def field_value(readings: Mapping[str, Any], field: str, what: str) -> Any:
    """``readings[field]["value"]``, or an error starting with ``what`` if it was not read."""
    if field not in readings:
        raise PlanParameterError(
            f"{what} is not among the readings ({', '.join(sorted(readings))})"
        )
    return readings[field]["value"]


def _names_match(sig: inspect.Signature, expected: Sequence[str]) -> bool:
    params = list(sig.parameters.values())
    if len(params) < len(expected):
        return False
    if [p.name for p in params[: len(expected)]] != list(expected):
        return False
    return all(
        p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        for p in params[len(expected) :]
    )


def adapt_per_step(per_step: PerStep | None, motors: Sequence[Any]) -> PerStep:
    """Return an N-D ``per_step(detectors, step, pos_cache)``.

    A 1-D style ``per_step(detectors, motor, step)`` is adapted when there is one motor.
    """
    if per_step is None:
        return one_nd_step
    try:
        sig = inspect.signature(per_step)
    except (TypeError, ValueError):
        return per_step
    if _names_match(sig, ("detectors", "step", "pos_cache")):
        return per_step
    if _names_match(sig, ("detectors", "motor", "step")):
        if len(motors) != 1:
            raise PlanParameterError(
                f"per_step {getattr(per_step, '__name__', per_step)!r} moves one motor "
                f"(detectors, motor, step) but the scan moves {len(motors)}"
            )
        user = per_step
        (motor,) = motors

        def adapter(detectors: Sequence[Any], step: Mapping[Any, Any], pos_cache: Any) -> Any:
            (position,) = step.values()
            return (yield from user(detectors, motor, position))

        return adapter
    raise PlanParameterError(
        f"per_step {getattr(per_step, '__name__', per_step)!r} must take (detectors, step, "
        f"pos_cache) or (detectors, motor, step), not {sig}"
    )


def staged_run(
    plan: MsgGenerator,
    md: dict[str, Any],
    devices: Sequence[Any],
    motors: Sequence[Any] = (),
    *,
    relative: bool = False,
) -> MsgGenerator:
    """Stage ``devices`` and ``motors``, and run ``plan`` in a run opened with ``md``.

    With ``relative``, the plan's moves of ``motors`` are offsets from where they were
    (Bluesky's relative scans), and they go back there at the end.
    """
    staged = stage_wrapper(run_wrapper(plan, md=md), [*devices, *motors])
    if relative:
        staged = reset_positions_wrapper(relative_set_wrapper(staged, motors), motors)
    return (yield from staged)


def run_nd(
    detectors: Sequence[Readable],
    trajectory: Trajectory,
    per_step: PerStep | None,
    md: dict[str, Any],
    *,
    relative: bool = False,
) -> MsgGenerator:
    """Visit every step of ``trajectory`` with ``per_step``, in one staged run.

    ``md`` gets ``detectors``, ``motors``, ``num_points`` and ``num_intervals`` unless
    it has them; with ``relative`` the positions are offsets from where the motors are
    (see :func:`staged_run`). Returns the run uid.
    """
    motors = trajectory.keys
    md = {
        "detectors": names(detectors),
        "motors": names(motors),
        "num_points": len(trajectory),
        "num_intervals": len(trajectory) - 1,
        **md,
    }
    md.setdefault("hints", {})
    if motors:
        md["hints"].setdefault("dimensions", dimensions(motors))
    step_plan = adapt_per_step(per_step, motors)
    pos_cache: dict[Any, Any] = {}

    def inner() -> MsgGenerator:
        for step in trajectory:
            yield from step_plan(detectors, step, pos_cache)

    return (yield from staged_run(inner(), md, detectors, motors, relative=relative))


def share_parameters_doc(plan: Callable[..., Any], source: Callable[..., Any]) -> None:
    """Give ``plan``'s docstring the ``Parameters`` entries of ``source`` it shares.

    A relative plan (``rel_scan``) takes the parameters of its absolute form (``scan``);
    its docstring then documents them too (numpydoc), and so does its JSON schema.
    """
    doc = inspect.cleandoc(plan.__doc__ or "")
    if "\nParameters\n" in doc:
        return
    wanted = set(inspect.signature(plan).parameters)
    entries: list[list[str]] = []
    lines = inspect.cleandoc(source.__doc__ or "").splitlines()
    start = lines.index("Parameters") + 2 if "Parameters" in lines else len(lines)
    for i in range(start, len(lines)):
        line = lines[i]
        if i + 1 < len(lines) and lines[i + 1] and set(lines[i + 1]) == {"-"}:
            break  # the next section's title
        if line and not line.startswith(" "):
            entries.append([line])
        elif entries and line:
            entries[-1].append(line)
    kept = [
        "\n".join(entry)
        for entry in entries
        if wanted & {n.strip().lstrip("*") for n in entry[0].split(":")[0].split(",")}
    ]
    if not kept:
        return
    section = "Parameters\n----------\n" + "\n".join(kept) + "\n\n"
    head, sep, tail = doc.partition("Examples\n--------")
    plan.__doc__ = (
        (head.rstrip() + "\n\n" + section + sep + tail) if sep else doc + "\n\n" + section
    )


def relative_plan(
    absolute: Callable[..., MsgGenerator],
    run: Callable[..., MsgGenerator],
    summary: str,
    example: str,
    *,
    fixed: Mapping[str, Any] | None = None,
) -> Callable[..., MsgGenerator]:
    """The ``rel_`` form of plan ``absolute``, written once for every relative plan.

    It has ``absolute``'s signature less the ``fixed`` parameters (a relative spiral has
    no centre: it is where the motors are), hence the same JSON schema, and the same
    ``Parameters`` docs under its own ``summary`` and ``example``; it is
    :func:`~cielo.plans.validated`. A call runs ``run(name, **arguments, **fixed,
    relative=True)``, the implementation ``absolute`` runs with ``relative=False``.
    """
    name = f"rel_{absolute.__name__}"
    constants = dict(fixed or {})
    full = inspect.signature(absolute)  # annotations as written (``cielo plan show``)
    sig = full.replace(parameters=[p for p in full.parameters.values() if p.name not in constants])

    def plan(*args: Any, **kwargs: Any) -> MsgGenerator:
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        return (yield from run(name, **bound.arguments, **constants, relative=True))

    plan.__signature__ = sig  # type: ignore[attr-defined]
    plan.__annotations__ = {
        k: v for k, v in inspect.get_annotations(absolute).items() if k not in constants
    }
    plan.__wrapped__ = absolute  # type: ignore[attr-defined]  # its module resolves them
    plan.__name__ = plan.__qualname__ = name
    plan.__module__ = absolute.__module__
    plan.__doc__ = f"{summary}\n\nExamples\n--------\n>>> {example}  # doctest: +SKIP\n"
    share_parameters_doc(plan, absolute)
    return validated(plan)
