"""The command registry and :class:`CommandContext`, the handlers' view of the engine.

A handler is ``handler(ctx, msg)``. It returns the value sent back into the plan; if it
must wait it returns a coroutine, which the engine awaits (only then does a message
cost an event-loop turn). Handlers of the built-in vocabulary live in the
``_handlers_*`` modules; plugins add commands through ``cielo_msg_commands``.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import time
import types
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._errors import FailedStatusError, IllegalMessageSequence, RunEngineError, StatusTimeoutError
from .._msg import Msg
from ._composer import ObjectInfo, RunComposer
from ._offload import OFFLOADABLE, Offloader

if TYPE_CHECKING:
    from ._engine import RunEngine

__all__ = [
    "CommandContext",
    "CommandRegistry",
    "Handler",
    "as_failed_status",
    "behind_what_is_due",
    "call_soon_threadsafe",
    "device_name",
    "is_status",
    "maybe_await",
]

Handler = Callable[["CommandContext", Msg], Any]
#: the messages named in errors of the configuration calls a descriptor makes
_READ_CONFIGURATION = Msg("read_configuration")
_DESCRIBE_CONFIGURATION = Msg("describe_configuration")
CoroutineType = types.CoroutineType
_clock = time.perf_counter


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():  # cancelled meanwhile: the plan was interrupted
        future.set_result(None)


async def behind_what_is_due(loop: asyncio.AbstractEventLoop) -> None:
    """Let the loop turn, resuming only after what is due now has run.

    ``asyncio.sleep(0)`` puts the plan's task first in the next turn, ahead of the timers
    and I/O that came due while the plan held the loop, and the tasks those wake wait one
    turn more: a task sleeping 1 ms waited for two holds, not one. A zero-delay timer is
    queued behind every expired timer and I/O callback, and the plan's task is woken
    behind the tasks they wake.
    """
    future = loop.create_future()
    loop.call_later(0, _resolve, future)
    await future


async def _turned(result: Any) -> Any:
    """``result``, after the loop has turned behind what came due during the call that
    made it (a call that held the loop past :data:`~._offload.BLOCKING_CALL`: the hold
    counts messages between its clock reads, and several slow reads in a row would
    otherwise hold the loop for all of them)."""
    await behind_what_is_due(asyncio.get_running_loop())
    return result


def device_name(obj: Any) -> str:
    """The name to show for ``obj`` in messages."""
    name = getattr(obj, "name", None)
    return repr(name) if isinstance(name, str) else repr(obj)


def is_status(obj: Any) -> bool:
    """True for status-like objects (ophyd's, ophyd-async's, cielo's)."""
    return hasattr(obj, "add_callback") and hasattr(obj, "done")


def _is_awaitable(obj: Any) -> bool:
    return type(obj) is CoroutineType or inspect.isawaitable(obj)


async def maybe_await(value: Any) -> Any:
    """Await ``value`` if it is awaitable (a status is waited for), else return it."""
    if is_status(value):
        return await wait_status(value)
    if _is_awaitable(value):
        return await value
    return value


def status_failure(status: Any) -> BaseException | None:
    """The failure of a done status (``None`` when it succeeded). Never blocks: a status may
    report ``done`` before its outcome is set (the engine's loop must not wait on it)."""
    try:
        exc = status.exception(0)
    except TypeError:  # exception() takes no timeout, or is an attribute
        exc = status.exception
        if callable(exc):
            exc = exc()
    except TimeoutError:  # done, but its outcome not set yet
        return (
            None
            if status.success
            else FailedStatusError(f"{status!r} reports done but has no outcome yet")
        )
    except Exception as err:  # an ophyd status raises from exception() in some versions
        exc = err
    if exc is None and not status.success:
        exc = FailedStatusError(f"{status!r} finished unsuccessfully")
    return exc


def as_failed_status(exc: Any, label: str) -> FailedStatusError:
    """The error a plan receives for a failed status of ``label`` (e.g. ``'m'.set()``):
    a :class:`FailedStatusError` (Bluesky's ``FailedStatus``) caused by the status's failure."""
    if isinstance(exc, FailedStatusError):
        return exc
    if isinstance(exc, BaseException):
        error = FailedStatusError(f"{label} failed: {type(exc).__name__}: {exc}")
        error.__cause__ = exc
    else:
        error = FailedStatusError(f"{label} finished unsuccessfully: {exc!r}")
    return error


async def wait_status(status: Any, timeout: float | None = None) -> Any:
    """Wait on the loop for a status finished from any thread; raise its failure."""
    if not status.done:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()

        def _done(_: Any) -> None:
            call_soon_threadsafe(loop, _set_result, fut)

        status.add_callback(_done)
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            raise StatusTimeoutError(f"{status!r} did not finish within {timeout} s") from None
    exc = status_failure(status)
    if exc is not None:
        raise exc
    return status


def call_soon_threadsafe(
    loop: asyncio.AbstractEventLoop, func: Callable[..., Any], *args: Any
) -> None:
    """Schedule ``func`` on ``loop`` from any thread; a no-op once the loop is closed
    (a device finishing after its RunEngine closed must not raise in the device's thread)."""
    try:
        loop.call_soon_threadsafe(func, *args)
    except RuntimeError:
        if not loop.is_closed():
            raise


def _set_result(fut: asyncio.Future[Any]) -> None:
    if not fut.done():
        fut.set_result(None)


class CommandRegistry:
    """Command name → handler; replacing a command is refused, naming both owners."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._owners: dict[str, str] = {}

    def register(
        self, name: str, handler: Handler, *, owner: str = "cielo", replace: bool = False
    ) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"a command name must be a non-empty string, got {name!r}")
        if not callable(handler):
            raise TypeError(f"the handler for command {name!r} must be callable, got {handler!r}")
        if name in self._handlers and not replace:
            raise RunEngineError(
                f"command {name!r} is already provided by {self._owners[name]}; {owner} cannot "
                "replace it (pass replace=True to RE.register_command to override on purpose)"
            )
        self._handlers[name] = handler
        self._owners[name] = owner

    def unregister(self, name: str) -> None:
        del self._handlers[name]
        del self._owners[name]

    def owner(self, name: str) -> str:
        return self._owners[name]

    @property
    def handlers(self) -> dict[str, Handler]:
        """The live mapping (the engine's hot loop indexes it directly)."""
        return self._handlers

    def __contains__(self, name: object) -> bool:
        return name in self._handlers

    def __iter__(self) -> Any:
        return iter(sorted(self._handlers))


def wrap_plugin_handler(handler: Handler) -> Handler:
    """Make any awaitable a plugin handler returns (not a status) a coroutine the engine awaits."""

    def _wrapped(ctx: CommandContext, msg: Msg) -> Any:
        ret = handler(ctx, msg)
        if type(ret) is not CoroutineType and not is_status(ret) and inspect.isawaitable(ret):
            return _await_any(ret)
        return ret

    _wrapped.__wrapped__ = handler  # type: ignore[attr-defined]
    _wrapped.__qualname__ = getattr(handler, "__qualname__", repr(handler))
    return _wrapped


async def _await_any(aw: Awaitable[Any]) -> Any:
    return await aw


class CommandContext:
    """What a command handler may use: the engine, its loop, runs, wait groups, emitting.

    One context lives as long as its RunEngine; per-plan state is reset by the engine
    at the start of each ``RE(plan)``.
    """

    def __init__(self, engine: RunEngine) -> None:
        self.engine = engine
        #: the driver of the current plan (pause, checkpoints, rewinding)
        self.runner: Any = None
        self.loop: asyncio.AbstractEventLoop = engine.loop
        self.emit: Callable[[str, dict[str, Any]], None] = engine._dispatcher.emit
        #: open runs by run key (``msg.run``)
        self.runs: dict[Any, RunComposer] = {}
        #: uids of the runs opened by the current ``RE(plan)`` call
        self.run_uids: list[str] = []
        #: wait groups: group name → statuses not yet waited for
        self.groups: dict[Any, list[Any]] = {}
        self.staged: list[Any] = []
        #: devices set or kicked off since they were last stopped (id → device)
        self.moved: dict[int, Any] = {}
        self.monitors: dict[Any, tuple[Any, Any, Any]] = {}
        self.plan_subscriptions: list[int] = []
        self.plan_suspenders: list[Any] = []
        self.rewindable = True
        self.call_md: dict[str, Any] = {}
        self.plan_name: str | None = None
        #: the type of what was given to ``RE()`` (``generator``, ``list``...), for run starts
        self.plan_type: str | None = None
        #: flyers kicked off and not collected yet, by run uid (collected when the run closes)
        self.uncollected: dict[str, list[Any]] = {}
        #: the message being handled and the device behind a failure (for error reasons)
        self.failed_device: dict[int, str] = {}
        #: device methods called in worker threads (they blocked the loop)
        self.offloader = Offloader()

    @property
    def plan_label(self) -> str:
        """The running plan as error messages name it."""
        return (
            f"plan {self.plan_name!r}" if self.plan_name else "the list of messages given to RE()"
        )

    # -- runs ----------------------------------------------------------------
    def run(self, msg: Msg) -> RunComposer:
        """The open run that ``msg`` belongs to (by its run key)."""
        composer = self.runs.get(msg.run)
        if composer is None:
            if msg.run is None and len(self.runs) == 1:
                return next(iter(self.runs.values()))
            if self.runs:
                raise IllegalMessageSequence(
                    f"{msg.command!r} for run key {msg.run!r}, but the open runs have keys "
                    f"{list(self.runs)}; give each message the run key of its run"
                )
            raise IllegalMessageSequence(
                f"{msg.command!r} needs an open run; send Msg('open_run') first"
            )
        return composer

    # -- devices -------------------------------------------------------------
    def call(self, obj: Any, method: str, msg: Msg, *args: Any, **kwargs: Any) -> Any:
        """Call ``obj.method(*args, **kwargs)``; a missing method fails naming obj, command and plan."""
        try:
            func = getattr(obj, method)
        except AttributeError:
            raise TypeError(
                f"{msg.command!r} needs an object with {method}(), but got {device_name(obj)} "
                f"of type {type(obj).__name__} (in {self.plan_label})"
            ) from None
        offloader = self.offloader
        if offloader.inflight and id(obj) in offloader.inflight:
            return self._after_inflight(obj, method, func, args, kwargs)
        # only reading methods can move to a thread, so only they are timed, and only when
        # the engine moves them by itself (offload_blocking)
        timed = method in OFFLOADABLE
        if timed:
            if offloader.entries or type(obj) not in offloader.plain:
                entry = offloader.wants(obj, method)
                if entry is not None:  # its reads block (or blocked the loop): a worker thread
                    pending = offloader.call(entry, method, func, args, kwargs)
                    return self._noting(obj, method, pending)
            timed = offloader.limit != math.inf
        start = _clock() if timed else 0.0
        try:
            result = func(*args, **kwargs)
        except Exception as exc:
            self.note_failure(exc, obj, method)
            raise
        if timed:
            seconds = _clock() - start
            if seconds > offloader.limit:
                offloader.saw_block(obj, method, seconds, device_name(obj))
                return _turned(result)
            elif offloader.strikes:
                offloader.strikes.pop((id(obj), method), None)  # not in a row
        return result

    def call_settings(
        self, obj: Any, method: str, msg: Msg | None, *args: Any, **kwargs: Any
    ) -> Any:
        """Call ``obj.stage()``, ``unstage()`` or ``configure()`` (they read and write
        settings): in a worker thread when the device's staging may wait on I/O (EPICS;
        :meth:`Offloader.stages_in_thread`), the device's other calls waiting for it; else
        as :meth:`call` does. A coroutine in the first case (a status the method returns
        is waited for)."""
        offloader = self.offloader
        if not offloader.stages_in_thread(obj):
            if msg is None:
                return getattr(obj, method)(*args, **kwargs)
            return self.call(obj, method, msg, *args, **kwargs)
        func = getattr(obj, method)
        return self._settings_in_thread(obj, method, func, args, kwargs)

    async def _settings_in_thread(
        self, obj: Any, method: str, func: Any, args: Any, kwargs: Any
    ) -> Any:
        offloader = self.offloader
        try:
            await offloader.settle((obj,))
            return await maybe_await(await offloader.call_in_order(obj, func, args, kwargs))
        except Exception as exc:
            self.note_failure(exc, obj, method)
            raise

    async def _after_inflight(
        self, obj: Any, method: str, func: Any, args: Any, kwargs: Any
    ) -> Any:
        """Call ``obj.method()`` once the call of it still running in a worker thread (a
        read the engine moved there, cut short by a pause; a stage) has ended: one call at
        a time per device, as on the loop. A status it returns is waited for."""
        await self.offloader.settle((obj,))
        try:
            entry = self.offloader.wants(obj, method) if method in OFFLOADABLE else None
            if entry is not None:  # its reads go to a thread, after the call in flight too
                result = await self.offloader.call(entry, method, func, args, kwargs)
                return await maybe_await(result)
            return await maybe_await(func(*args, **kwargs))
        except Exception as exc:
            self.note_failure(exc, obj, method)
            raise

    async def _noting(self, obj: Any, method: str, pending: Awaitable[Any]) -> Any:
        try:
            return await pending
        except Exception as exc:
            self.note_failure(exc, obj, method)
            raise

    def note_failure(self, exc: BaseException, obj: Any, method: str) -> None:
        """Remember which device raised ``exc`` (for the stop document's reason)."""
        if id(exc) not in self.failed_device:
            label = f"{device_name(obj)}.{method}()"
            self.failed_device[id(exc)] = label
            try:
                exc.add_note(f"raised by {label}")
            except AttributeError:
                pass

    def add_to_group(
        self, group: Any, status: Any, obj: Any = None, method: str = "command"
    ) -> None:
        """Track ``status`` so ``Msg('wait', group=group)`` waits for it (``obj`` and
        ``method`` name it in error messages)."""
        self.groups.setdefault(group, []).append((status, obj, method))

    def as_status(self, obj: Any, method: str, result: Any) -> Any:
        """A status for what a device method returned (value, status or awaitable)."""
        if is_status(result):
            return result
        from .._status import AsyncStatus, finished_status

        if _is_awaitable(result):
            return AsyncStatus(result, obj=obj, loop=self.loop)
        return finished_status(obj)

    async def describe(self, objs: Sequence[Any], *, collect: bool = False) -> list[ObjectInfo]:
        """Describe objects for a descriptor: data keys, configuration and hints."""
        infos = []
        for obj in objs:
            method = "describe_collect" if collect else "describe"
            data_keys = await maybe_await(self.call(obj, method, Msg(method, obj)))
            config = await self.configuration(obj)
            hints = getattr(obj, "hints", None)
            infos.append(
                ObjectInfo(
                    obj, dict(data_keys), config, hints if isinstance(hints, Mapping) else None
                )
            )
        return infos

    async def configuration(self, obj: Any) -> dict[str, Any] | None:
        """A descriptor's ``configuration`` entry for ``obj`` (``None`` if it has none)."""
        if not (hasattr(obj, "read_configuration") and hasattr(obj, "describe_configuration")):
            return None
        # through call(): a device whose reads block reads its configuration in a thread too
        values = await maybe_await(self.call(obj, "read_configuration", _READ_CONFIGURATION))
        keys = await maybe_await(self.call(obj, "describe_configuration", _DESCRIBE_CONFIGURATION))
        return {
            "data": {k: v["value"] for k, v in values.items()},
            "timestamps": {k: v["timestamp"] for k, v in values.items()},
            "data_keys": dict(keys),
        }

    # -- helpers for handlers ------------------------------------------------
    def objects(self, msg: Msg) -> list[Any]:
        """``msg.obj`` followed by ``msg.args`` (for commands taking several objects)."""
        objs = [msg.obj] if msg.obj is not None else []
        return objs + list(msg.args)

    def pop_group(self, group: Any) -> list[Any]:
        """Forget group ``group`` and return its statuses."""
        return [entry[0] for entry in self.groups.pop(group, [])]

    def reset(self) -> None:
        """Forget per-plan state (the engine calls this at the start of each plan)."""
        self.runs.clear()
        self.run_uids = []
        self.groups.clear()
        self.staged = []
        self.moved.clear()
        self.monitors.clear()
        self.plan_subscriptions = []
        self.plan_suspenders = []
        self.rewindable = self.engine._rewindable_default
        self.failed_device.clear()
        self.uncollected.clear()


def hooked_handler(hook: Callable[[Any], Any], handler: Handler) -> Handler:
    def _handler(ctx: CommandContext, msg: Any) -> Any:
        hook(msg)
        return handler(ctx, msg)

    return _handler


def plan_name(plan: Any) -> str | None:
    """The plan's function name, for messages (also through bluesky's ``Plan`` wrapper)."""
    gen = getattr(plan, "_iter", plan)
    code = getattr(gen, "gi_code", None)
    if code is None or code.co_name == "_message_list":  # RE([Msg(...), ...]) has no name
        return None
    return code.co_name
