"""Preprocessors: functions ``x_wrapper(plan, ...)`` returning a modified plan.

Turn any of them into a decorator with :func:`~cielo.plans.make_decorator`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from cielo.core import Msg

from ._composites import ensure_generator, hinted_fields, stage_all, unstage_all
from ._mutators import msg_mutator, plan_mutator
from ._stubs import MsgGenerator, short_uid

__all__ = [
    "run_wrapper",
    "finalize_wrapper",
    "contingency_wrapper",
    "stage_wrapper",
    "subs_wrapper",
    "suspend_wrapper",
    "inject_md_wrapper",
    "set_run_key_wrapper",
    "configure_count_time_wrapper",
    "relative_set_wrapper",
    "reset_positions_wrapper",
]


def _as_plan(plan_or_func: Any) -> MsgGenerator:
    return ensure_generator(plan_or_func() if callable(plan_or_func) else plan_or_func)


def run_wrapper(plan: Any, *, md: Mapping[str, Any] | None = None) -> MsgGenerator:
    """Enclose ``plan`` in a run: ``open_run`` (with ``md``) before, ``close_run`` after.

    If ``plan`` fails, the run is closed with ``exit_status="fail"`` (or the status an
    engine request such as abort/stop carries) and the reason, and the error is raised
    again.

    Returns
    -------
    str
        The run's uid.

    Examples
    --------
    >>> [m.command for m in run_wrapper([Msg("null")], md={"sample": "Fe"})]
    ['open_run', 'null', 'close_run']
    """
    uid = yield Msg("open_run", **(md or {}))

    def failed(exc: BaseException) -> MsgGenerator:
        status = getattr(exc, "exit_status", None) or "fail"
        reason = str(exc) or type(exc).__name__
        yield Msg("close_run", exit_status=status, reason=reason)

    def succeeded() -> MsgGenerator:
        yield Msg("close_run", exit_status=None, reason=None)

    yield from contingency_wrapper(plan, except_plan=failed, else_plan=succeeded)
    return uid


def finalize_wrapper(plan: Any, final_plan: Any, *, pause_for_debug: bool = False) -> MsgGenerator:
    """Run ``final_plan`` after ``plan``, whether it succeeds or fails.

    Parameters
    ----------
    plan
        The plan.
    final_plan
        A plan, or a function returning one, run afterwards in every case except when
        the RunEngine closes the plan outright (it cleans up itself then).
    pause_for_debug
        Pause (at a checkpoint) before the cleanup when ``plan`` failed.
    """
    return (
        yield from contingency_wrapper(plan, final_plan=final_plan, pause_for_debug=pause_for_debug)
    )


def contingency_wrapper(
    plan: Any,
    *,
    except_plan: Callable[[BaseException], Any] | None = None,
    else_plan: Callable[[], Any] | None = None,
    final_plan: Any = None,
    pause_for_debug: bool = False,
    auto_raise: bool = True,
) -> MsgGenerator:
    """try/except/else/finally for plans.

    Parameters
    ----------
    plan
        The plan.
    except_plan
        ``except_plan(exc)`` returns a plan run when ``plan`` raises an ``Exception``.
    else_plan
        ``else_plan()`` returns a plan run when ``plan`` succeeds.
    final_plan
        A plan (or a function returning one) run in both cases.
    pause_for_debug
        Pause before ``final_plan`` when ``plan`` failed.
    auto_raise
        Raise the error again after ``except_plan`` (default) or swallow it.
    """
    cleanup = True
    try:
        result = yield from ensure_generator(plan)
    except GeneratorExit:
        cleanup = False
        raise
    except Exception as exc:
        if except_plan is not None:
            yield from ensure_generator(except_plan(exc))
        if pause_for_debug:
            yield Msg("pause", None, defer=False)
        if auto_raise:
            raise
        return None
    else:
        if else_plan is not None:
            yield from ensure_generator(else_plan())
        return result
    finally:
        if cleanup and final_plan is not None:
            yield from _as_plan(final_plan)


def stage_wrapper(plan: Any, devices: Iterable[Any]) -> MsgGenerator:
    """Stage ``devices`` before ``plan`` and unstage them (in reverse order) after."""
    devices = list(devices)

    def inner() -> MsgGenerator:
        yield from stage_all(*devices)
        return (yield from ensure_generator(plan))

    return (yield from finalize_wrapper(inner(), lambda: unstage_all(*devices)))


def subs_wrapper(plan: Any, subs: Any) -> MsgGenerator:
    """Subscribe callbacks for the duration of ``plan`` only.

    Parameters
    ----------
    subs
        A callback (for all documents), a list of them, or a mapping from document
        name (``"all"``, ``"start"``, ``"event"``, ...) to a callback or list of them.
    """
    normalized: list[tuple[str, Callable[..., Any]]] = []
    if callable(subs):
        normalized.append(("all", subs))
    elif isinstance(subs, Mapping):
        for name, funcs in subs.items():
            for func in [funcs] if callable(funcs) else funcs:
                normalized.append((name, func))
    else:
        normalized.extend(("all", f) for f in subs)
    tokens: list[Any] = []

    def subscribe_all() -> MsgGenerator:
        for name, func in normalized:
            tokens.append((yield Msg("subscribe", None, func, name)))
        return (yield from ensure_generator(plan))

    def unsubscribe_all() -> MsgGenerator:
        for token in tokens:
            yield Msg("unsubscribe", token=token)

    return (yield from finalize_wrapper(subscribe_all(), unsubscribe_all))


def suspend_wrapper(plan: Any, suspenders: Any) -> MsgGenerator:
    """Install suspenders for the duration of ``plan`` (one or a list)."""
    items = list(suspenders) if isinstance(suspenders, list | tuple) else [suspenders]

    def install() -> MsgGenerator:
        for s in items:
            yield Msg("install_suspender", None, s)
        return (yield from ensure_generator(plan))

    def remove() -> MsgGenerator:
        for s in items:
            yield Msg("remove_suspender", None, s)

    return (yield from finalize_wrapper(install(), remove))


def inject_md_wrapper(plan: Any, md: Mapping[str, Any]) -> MsgGenerator:
    """Add ``md`` to every run start of ``plan`` (the plan's own keys win)."""

    def inject(msg: Msg) -> Msg:
        if msg.command == "open_run":
            return msg._replace(kwargs={**md, **msg.kwargs})
        return msg

    return (yield from msg_mutator(plan, inject))


def set_run_key_wrapper(plan: Any, run: Any) -> MsgGenerator:
    """Tag every message of ``plan`` with the run key ``run`` (for interleaved runs)."""
    if run is None:
        raise ValueError("set_run_key_wrapper: run=None is not a run key; give a str or object")
    return (yield from msg_mutator(plan, lambda msg: msg._replace(run=run)))


def configure_count_time_wrapper(plan: Any, time: float | None) -> MsgGenerator:
    """Set ``count_time`` on each detector the plan stages, and restore it afterwards."""
    if time is None:
        return (yield from ensure_generator(plan))
    previous: dict[Any, Any] = {}

    def insert(msg: Msg) -> tuple[Any, Any]:
        obj = msg.obj
        if msg.command == "stage" and hasattr(obj, "count_time") and obj not in previous:

            def head() -> MsgGenerator:
                group = short_uid("count_time")
                previous[obj] = yield from _position(obj.count_time)
                yield Msg("set", obj.count_time, time, group=group)
                yield Msg("wait", None, group=group)
                return (yield msg)

            return head(), None
        return None, None

    def restore() -> MsgGenerator:
        group = short_uid("count_time")
        for obj, value in previous.items():
            yield Msg("set", obj.count_time, value, group=group)
        yield Msg("wait", None, group=group)

    return (yield from finalize_wrapper(plan_mutator(plan, insert), restore))


def _position(obj: Any) -> MsgGenerator:
    """Where a movable is: its locate setpoint, its ``position``, or its reading."""
    if callable(getattr(obj, "locate", None)) and callable(getattr(obj, "set", None)):
        location = yield Msg("locate", obj)
        return 0 if location is None else location["setpoint"]
    if hasattr(obj, "position"):
        return obj.position
    reading = yield Msg("read", obj)
    if reading is None:
        return 0
    fields = hinted_fields(obj)
    if len(fields) > 1:
        raise ValueError(
            f"cannot tell the position of {obj.name!r}: it hints {len(fields)} fields {fields}"
        )
    key = fields[0] if fields else next(iter(reading))
    return reading[key]["value"]


def _stash_positions(devices: Sequence[Any] | None, positions: dict[Any, Any]) -> Any:
    eligible = None if devices is None else {id(d) for d in devices}

    def insert_reads(msg: Msg) -> tuple[Any, Any]:
        obj = msg.obj
        if (
            msg.command == "set"
            and (eligible is None or id(obj) in eligible)
            and obj not in positions
        ):

            def head() -> MsgGenerator:
                positions[obj] = yield from _position(obj)
                return (yield msg)

            return head(), None
        return None, None

    return insert_reads


def relative_set_wrapper(plan: Any, devices: Sequence[Any] | None = None) -> MsgGenerator:
    """Treat ``set`` targets as offsets from where each device was when first set.

    Parameters
    ----------
    devices
        Apply to these devices only (all that the plan sets if ``None``).
    """
    positions: dict[Any, Any] = {}

    def shift(msg: Msg) -> Msg:
        if msg.command == "set" and msg.obj in positions:
            return msg._replace(args=(positions[msg.obj] + msg.args[0], *msg.args[1:]))
        return msg

    return (yield from msg_mutator(plan_mutator(plan, _stash_positions(devices, positions)), shift))


def reset_positions_wrapper(plan: Any, devices: Sequence[Any] | None = None) -> MsgGenerator:
    """Move every device the plan sets back to where it started, at the end.

    Parameters
    ----------
    devices
        Apply to these devices only (all that the plan sets if ``None``).
    """
    positions: dict[Any, Any] = {}

    def reset() -> MsgGenerator:
        group = short_uid("reset")
        for obj, value in positions.items():
            yield Msg("set", obj, value, group=group)
        yield Msg("wait", None, group=group)

    return (
        yield from finalize_wrapper(plan_mutator(plan, _stash_positions(devices, positions)), reset)
    )
