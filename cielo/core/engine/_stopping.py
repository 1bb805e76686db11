"""Hardware stops when the plan stops: ``stop()`` on what the plan moved, device
pause/resume, operation timeouts and the cleanup that ends every plan.

The ``set`` and ``kickoff`` handlers remember each device they start (``ctx.moved``);
nothing else on the per-message path pays for it. When the plan pauses, is suspended,
aborted, stopped, halted or fails, :func:`stop_moved` calls ``stop()`` on every device
moved since the last stop, each in turn: one that raises is named in the log and the
others are still stopped. A ``stop()`` returning a status or an awaitable is waited for,
up to a bound, all of them together.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Iterable
from typing import Any

from ._commands import CommandContext, device_name, is_status, maybe_await
from ._handlers_docs import stop_all_monitors
from ._offload import reads_block

__all__ = [
    "call_each",
    "clean_up",
    "device_timeout_of",
    "pause_devices",
    "resume_devices",
    "stop_moved",
]

logger = logging.getLogger("cielo.engine")


def _takes_success(func: Callable[..., Any]) -> bool:
    """Whether ``func`` accepts ``success=`` (ophyd's and ophyd-async's ``stop`` do)."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "success" or p.kind is p.VAR_KEYWORD for p in params)


async def call_each(
    objs: Iterable[Any],
    method: str,
    why: str,
    timeout: float | None,
    kwargs: dict[str, Any] | None = None,
) -> list[Any]:
    """Call ``obj.method(**kwargs)`` on each object that has it (``kwargs`` only where
    accepted), then wait up to ``timeout`` s for what they returned (statuses,
    awaitables), together. Failures are logged naming the device; the objects whose call
    raised, failed or did not finish in time are returned."""
    failed: list[Any] = []
    pending: dict[asyncio.Future[Any], Any] = {}
    for obj in objs:
        func = getattr(obj, method, None)
        if func is None:
            continue
        try:
            ret = func(**kwargs) if kwargs and _takes_success(func) else func()
        except Exception as exc:
            logger.error(
                "%s: %s.%s() raised %s: %s", why, device_name(obj), method, type(exc).__name__, exc
            )
            failed.append(obj)
            continue
        if is_status(ret) or inspect.isawaitable(ret):
            pending[asyncio.ensure_future(maybe_await(ret))] = obj
    if pending:
        done, late = await asyncio.wait(pending, timeout=timeout)
        for fut in late:
            fut.cancel()
            logger.error(
                "%s: %s.%s() did not finish within %s s",
                why,
                device_name(pending[fut]),
                method,
                timeout,
            )
            failed.append(pending[fut])
        for fut in done:
            error = fut.exception()
            if error is not None:
                logger.error(
                    "%s: %s.%s() failed: %s: %s",
                    why,
                    device_name(pending[fut]),
                    method,
                    type(error).__name__,
                    error,
                )
                failed.append(pending[fut])
    return failed


async def stop_moved(ctx: CommandContext, why: str, timeout: float | None) -> None:
    """``stop(success=True)`` on every device moved or kicked off since the last stop.

    ``success=True`` (where ``stop`` takes it): the move is cut short on purpose, so a
    status still waited for finishes instead of failing the plan's cleanup; a paused
    plan re-issues its moves since the checkpoint when it resumes. Devices whose stop
    failed stay on the list (tried again at the next stop).
    """
    moved = ctx.moved
    if not moved:
        return
    objs = list(moved.values())
    moved.clear()
    logger.warning("%s: stopping %s", why, ", ".join(device_name(o) for o in objs))
    await ctx.offloader.settle(objs)  # a read of one, cut short, may still be in its thread
    for obj in await call_each(objs, "stop", why, timeout, {"success": True}):
        moved[id(obj)] = obj


async def pause_devices(ctx: CommandContext, timeout: float | None) -> None:
    """A plan paused: staged devices are told to ``pause()`` (awaited when async), its
    monitors stop recording."""
    await ctx.offloader.settle(ctx.staged)
    await call_each(list(ctx.staged), "pause", "pausing", timeout)
    for obj, (_run_key, callback, _token) in ctx.monitors.items():
        try:
            obj.clear_sub(callback)
        except Exception:
            logger.exception("suspending the monitor of %r failed", obj)


async def resume_devices(ctx: CommandContext, timeout: float | None) -> None:
    """A plan resumes: staged devices ``resume()`` (awaited when async), monitors record
    again (from now)."""
    await call_each(list(ctx.staged), "resume", "resuming", timeout)
    for obj, (run_key, callback, _token) in list(ctx.monitors.items()):
        try:
            if reads_block(obj):  # subscribing reads it (EPICS): in a worker thread
                token = await ctx.offloader.call_in_order(obj, obj.subscribe, (callback,), {})
            else:
                token = obj.subscribe(callback)
            ctx.monitors[obj] = (run_key, callback, token)
        except Exception:
            logger.exception("restoring the monitor of %r failed", obj)


def device_timeout_of(engine: Any, entries: Iterable[tuple[Any, Any, str]]) -> float | None:
    """The longest operation timeout (``engine.device_timeouts`` by device name, else
    ``engine.device_timeout``; none for a flyer's ``complete``) of the devices behind the
    ``(status, device, method)`` entries still pending; ``None`` if one may take forever."""
    longest = 0.0
    timeouts = engine.device_timeouts
    for status, obj, method in entries:
        if status.done:
            continue
        name = getattr(obj, "name", None)
        if name in timeouts:
            limit = timeouts[name]
        else:
            limit = None if method == "complete" else engine.device_timeout
        if limit is None:
            return None
        longest = max(longest, limit)
    return longest


async def clean_up(engine: Any, ctx: CommandContext, exit_status: str, reason: str) -> None:
    """Unstage, stop monitors, close open runs, drop the plan's subscriptions and
    suspenders: always, whatever ended the plan."""
    await ctx.offloader.settle(ctx.staged)
    for obj in reversed(list(ctx.staged)):
        if not hasattr(obj, "unstage"):  # kept only to pause and resume with the plan
            continue
        try:
            await maybe_await(ctx.call_settings(obj, "unstage", None))
        except Exception:
            logger.exception("unstage() of %r failed during cleanup", obj)
    ctx.staged.clear()
    try:
        stop_all_monitors(ctx)
    except Exception:
        logger.exception("removing monitors failed during cleanup")
    for key, composer in list(ctx.runs.items()):
        try:
            composer.close(exit_status, reason)
        except Exception:
            logger.exception("closing run %s failed", composer.uid)
        ctx.runs.pop(key, None)
    ctx.groups.clear()
    for token in ctx.plan_subscriptions:
        try:
            engine._dispatcher.unsubscribe(token)
        except KeyError:
            pass
    for suspender in ctx.plan_suspenders:
        engine.remove_suspender(suspender)
    ctx.plan_subscriptions = []
    ctx.plan_suspenders = []
