"""Handlers for device I/O and waiting: trigger, set, locate, stage, unstage, configure,
prepare, kickoff, complete, stop, wait, wait_for, sleep."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from .._errors import IllegalMessageSequence, StatusTimeoutError, WaitTimeoutError
from .._msg import Msg
from ._commands import (
    CommandContext,
    CoroutineType,
    as_failed_status,
    call_soon_threadsafe,
    device_name,
    is_status,
    maybe_await,
    status_failure,
)
from ._stopping import device_timeout_of

__all__ = ["DEVICE_HANDLERS"]

logger = logging.getLogger("cielo.engine")

_PRUNE_AT = 64


def _track(ctx: CommandContext, msg: Msg, method: str, result: Any, group: Any) -> Any:
    """Put what ``obj.method()`` returned in its wait group and return the status."""
    status = result if is_status(result) else ctx.as_status(msg.obj, method, result)
    if status.done and status.success and ctx.engine.waiting_hook is None:
        return status  # nothing left to wait for: keep memory flat over long scans
    entries = ctx.groups.get(group)
    if entries is None:
        ctx.groups[group] = [(status, msg.obj, method)]
    else:
        entries.append((status, msg.obj, method))
        if len(entries) > _PRUNE_AT:
            entries[:] = [e for e in entries if not (e[0].done and e[0].success)]
    return status


def _status_call(method: str, moves: bool = False) -> Any:
    def handler(ctx: CommandContext, msg: Msg) -> Any:
        if moves:  # remembered, to be stopped when the plan stops
            ctx.moved[id(msg.obj)] = msg.obj
        kwargs = msg.kwargs
        if "group" in kwargs:
            kwargs = dict(kwargs)
            group = kwargs.pop("group")
        else:
            group = None
        result = ctx.call(msg.obj, method, msg, *msg.args, **kwargs)
        return _track(ctx, msg, method, result, group)

    handler.__name__ = handler.__qualname__ = method
    return handler


_kickoff = _status_call("kickoff", moves=True)


def kickoff(ctx: CommandContext, msg: Msg) -> Any:
    if msg.run not in ctx.runs and not (msg.run is None and len(ctx.runs) == 1):
        raise IllegalMessageSequence(
            f"'kickoff' of {device_name(msg.obj)} outside a run (run key {msg.run!r}): what a "
            "flyer collects belongs to a run; send Msg('open_run') first"
        )
    pending = ctx.uncollected.setdefault(ctx.run(msg).uid, [])
    if not any(o is msg.obj for o in pending):
        pending.append(msg.obj)
    return _kickoff(ctx, msg)


def trigger(ctx: CommandContext, msg: Msg) -> Any:
    kwargs = msg.kwargs
    group = kwargs.get("group") if kwargs else None
    result = ctx.call(msg.obj, "trigger", msg)
    return _track(ctx, msg, "trigger", result, group)


def _failure(entry: tuple[Any, Any, str]) -> BaseException | None:
    status, obj, method = entry
    exc = status_failure(status)
    if exc is None:
        return None
    label = f"{device_name(obj)}.{method}()"
    if isinstance(exc, BaseException):
        try:
            exc.add_note(f"status of {label} failed")
        except AttributeError:
            pass
    return as_failed_status(exc, label)


def wait(ctx: CommandContext, msg: Msg) -> Any:
    kwargs = msg.kwargs
    group = kwargs.get("group") if kwargs else None
    if group is None and msg.args:
        group = msg.args[0]
    entries = ctx.groups.pop(group, None)
    if not entries:
        return True
    for entry in entries:
        if not entry[0].done:
            # Bluesky's ``watch``: groups whose first failure ends this wait early
            watched = [e for w in kwargs.get("watch") or () for e in ctx.groups.get(w, ())]
            for other in watched:
                failure = _failure(other) if other[0].done else None
                if failure is not None:
                    raise failure
            timeout = kwargs.get("timeout") if kwargs else None
            move_on = kwargs.get("move_on", False) or not kwargs.get("error_on_timeout", True)
            if timeout is None:  # the devices' own bound: a wait never hangs forever
                timeout, move_on = device_timeout_of(ctx.engine, entries), None
            return _wait_async(ctx, entries, group, timeout, move_on, watched)
    hook = ctx.engine.waiting_hook
    if hook is not None:  # as Bluesky: told even when everything is already done
        _call_hook(hook, {e[0] for e in entries})
        _call_hook(hook, None)
    for entry in entries:
        exc = _failure(entry)
        if exc is not None:
            raise exc
    return True


async def _wait_async(
    ctx: CommandContext,
    entries: list[tuple[Any, Any, str]],
    group: Any,
    timeout: float | None,
    move_on: bool | None = None,
    watched: Sequence[tuple[Any, Any, str]] = (),
) -> bool:
    """Wait for the group's statuses: ``True`` once done, ``False`` if ``move_on`` and the
    plan's ``timeout`` ran out (what is not done stays in the group: waiting again waits for
    it). ``move_on=None``: ``timeout`` is the devices' operation timeout
    (:func:`._stopping.device_timeout_of`), not the plan's. The first failure among the
    ``watched`` statuses (other groups) ends the wait with that failure."""
    loop = ctx.loop
    pending = [e for e in entries if not e[0].done]
    remaining = [len(pending)]
    done_fut: asyncio.Future[None] = loop.create_future()
    failed: list[tuple[Any, Any, str]] = []

    def _set() -> None:
        if not done_fut.done():
            done_fut.set_result(None)

    def _one(entry: tuple[Any, Any, str]) -> Any:
        def _cb(_status: Any) -> None:
            if _failure_quiet(entry[0]):
                failed.append(entry)
                call_soon_threadsafe(loop, _set)
                return
            remaining[0] -= 1
            if remaining[0] <= 0:
                call_soon_threadsafe(loop, _set)

        return _cb

    for entry in pending:
        entry[0].add_callback(_one(entry))

    def _watch(entry: tuple[Any, Any, str]) -> Any:
        def _cb(_status: Any) -> None:
            if _failure_quiet(entry[0]):
                failed.append(entry)
                call_soon_threadsafe(loop, _set)

        return _cb

    for entry in watched:
        entry[0].add_callback(_watch(entry))
    hook = ctx.engine.waiting_hook
    if hook is not None:
        _call_hook(hook, {e[0] for e in pending})
    runner = ctx.runner
    try:
        if runner is not None:
            runner.status_wait = True
            runner.pause_in_wait()  # a deferred pause asked for already: pause now
        await asyncio.wait_for(asyncio.shield(done_fut), timeout)
    except TimeoutError:
        still = [f"{device_name(o)}.{m}()" for s, o, m in entries if not s.done]
        if move_on is None:
            timeout_error: StatusTimeoutError = StatusTimeoutError(
                f"{', '.join(still)} did not finish within {timeout} s, the RunEngine's device "
                "timeout (give that device more with RE.device_timeouts[name] = seconds, or "
                "all of them with RE.device_timeout or a profile's [engine] table)"
            )
        else:
            ctx.groups.setdefault(group, []).extend(e for e in entries if not e[0].done)
            if move_on:
                return False
            timeout_error = WaitTimeoutError(
                f"waited {timeout} s for group {group!r}; still not done: {', '.join(still)}"
            )
        ctx.failed_device[id(timeout_error)] = ", ".join(still)
        raise timeout_error from None
    finally:
        if runner is not None:
            runner.status_wait = False
        if hook is not None:
            _call_hook(hook, None)
    for entry in failed + entries:
        if entry[0].done:
            exc = _failure(entry)
            if exc is not None:
                raise exc
    return True


def _call_hook(hook: Any, statuses: Any) -> None:
    try:
        hook(statuses)
    except Exception:
        logger.exception("RE.waiting_hook %r failed", hook)


def _failure_quiet(status: Any) -> bool:
    try:
        return status_failure(status) is not None
    except Exception:
        return True


def wait_for(ctx: CommandContext, msg: Msg) -> Any:
    (items,) = msg.args or ([],)
    timeout = msg.kwargs.get("timeout")
    return _wait_for(items, timeout, msg.kwargs.get("return_when", asyncio.ALL_COMPLETED))


async def _wait_for(items: Any, timeout: float | None, return_when: str) -> list[Any]:
    """Wait for the awaitables (factories are called); the first failure is raised, naming
    every other one in its notes. Returns the futures, as Bluesky's ``wait_for``."""
    awaitables = [item() if callable(item) else item for item in items]
    tasks = [asyncio.ensure_future(maybe_await(a)) for a in awaitables]
    if not tasks:
        return []
    done, pending = await asyncio.wait(tasks, timeout=timeout, return_when=return_when)
    if pending and return_when == asyncio.ALL_COMPLETED:
        for task in pending:
            task.cancel()
        raise WaitTimeoutError(
            f"Plan failed to complete in the specified time (wait_for: {len(pending)} of "
            f"{len(tasks)} awaitables not done within {timeout} s)"
        )
    failures: list[BaseException] = []
    for task in tasks:
        failure = task.exception() if task in done and not task.cancelled() else None
        if failure is not None:
            failures.append(failure)
    if failures:
        first = failures[0]
        for other in failures[1:]:
            first.add_note(f"wait_for: another one failed too: {type(other).__name__}: {other}")
        raise first
    return tasks


def sleep(ctx: CommandContext, msg: Msg) -> Any:
    seconds = msg.args[0] if msg.args else msg.kwargs.get("seconds", 0)
    if not isinstance(seconds, int | float) or seconds < 0:
        raise ValueError(f"'sleep' needs a number of seconds >= 0, got {seconds!r}")
    return asyncio.sleep(seconds)


def locate(ctx: CommandContext, msg: Msg) -> Any:
    objs = ctx.objects(msg)
    squeeze = msg.kwargs.get("squeeze", True)
    results = [ctx.call(obj, "locate", msg) for obj in objs]
    if any(type(r) is CoroutineType or hasattr(r, "__await__") for r in results):
        return _gather(results, squeeze)
    return results[0] if squeeze and len(results) == 1 else results


async def _gather(results: list[Any], squeeze: bool) -> Any:
    values = await asyncio.gather(*(maybe_await(r) for r in results))  # concurrently
    return values[0] if squeeze and len(values) == 1 else values


def _stageable(obj: Any) -> bool:
    return hasattr(obj, "stage") and hasattr(obj, "unstage")


def stage(ctx: CommandContext, msg: Msg) -> Any:
    obj = msg.obj
    if any(o is obj for o in ctx.staged):
        return None
    if not _stageable(obj):
        # as Bluesky: only objects with both stage() and unstage() are staged; one that can
        # pause or resume still does so with the plan
        if hasattr(obj, "pause") or hasattr(obj, "resume"):
            ctx.staged.append(obj)
        return []
    ctx.staged.append(obj)
    return _staging(ctx, msg, "stage")


def unstage(ctx: CommandContext, msg: Msg) -> Any:
    obj = msg.obj
    ctx.staged[:] = [o for o in ctx.staged if o is not obj]
    if not _stageable(obj):
        return []
    return _staging(ctx, msg, "unstage")


def _staging(ctx: CommandContext, msg: Msg, method: str) -> Any:
    kwargs = dict(msg.kwargs)
    has_group = "group" in kwargs
    group = kwargs.pop("group", None)
    ret = ctx.call_settings(msg.obj, method, msg, *msg.args, **kwargs)
    if has_group and (is_status(ret) or type(ret) is CoroutineType or hasattr(ret, "__await__")):
        return _track(ctx, msg, method, ret, group)  # waited for by Msg('wait', group=...)
    return _maybe(ctx, msg.obj, method, ret)


def _maybe(ctx: CommandContext, obj: Any, method: str, ret: Any) -> Any:
    if is_status(ret):
        if ret.done:
            exc = status_failure(ret)
            if exc is not None:
                raise as_failed_status(exc, f"{device_name(obj)}.{method}()")
            return ret
        return _await_noting(ctx, obj, method, ret)
    if type(ret) is CoroutineType or hasattr(ret, "__await__"):
        return _await_noting(ctx, obj, method, ret)
    return ret


async def _await_noting(ctx: CommandContext, obj: Any, method: str, ret: Any) -> Any:
    try:
        return await maybe_await(ret)
    except Exception as exc:
        if is_status(ret):
            raise as_failed_status(exc, f"{device_name(obj)}.{method}()") from exc
        ctx.note_failure(exc, obj, method)
        raise


def configure(ctx: CommandContext, msg: Msg) -> Any:
    obj = msg.obj
    composer = ctx.runs.get(msg.run)
    if composer is not None and composer.bundle_name is not None:
        raise IllegalMessageSequence(
            f"'configure' of {device_name(obj)} between 'create' and 'save' of stream "
            f"{composer.bundle_name!r}: the event would mix two configurations; configure "
            "before 'create' or after 'save'"
        )
    ret = ctx.call_settings(obj, "configure", msg, *msg.args, **msg.kwargs)
    for composer in ctx.runs.values():
        composer.invalidate(obj)
    return _maybe(ctx, obj, "configure", ret)


def stop(ctx: CommandContext, msg: Msg) -> Any:
    ret = ctx.call(msg.obj, "stop", msg, *msg.args, **msg.kwargs)
    return _maybe(ctx, msg.obj, "stop", ret)


DEVICE_HANDLERS = {
    "trigger": trigger,
    "set": _status_call("set", moves=True),
    "prepare": _status_call("prepare"),
    "kickoff": kickoff,
    "complete": _status_call("complete"),
    "wait": wait,
    "wait_for": wait_for,
    "sleep": sleep,
    "locate": locate,
    "stage": stage,
    "unstage": unstage,
    "configure": configure,
    "stop": stop,
}
