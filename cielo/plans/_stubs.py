"""Plan stubs: one small plan per message of the protocol.

Each stub yields a single :class:`~cielo.Msg` (or a few, for the ``*_all`` forms) and
returns the RunEngine's answer, so a plan reads as a sequence of verbs::

    uid = yield from open_run(md={"sample": "Fe foil"})
    yield from trigger_and_read([det])
    yield from close_run()
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Generator, Hashable, Iterable, Mapping
from typing import Any, TypeAlias

from cielo.core import Msg
from cielo.core.protocols import (
    Collectable,
    Configurable,
    Flyable,
    Locatable,
    Movable,
    Preparable,
    Readable,
    Reading,
    Stageable,
    Stoppable,
    Triggerable,
)

__all__ = [
    "MsgGenerator",
    "short_uid",
    "declare_stream",
    "create",
    "save",
    "drop",
    "read",
    "locate",
    "monitor",
    "unmonitor",
    "null",
    "abs_set",
    "rel_set",
    "trigger",
    "stop",
    "sleep",
    "wait",
    "wait_for",
    "checkpoint",
    "clear_checkpoint",
    "pause",
    "deferred_pause",
    "input_plan",
    "prepare",
    "kickoff",
    "complete",
    "collect",
    "configure",
    "stage",
    "unstage",
    "subscribe",
    "unsubscribe",
    "install_suspender",
    "remove_suspender",
    "open_run",
    "close_run",
]

#: What every plan and stub is: a generator of messages returning ``T``.
MsgGenerator: TypeAlias = Generator[Msg, Any, Any]

_counter = itertools.count()


def short_uid(label: str = "") -> str:
    """A group name unique within this process, e.g. ``"set-17"``."""
    return f"{label}-{next(_counter)}" if label else str(next(_counter))


def declare_stream(*objs: Any, name: str, collect: bool = False) -> MsgGenerator:
    """Declare an event stream (its descriptor) before the first reading of it.

    Parameters
    ----------
    objs
        The devices whose readings the stream holds.
    name
        The stream name, e.g. ``"primary"``.
    collect
        Whether the stream is filled by ``collect`` (fly scans) rather than ``read``.
    """
    return (yield Msg("declare_stream", None, *objs, name=name, collect=collect))


def create(name: str = "primary") -> MsgGenerator:
    """Start bundling readings into one event of the stream ``name``."""
    return (yield Msg("create", None, name=name))


def save() -> MsgGenerator:
    """Close the bundle opened by :func:`create` and emit its event."""
    return (yield Msg("save"))


def drop() -> MsgGenerator:
    """Discard the bundle opened by :func:`create` without emitting an event."""
    return (yield Msg("drop"))


def read(obj: Readable) -> Generator[Msg, Any, dict[str, Reading] | None]:
    """Read a device (into the open bundle, if any) and return its readings.

    Returns ``None`` when the plan is not driven by a RunEngine (e.g. ``list(plan)``).
    """
    return (yield Msg("read", obj))


def locate(*objs: Locatable, squeeze: bool = True) -> Generator[Msg, Any, Any]:
    """Return where movables are asked to be (``setpoint``) and are (``readback``).

    One device gives its :class:`~cielo.core.protocols.Location`; several (or
    ``squeeze=False``) give a list of them.
    """
    return (yield Msg("locate", *objs, squeeze=squeeze))


def monitor(obj: Readable, *, name: str | None = None, **kwargs: Any) -> MsgGenerator:
    """Record every update of ``obj`` in its own stream while the run is open.

    Parameters
    ----------
    obj
        A subscribable signal.
    name
        The stream name; defaults to ``f"{obj.name}_monitor"``.
    """
    return (yield Msg("monitor", obj, name=name, **kwargs))


def unmonitor(obj: Readable) -> MsgGenerator:
    """Stop recording the updates of ``obj``."""
    return (yield Msg("unmonitor", obj))


def null() -> MsgGenerator:
    """Yield a message that does nothing (useful as a placeholder)."""
    return (yield Msg("null"))


def abs_set(
    obj: Movable,
    *args: Any,
    group: Hashable | None = None,
    wait: bool = False,
    **kwargs: Any,
) -> MsgGenerator:
    """Ask ``obj`` to go to a value; return its status.

    Parameters
    ----------
    obj
        The device to set.
    args, kwargs
        Passed to ``obj.set``: usually just the target value.
    group
        A name to wait on later with :func:`wait`; a fresh one by default.
    wait
        Whether to wait for this set (and its group) to finish.

    Examples
    --------
    >>> list(abs_set("motor", 3.0, group="A"))[0].args
    (3.0,)
    """
    group = group or short_uid("set")
    status = yield Msg("set", obj, *args, group=group, **kwargs)
    if wait:
        yield Msg("wait", None, group=group)
    return status


def rel_set(
    obj: Movable,
    *args: Any,
    group: Hashable | None = None,
    wait: bool = False,
    **kwargs: Any,
) -> MsgGenerator:
    """Like :func:`abs_set`, relative to the device's position when the plan reaches it."""
    from ._preprocessors import relative_set_wrapper

    return (yield from relative_set_wrapper(abs_set(obj, *args, group=group, wait=wait, **kwargs)))


def trigger(obj: Triggerable, *, group: Hashable | None = None, wait: bool = False) -> MsgGenerator:
    """Trigger an acquisition; return its status (wait for it with ``wait=True``)."""
    status = yield Msg("trigger", obj, group=group)
    if wait:
        yield Msg("wait", None, group=group)
    return status


def stop(obj: Stoppable) -> MsgGenerator:
    """Stop a device."""
    return (yield Msg("stop", obj))


def sleep(time: float) -> MsgGenerator:
    """Wait ``time`` seconds; the RunEngine stays responsive to pauses meanwhile."""
    return (yield Msg("sleep", None, time))


def wait(
    group: Hashable | None = None,
    *,
    timeout: float | None = None,
    error_on_timeout: bool = True,
    watch: Iterable[Hashable] = (),
) -> MsgGenerator:
    """Wait for every status of ``group`` (all pending ones if ``None``) to finish.

    Parameters
    ----------
    group
        The group given to ``set``/``trigger``/``kickoff``/``complete``.
    timeout
        Seconds to wait at most.
    error_on_timeout
        Raise on timeout (``True``) or return ``False`` (``False``, used by
        :func:`~cielo.plans.collect_while_completing`).
    watch
        Further groups whose progress is reported while waiting.

    Returns
    -------
    bool or None
        Whether the group finished (``None`` when not driven by a RunEngine).
    """
    kwargs: dict[str, Any] = {"group": group}
    if timeout is not None:
        kwargs["timeout"] = timeout
        kwargs["error_on_timeout"] = error_on_timeout
    if watch:
        kwargs["watch"] = tuple(watch)
    return (yield Msg("wait", None, **kwargs))


def wait_for(futures: Iterable[Callable[[], Awaitable[Any]]], **kwargs: Any) -> MsgGenerator:
    """Wait for awaitables, each given as a function returning it."""
    return (yield Msg("wait_for", None, list(futures), **kwargs))


def checkpoint() -> MsgGenerator:
    """Mark a point the plan can safely be rewound to after a pause."""
    return (yield Msg("checkpoint"))


def clear_checkpoint() -> MsgGenerator:
    """Forget the last checkpoint: from here a pause cannot rewind."""
    return (yield Msg("clear_checkpoint"))


def pause() -> MsgGenerator:
    """Pause now and rewind to the last checkpoint; ``RE.resume()`` continues."""
    return (yield Msg("pause", None, defer=False))


def deferred_pause() -> MsgGenerator:
    """Pause at the next checkpoint."""
    return (yield Msg("pause", None, defer=True))


def input_plan(prompt: str = "") -> MsgGenerator:
    """Ask the user for a line of text and return it."""
    return (yield Msg("input", None, prompt=prompt))


def prepare(
    obj: Preparable, *args: Any, group: Hashable | None = None, wait: bool = False, **kwargs: Any
) -> MsgGenerator:
    """Prepare a device for a fly scan (``obj.prepare(value)``); return its status."""
    group = group or short_uid("prepare")
    status = yield Msg("prepare", obj, *args, group=group, **kwargs)
    if wait:
        yield Msg("wait", None, group=group)
    return status


def kickoff(
    obj: Flyable, *, group: Hashable | None = None, wait: bool = False, **kwargs: Any
) -> MsgGenerator:
    """Start a flyer; return the status that finishes once it has started."""
    status = yield Msg("kickoff", obj, group=group, **kwargs)
    if wait:
        yield Msg("wait", None, group=group)
    return status


def complete(
    obj: Flyable, *, group: Hashable | None = None, wait: bool = False, **kwargs: Any
) -> MsgGenerator:
    """Ask a flyer to finish; return the status that finishes when it has."""
    status = yield Msg("complete", obj, group=group, **kwargs)
    if wait:
        yield Msg("wait", None, group=group)
    return status


def collect(
    *objs: Collectable,
    stream: bool = False,
    return_payload: bool = True,
    name: str | None = None,
) -> MsgGenerator:
    """Collect what flyers have recorded and emit it as events or stream datums.

    Parameters
    ----------
    objs
        The flyers or collectable detectors.
    stream
        Emit an event page per call rather than single events (Bluesky's flag).
    return_payload
        Return the collected data to the plan.
    name
        The stream to collect into, if the devices do not name it themselves.
    """
    return (yield Msg("collect", *objs, stream=stream, return_payload=return_payload, name=name))


def configure(obj: Configurable, *args: Any, **kwargs: Any) -> MsgGenerator:
    """Change a device's configuration; returns ``(old, new)`` configuration readings."""
    return (yield Msg("configure", obj, *args, **kwargs))


def stage(
    obj: Stageable, *, group: Hashable | None = None, wait: bool | None = None
) -> MsgGenerator:
    """Prepare a device for use in a run (``obj.stage()``)."""
    kwargs: dict[str, Any] = {}
    if group is not None:
        kwargs["group"] = group
    status = yield Msg("stage", obj, **kwargs)
    if wait and group is not None:
        yield Msg("wait", None, group=group)
    return status


def unstage(
    obj: Stageable, *, group: Hashable | None = None, wait: bool | None = None
) -> MsgGenerator:
    """Undo :func:`stage` (``obj.unstage()``)."""
    kwargs: dict[str, Any] = {}
    if group is not None:
        kwargs["group"] = group
    status = yield Msg("unstage", obj, **kwargs)
    if wait and group is not None:
        yield Msg("wait", None, group=group)
    return status


def subscribe(name: str, func: Callable[[str, Mapping[str, Any]], Any]) -> MsgGenerator:
    """Subscribe ``func(name, doc)`` to the documents ``name`` (``"all"``, ...); return a token."""
    return (yield Msg("subscribe", None, func, name))


def unsubscribe(token: int) -> MsgGenerator:
    """Undo :func:`subscribe`."""
    return (yield Msg("unsubscribe", token=token))


def install_suspender(suspender: Any) -> MsgGenerator:
    """Install a suspender for the rest of the plan (see :func:`suspend_wrapper`)."""
    return (yield Msg("install_suspender", None, suspender))


def remove_suspender(suspender: Any) -> MsgGenerator:
    """Remove a suspender installed by :func:`install_suspender`."""
    return (yield Msg("remove_suspender", None, suspender))


def open_run(md: Mapping[str, Any] | None = None) -> MsgGenerator:
    """Open a run (emit its start document with metadata ``md``); return its uid."""
    return (yield Msg("open_run", **(md or {})))


def close_run(exit_status: str | None = None, reason: str | None = None) -> MsgGenerator:
    """Close the run (emit its stop document); return its uid."""
    return (yield Msg("close_run", exit_status=exit_status, reason=reason))
