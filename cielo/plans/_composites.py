"""Composite stubs: the building blocks plans are assembled from.

Moving several motors at once, triggering and reading detectors into one event, the
inner loops of counts and step scans, repeats, and the ``*_all`` forms of staging and
flying.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Mapping, Sequence, Sized
from typing import Any

from cielo.core import Msg
from cielo.core.protocols import (
    Collectable,
    Flyable,
    Movable,
    Readable,
    Stageable,
)

from ._stubs import MsgGenerator, short_uid

__all__ = [
    "mv",
    "mvr",
    "rd",
    "trigger_and_read",
    "one_shot",
    "one_1d_step",
    "move_per_step",
    "one_nd_step",
    "repeat",
    "repeater",
    "broadcast_msg",
    "stage_all",
    "unstage_all",
    "kickoff_all",
    "complete_all",
    "collect_while_completing",
    "ensure_generator",
    "separate_devices",
    "hinted_fields",
    "pairs",
]

TakeReading = Callable[..., MsgGenerator]


def ensure_generator(plan: Any) -> MsgGenerator:
    """Return ``plan`` as a generator (a list or other iterable of messages is wrapped)."""
    if hasattr(plan, "send") and hasattr(plan, "throw"):
        return plan  # type: ignore[no-any-return]
    if isinstance(plan, Msg):
        plan = [plan]
    return _iter_plan(iter(plan))


def _iter_plan(it: Any) -> MsgGenerator:
    last = None
    for msg in it:
        last = yield msg
    return last


def pairs(args: Sequence[Any], what: str) -> list[tuple[Any, Any]]:
    """Split ``device1, value1, device2, value2, ...`` into pairs, checking the count."""
    if len(args) % 2:
        raise ValueError(
            f"{what} takes device, value pairs (device1, value1, device2, value2, ...), "
            f"got {len(args)} arguments"
        )
    out = list(zip(args[::2], args[1::2], strict=True))
    seen: set[int] = set()
    for obj, _ in out:
        if id(obj) in seen:
            raise ValueError(f"{what}: {getattr(obj, 'name', obj)!r} is given more than once")
        seen.add(id(obj))
    return out


def mv(
    *args: Any, group: str | None = None, timeout: float | None = None, **kwargs: Any
) -> MsgGenerator:
    """Move one or more devices to absolute positions, all at once, and wait.

    Parameters
    ----------
    args
        ``device1, value1, device2, value2, ...``
    group
        The status group (a fresh one by default).
    timeout
        Seconds to wait at most for all moves.
    kwargs
        Passed to each device's ``set``.

    Returns
    -------
    tuple
        The status of each move.

    Examples
    --------
    >>> [m.command for m in mv("m1", 1, "m2", 2)]
    ['set', 'set', 'wait']
    """
    group = group or short_uid("mv")
    statuses = []
    for obj, value in pairs(args, "mv"):
        statuses.append((yield Msg("set", obj, value, group=group, **kwargs)))
    wait_kwargs: dict[str, Any] = {"group": group}
    if timeout is not None:
        wait_kwargs["timeout"] = timeout
    yield Msg("wait", None, **wait_kwargs)
    return tuple(statuses)


def mvr(
    *args: Any, group: str | None = None, timeout: float | None = None, **kwargs: Any
) -> MsgGenerator:
    """Move one or more devices by offsets from where they are, all at once, and wait.

    Parameters
    ----------
    args
        ``device1, delta1, device2, delta2, ...``
    group, timeout, kwargs
        As in :func:`mv`.
    """
    from ._preprocessors import relative_set_wrapper

    devices = [obj for obj, _ in pairs(args, "mvr")]
    return (
        yield from relative_set_wrapper(mv(*args, group=group, timeout=timeout, **kwargs), devices)
    )


def hinted_fields(obj: Any) -> list[str]:
    """The fields a device hints for display (``obj.hints["fields"]``), or ``[]``."""
    try:
        return list(obj.hints.get("fields", []))
    except AttributeError:
        return []


def rd(obj: Readable, *, default_value: Any = 0) -> MsgGenerator:
    """Return the single value of a device without creating an event.

    A locatable device answers with its readback; otherwise the one hinted field (or
    the only field) of its reading is used.

    Parameters
    ----------
    obj
        The device.
    default_value
        Returned when no RunEngine answers (``list(plan)``).
    """
    if callable(getattr(obj, "locate", None)) and callable(getattr(obj, "set", None)):
        location = yield Msg("locate", obj)
        return default_value if location is None else location["readback"]
    fields = hinted_fields(obj)
    if len(fields) > 1:
        raise ValueError(
            f"rd: {obj.name!r} hints {len(fields)} fields {fields}; read one of its "
            "components instead"
        )
    reading = yield Msg("read", obj)
    if reading is None:
        return default_value
    if fields:
        return reading[fields[0]]["value"]
    if len(reading) != 1:
        raise ValueError(
            f"rd: {obj.name!r} reads {len(reading)} fields {sorted(reading)} and hints none; "
            "read one of its components instead"
        )
    return next(iter(reading.values()))["value"]


def separate_devices(devices: Iterable[Any]) -> list[Any]:
    """Drop repeats and devices whose ancestor is also in the list, keeping order."""
    devices = list(devices)
    ids = {id(d) for d in devices}
    result: list[Any] = []
    seen: set[int] = set()
    for dev in devices:
        if id(dev) in seen:
            continue
        parent = getattr(dev, "parent", None)
        while parent is not None and id(parent) not in ids:
            parent = getattr(parent, "parent", None)
        if parent is None:
            seen.add(id(dev))
            result.append(dev)
    return result


def trigger_and_read(devices: Sequence[Readable], name: str = "primary") -> MsgGenerator:
    """Trigger the devices that can be, wait, and read all of them into one event.

    Parameters
    ----------
    devices
        Devices to trigger (when triggerable) and read.
    name
        The event stream.

    Returns
    -------
    dict
        The readings of all devices (empty when no RunEngine answers).

    Examples
    --------
    >>> [m.command for m in trigger_and_read([])]
    ['null']
    """
    if not devices:
        yield Msg("null")
        return {}
    devices = separate_devices(devices)
    group = short_uid("trigger")
    triggered = False
    for obj in devices:
        # hasattr, not isinstance(obj, Triggerable): a protocol check costs ~15 µs
        if callable(getattr(obj, "trigger", None)):
            triggered = True
            yield Msg("trigger", obj, group=group)
    if triggered:
        yield Msg("wait", None, group=group)
    yield Msg("create", None, name=name)
    readings: dict[str, Any] = {}
    try:
        for obj in devices:
            reading = yield Msg("read", obj)
            if reading is not None:
                readings.update(reading)
    except Exception:
        yield Msg("drop")
        raise
    yield Msg("save")
    return readings


def one_shot(
    detectors: Sequence[Readable], take_reading: TakeReading | None = None
) -> MsgGenerator:
    """Inner loop of a count: a checkpoint, then one reading of the detectors."""
    take_reading = take_reading or trigger_and_read
    yield Msg("checkpoint")
    return (yield from take_reading(list(detectors)))


def one_1d_step(
    detectors: Sequence[Readable],
    motor: Movable,
    step: Any,
    take_reading: TakeReading | None = None,
) -> MsgGenerator:
    """Inner loop of a 1-D scan: move ``motor`` to ``step``, then read it and the detectors."""
    take_reading = take_reading or trigger_and_read
    group = short_uid("set")
    yield Msg("checkpoint")
    yield Msg("set", motor, step, group=group)
    yield Msg("wait", None, group=group)
    devices: list[Any] = [*detectors, motor]
    return (yield from take_reading(devices))


def move_per_step(step: Mapping[Any, Any], pos_cache: dict[Any, Any]) -> MsgGenerator:
    """Move each motor of ``step`` that is not already at its position (per ``pos_cache``)."""
    yield Msg("checkpoint")
    group = short_uid("set")
    for motor, pos in step.items():
        if motor in pos_cache and _same(pos_cache[motor], pos):
            continue
        yield Msg("set", motor, pos, group=group)
        pos_cache[motor] = pos
    yield Msg("wait", None, group=group)


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except ValueError:  # arrays
        return False


def one_nd_step(
    detectors: Sequence[Readable],
    step: Mapping[Any, Any],
    pos_cache: dict[Any, Any],
    take_reading: TakeReading | None = None,
) -> MsgGenerator:
    """Inner loop of an N-D scan: move to ``step``, then read the motors and detectors."""
    take_reading = take_reading or trigger_and_read
    yield from move_per_step(step, pos_cache)
    return (yield from take_reading([*detectors, *step.keys()]))


#: How far behind its schedule a repetition may start and still keep it (catching up by
#: not sleeping); later than that (a pause, a slow point), the schedule starts afresh.
_CATCH_UP = 0.05


def repeat(
    plan: Callable[[], Any],
    num: int | None = 1,
    delay: float | Iterable[float] | None = 0.0,
) -> MsgGenerator:
    """Run ``plan()`` ``num`` times (forever if ``None``), a checkpoint before each.

    Parameters
    ----------
    plan
        A function returning a plan.
    num
        How many times.
    delay
        Seconds from the start of one repetition to the start of the next: one number,
        or one per gap (at least ``num - 1`` of them). A start that wakes a little late
        is made up at the next gaps (up to 50 ms behind), so the rate holds on average.

    Returns
    -------
    Any
        The return value of the last repetition (earlier ones are not kept, so memory
        stays flat however many repetitions run).
    """
    if delay is None:
        delay = 0.0
    if isinstance(delay, Iterable):
        if num is not None and isinstance(delay, Sized) and len(delay) < num - 1:
            raise ValueError(
                f"repeat: num={num} needs {num - 1} delays, but only {len(delay)} were given"
            )
        delay_iter: Any = iter(delay)
    else:
        delay_iter = itertools.repeat(float(delay))
    counter = itertools.count() if num is None else range(num)
    result = None
    due: float | None = None  # when this repetition was due to start
    for i in counter:
        started = time.monotonic()
        if due is None or not -0.001 <= started - due <= _CATCH_UP:
            # The first; one held up (a pause, a slow point); or a sleep that took no
            # real time (a simulated run): the schedule starts afresh.
            due = started
        yield Msg("checkpoint")
        result = yield from ensure_generator(plan())
        if num is not None and i + 1 == num:
            break
        try:
            d = next(delay_iter)
        except StopIteration:
            if num is None:
                break
            raise ValueError(f"repeat: num={num} but the delays ran out after {i + 1}") from None
        if d is not None:
            # Counted from the due time, not the start: a sleep that wakes late (the
            # event loop's timers round up to the millisecond) is made up by the next
            # one, so 1 ms delays give 1,000 starts/s rather than about 550.
            due += d
            remaining = due - time.monotonic()
            if remaining > 0:
                yield Msg("sleep", None, remaining)
    return result


def repeater(
    n: int | None, gen_func: Callable[..., Any], *args: Any, **kwargs: Any
) -> MsgGenerator:
    """Chain ``n`` runs of ``gen_func(*args, **kwargs)`` (forever if ``None``)."""
    counter = itertools.count() if n is None else range(n)
    for _ in counter:
        yield from ensure_generator(gen_func(*args, **kwargs))


def broadcast_msg(command: str, objs: Iterable[Any], *args: Any, **kwargs: Any) -> MsgGenerator:
    """Send the same message to each of ``objs``; return the answers."""
    answers = []
    for obj in objs:
        answers.append((yield Msg(command, obj, *args, **kwargs)))
    return answers


def stage_all(*args: Stageable, group: str | None = None) -> MsgGenerator:
    """Stage each device that can be staged, in turn (no repeats)."""
    for obj in separate_devices(a for a in args if isinstance(a, Stageable)):
        kwargs = {"group": group} if group is not None else {}
        yield Msg("stage", obj, **kwargs)
    if group is not None:
        yield Msg("wait", None, group=group)


def unstage_all(*args: Stageable, group: str | None = None) -> MsgGenerator:
    """Unstage each device that can be staged, in reverse order."""
    for obj in reversed(separate_devices(a for a in args if isinstance(a, Stageable))):
        kwargs = {"group": group} if group is not None else {}
        yield Msg("unstage", obj, **kwargs)
    if group is not None:
        yield Msg("wait", None, group=group)


def kickoff_all(*args: Flyable, group: str | None = None, wait: bool = True) -> MsgGenerator:
    """Kick off every flyer at once; wait until all have started (by default)."""
    group = group or short_uid("kickoff")
    statuses = []
    for obj in args:
        statuses.append((yield Msg("kickoff", obj, group=group)))
    if wait:
        yield Msg("wait", None, group=group)
    return statuses


def complete_all(*args: Flyable, group: str | None = None, wait: bool = False) -> MsgGenerator:
    """Ask every flyer to finish; wait until all have (if ``wait``)."""
    group = group or short_uid("complete")
    statuses = []
    for obj in args:
        statuses.append((yield Msg("complete", obj, group=group)))
    if wait:
        yield Msg("wait", None, group=group)
    return statuses


def collect_while_completing(
    flyers: Sequence[Flyable],
    dets: Sequence[Collectable],
    flush_period: float | None = None,
    stream_name: str | None = None,
    watch: Sequence[str] = (),
) -> MsgGenerator:
    """Complete the flyers and collect from ``dets`` every ``flush_period`` s until done.

    Parameters
    ----------
    flyers
        Devices to complete.
    dets
        Collectable devices to collect from while waiting.
    flush_period
        Seconds between collections (wait for completion in one go if ``None``).
    stream_name
        The stream to collect into.
    watch
        Further status groups to report progress of while waiting.
    """
    group = short_uid("complete")
    yield from complete_all(*flyers, group=group, wait=False)
    done = False
    while not done:
        kwargs: dict[str, Any] = {"group": group, "error_on_timeout": False}
        if flush_period is not None:
            kwargs["timeout"] = flush_period
        if watch:
            kwargs["watch"] = tuple(watch)
        answer = yield Msg("wait", None, **kwargs)
        done = answer is None or answer is True or flush_period is None
        yield Msg("collect", *dets, stream=False, return_payload=True, name=stream_name)
