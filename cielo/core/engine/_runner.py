"""The plan driver: sends responses into a plan and runs each message's handler.

The hot loop stays synchronous as long as handlers finish synchronously: a message
costs a dictionary lookup and a function call, and an event-loop turn only when its
handler returns a coroutine (a pending status, a sleep, an awaitable device method), or
when synchronous messages have held the loop for :data:`LOOP_HOLD` seconds: then the loop
turns once, so status callbacks, timeouts, requests and other tasks on the loop are never
kept waiting longer than that by a fast plan.
Requests from other threads (pause, abort, suspend, ...) set :attr:`PlanRunner.flag`,
which the loop checks between messages; if the loop is waiting, the wait is cancelled.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import enum
import logging
import time
from collections.abc import Generator, Iterable
from typing import TYPE_CHECKING, Any

from .._errors import BlueskyTwin, RunEngineError
from .._msg import Msg
from ._commands import CommandContext, CoroutineType, behind_what_is_due
from ._results import NO_PLAN_RETURN

if TYPE_CHECKING:
    from ._engine import RunEngine

__all__ = [
    "LOOP_HOLD",
    "Outcome",
    "PlanRunner",
    "RequestAbort",
    "RequestHalt",
    "RequestStop",
    "ensure_generator",
    "plan_location",
]

logger = logging.getLogger("cielo.engine")

#: The longest the plan driver holds the event loop with messages that finish
#: synchronously before it lets the loop turn once (seconds).
LOOP_HOLD = 0.005
#: At most this many messages between two reads of the clock (fast messages cost about
#: what reading the clock costs, so it is read once per several of them).
STRIDE_MAX = 32


#: never replayed when rewinding (as Bluesky): they change the engine, not the sample
UNCACHEABLE = frozenset(
    {
        "pause",
        "subscribe",
        "unsubscribe",
        "stage",
        "unstage",
        "monitor",
        "unmonitor",
        "open_run",
        "close_run",
        "install_suspender",
        "remove_suspender",
    }
)


class RequestAbort(BlueskyTwin, RunEngineError):
    """Thrown into a plan when the engine is asked to abort (cleanup still runs)."""

    #: how a run closed because of this request ends (``run_wrapper`` reads it)
    exit_status = "abort"
    _bluesky = ("bluesky.utils", "RequestAbort")


class RequestStop(BlueskyTwin, RunEngineError):
    """Thrown into a plan when the engine is asked to stop (runs end as successes)."""

    exit_status = "success"
    _bluesky = ("bluesky.utils", "RequestStop")


class RequestHalt(RunEngineError):
    """The engine was halted: the plan is closed without running cleanup messages."""


_STOPPING_WHY = {
    "abort": "aborting",
    "stop": "stopping",
    "halt": "halting",
    "fail": "failing (a callback error)",
}


#: messages a plan's start, as a checkpoint, keeps for replaying
START_REPLAY = 10_000
_CANNOT_REWIND = (
    "paused where the plan cannot be rewound (after clear_checkpoint or with rewindable "
    "off): aborted, as it could not be resumed safely"
)


class Outcome(enum.Enum):
    DONE = "done"
    PAUSED = "paused"
    HALTED = "halted"


def ensure_generator(plan: Any) -> Generator[Any, Any, Any]:
    """A generator for ``plan``: a generator, a generator function's result or any iterable."""
    if isinstance(plan, Generator):
        return plan
    if callable(plan) and not isinstance(plan, Iterable):
        raise TypeError(
            f"RE() was given {plan!r}, a callable; call it to make the plan, e.g. RE(count([det]))"
        )
    try:
        iterator = iter(plan)
    except TypeError:
        raise TypeError(
            f"RE() needs a plan (a generator of Msg or an iterable of Msg), got {plan!r}"
        ) from None
    if isinstance(iterator, Generator):  # e.g. bluesky.utils.Plan: iterates as a generator
        return iterator
    return _message_list(iterator)


def _message_list(iterator: Any) -> Generator[Any, Any, None]:
    """A plan made of a list (or other iterable) of messages."""
    # not ``yield from``: that would forward send() to an iterator that has none
    for msg in iterator:  # noqa: UP028
        yield msg


def plan_location(gen: Any) -> str:
    """``file:line in function`` of the innermost frame of a (nested) plan generator."""
    frame = None
    while gen is not None:
        f = getattr(gen, "gi_frame", None) or getattr(gen, "cr_frame", None)
        if f is None:
            break
        frame = f
        gen = getattr(gen, "gi_yieldfrom", None)
    if frame is None:
        return "<plan finished>"
    code = frame.f_code
    if code is _message_list.__code__:
        return "<message list>"
    return f"{code.co_filename}:{frame.f_lineno} in {code.co_name}"


class PlanRunner:
    """Drives one plan for one ``RE(plan)`` call, across pauses and resumes."""

    def __init__(self, engine: RunEngine, ctx: CommandContext, gen: Generator[Any, Any, Any]):
        self.engine = engine
        self.ctx = ctx
        self.gen = gen
        self.response: Any = None
        self.exception: BaseException | None = None
        self.replay: list[Msg] = []
        #: messages since the last checkpoint, or ``None`` where the plan cannot be rewound.
        #: The start of the plan is a checkpoint too, remembering at most ``START_REPLAY``
        #: messages (a plan without checkpoints keeps constant memory; past that a pause
        #: goes on from where it stopped)
        self.msg_cache: list[Msg] | None = [] if ctx.rewindable else None
        #: ``msg_cache`` holds the messages since the plan's start (no checkpoint yet)
        self.from_start = True
        #: more than ``START_REPLAY`` messages since the start: a pause goes on from where
        #: it stopped
        self.start_overflow = False
        self.result: Any = NO_PLAN_RETURN
        #: set when anything below needs the loop's attention (checked per message)
        self.flag = False
        self.pause_now = False
        self.deferred_pause = False
        self.request: str | None = None
        self.request_reason = ""
        self.request_error: BaseException | None = None
        self.request_thrown = False
        #: a request made while ``RE(plan)`` runs makes it raise; one made on a paused
        #: engine (``RE.abort()``) returns the result instead
        self.interrupt_raises = True
        self.suspensions: list[tuple[Any, Any, Any, str]] = []
        self.awaiting = False
        #: a ``wait`` is blocked on a status (a deferred pause then pauses at once)
        self.status_wait = False
        self.task: asyncio.Task[Any] | None = None
        self.interrupted_msg: Msg | None = None

    # -- requests (any thread) -------------------------------------------------
    def interrupt(self) -> None:
        """Make the loop look at the flags now (runs on the loop thread)."""
        if self.flag and self.awaiting and self.task is not None and not self.task.done():
            self.task.cancel()

    def checkpoint(self) -> None:
        self.msg_cache = [] if self.ctx.rewindable else None
        self.from_start = self.start_overflow = False
        for composer in self.ctx.runs.values():
            composer.mark_checkpoint()
        if self.deferred_pause:
            self.deferred_pause = False
            self.pause_now = True
            self.flag = True

    def plan_pause(self, defer: bool) -> None:
        """A ``Msg('pause')`` from the plan itself (never cached, so never replayed)."""
        if defer:
            self.engine._pausing()
            self.deferred_pause = True
        else:
            self.deferred_pause = False  # a pause now replaces a pending deferred one
            self.pause_now = True
            self.flag = True

    def pause_in_wait(self) -> None:
        """A deferred pause asked for while a ``wait`` is blocked on a status: the next
        checkpoint cannot come before that status, so pause now (runs on the loop thread)."""
        if self.deferred_pause and self.status_wait:
            self.deferred_pause = False
            self.pause_now = True
            self.flag = True
            self.interrupt()

    # -- running ---------------------------------------------------------------
    async def drive(self) -> Outcome:
        """Run until the plan ends (DONE), pauses (PAUSED) or is halted (HALTED).

        Exceptions that end the plan propagate to the caller.
        """
        self.task = asyncio.current_task()
        ret, exc = self.response, self.exception
        self.response = self.exception = None
        if self.request is not None:
            self.replay = []
            self.flag = True
        elif self.replay:
            replay, self.replay = self.replay, []
            ret, exc = await self._replay(replay, ret, exc)
        return await self._loop(ret, exc)

    async def _loop(self, ret: Any, exc: BaseException | None) -> Outcome:
        gen = self.gen
        send = gen.send
        throw = gen.throw
        handlers = self.engine._loop_handlers()
        ctx = self.ctx
        coro_type = CoroutineType
        clock = time.perf_counter
        loop = self.engine.loop
        hold = LOOP_HOLD
        # the clock is read every ``stride`` messages, about every quarter of LOOP_HOLD
        # (reading it costs as much as a fast message)
        stride = countdown = 1
        turned = checked = clock()
        while True:
            countdown -= 1
            if not countdown:
                now = clock()
                elapsed, checked = now - checked, now
                stride = min(STRIDE_MAX, int(stride * hold / (4 * elapsed + 1e-9)) or 1)
                countdown = stride
                if now - turned > hold:
                    # let the loop turn: the plan has held it long enough (an awaited
                    # handler may have turned it since, or may have finished synchronously)
                    await behind_what_is_due(loop)
                    turned = checked = clock()
                if self.from_start and len(self.msg_cache or ()) > START_REPLAY:
                    self.msg_cache = []  # too long since the start to rewind to it
                    self.start_overflow = True
            if self.flag:
                ret, exc, outcome = await self._service(ret, exc)
                if outcome is not None:
                    return outcome
            try:
                if exc is None:
                    msg = send(ret)
                else:
                    err, exc = exc, None
                    msg = throw(err)
            except StopIteration as stop:
                self.result = stop.value
                return Outcome.DONE
            try:
                handler = handlers[msg.command]
            except (KeyError, AttributeError, TypeError):
                ret, exc = None, self._bad_message(msg)
                continue
            cache = self.msg_cache
            if cache is not None:
                cache.append(msg)  # what is never replayed is left out in _rewind
            try:
                ret = handler(ctx, msg)
                if type(ret) is coro_type:
                    self.awaiting = True
                    try:
                        ret = await ret
                    finally:
                        self.awaiting = False
            except asyncio.CancelledError:
                if not self.flag:
                    raise
                self._uncancel()
                self.interrupted_msg = msg
                ret = None
            except Exception as err:
                self._locate(err, msg)
                ret, exc = None, err

    def _uncancel(self) -> None:
        task = self.task
        if task is not None:
            while task.cancelling():
                task.uncancel()

    async def _execute(self, msg: Msg) -> Any:
        """Run one message outside the hot loop (replays, pre/post plans)."""
        hook = self.engine.msg_hook
        if hook is not None:
            hook(msg)
        try:
            handler = self.engine._registry.handlers[msg.command]
        except (KeyError, AttributeError, TypeError):
            raise self._bad_message(msg) from None
        ret = handler(self.ctx, msg)
        if type(ret) is CoroutineType:
            ret = await ret
        return ret

    async def _replay(
        self, replay: list[Msg], ret: Any, exc: BaseException | None
    ) -> tuple[Any, BaseException | None]:
        """Re-run the messages since the last checkpoint; the last response goes to the plan."""
        if replay:
            logger.info("rewinding: replaying %d message(s) since the last checkpoint", len(replay))
        self.msg_cache = [] if self.ctx.rewindable and self.msg_cache is not None else None
        for msg in replay:
            if self.msg_cache is not None:
                self.msg_cache.append(msg)
            try:
                ret, exc = await self._execute(msg), None
            except Exception as err:
                self._locate(err, msg)
                return None, err
        return ret, exc

    async def _service(
        self, ret: Any, exc: BaseException | None
    ) -> tuple[Any, BaseException | None, Outcome | None]:
        """Handle requests until none is left (one may arrive while handling another),
        then wait for room if a subscriber's buffer is full (back-pressure)."""
        while True:
            ret, exc, outcome = await self._service_once(ret, exc)
            if outcome is not None:
                return ret, exc, outcome
            if not self.flag and self.engine._dispatcher.congested:
                await self._wait_for_room()
            if not self.flag:
                return ret, exc, outcome

    async def _wait_for_room(self) -> None:
        """Back-pressure: the plan waits until every subscriber's buffer has room, the
        loop turning meanwhile; a request (pause, abort...) ends the wait to be handled."""
        self.awaiting = True
        try:
            await self.engine._dispatcher.room()
        except asyncio.CancelledError:
            if not self.flag:
                raise
            self._uncancel()
        finally:
            self.awaiting = False

    async def _service_once(
        self, ret: Any, exc: BaseException | None
    ) -> tuple[Any, BaseException | None, Outcome | None]:
        self.flag = False
        interrupted, self.interrupted_msg = self.interrupted_msg, None
        if self.request is not None:
            if not self.request_thrown:
                await self.engine._stop_moved(_STOPPING_WHY.get(self.request, self.request))
            if self.request == "halt":
                return None, None, Outcome.HALTED
            if not self.request_thrown:
                self.request_thrown = True
                error: BaseException
                if self.request == "stop":
                    error = RequestStop(self.request_reason or "stopped by request")
                elif self.request == "fail" and self.request_error is not None:
                    error = self.request_error
                else:
                    error = RequestAbort(self.request_reason or "aborted by request")
                return None, error, None
            return ret, exc, None
        while self.suspensions and not self.pause_now:
            ret, exc, interrupted, outcome = await self._suspend(ret, exc, interrupted)
            if outcome is not None:
                return ret, exc, outcome
        if self.pause_now:
            self.pause_now = False
            if self.msg_cache is None:  # as Bluesky: what cannot be rewound is aborted
                self.engine._request("abort", _CANNOT_REWIND)
                return ret, exc, None
            self.response, self.exception = ret, exc
            self.replay = self._rewind(interrupted)
            return ret, exc, Outcome.PAUSED
        if interrupted is not None:  # woken for a request already handled: redo the message
            try:
                return await self._execute(interrupted), None, None
            except Exception as err:
                return None, err, None
        return ret, exc, None

    async def _suspend(
        self, ret: Any, exc: BaseException | None, interrupted: Msg | None
    ) -> tuple[Any, BaseException | None, Msg | None, Outcome | None]:
        future, pre_plan, post_plan, justification = self.suspensions.pop(0)
        engine = self.engine
        logger.warning("suspending: %s", justification or "a suspender tripped")
        engine._set_suspended(True, justification)
        replay = self._rewind(interrupted)
        try:
            await engine._stop_moved("suspending")
            if pre_plan is not None:
                try:
                    await self.run_subplan(pre_plan)
                except Exception as err:  # as Bluesky: thrown into the plan (its finally runs)
                    return None, err, None, None
            waiter = _as_future(future)
            self.awaiting = True
            try:
                await waiter
            except asyncio.CancelledError:
                if not self.flag:
                    raise
                self._uncancel()
                self.flag = False
                if self.request is not None:
                    self.flag = True
                    return ret, exc, None, None
                if self.pause_now:  # pause during a suspension: rewind on resume
                    self.pause_now = False
                    self.response, self.exception = ret, exc
                    self.replay = replay
                    return ret, exc, None, Outcome.PAUSED
            finally:
                self.awaiting = False
            if post_plan is not None:
                try:
                    await self.run_subplan(post_plan)
                except Exception as err:
                    return None, err, None, None
        finally:
            engine._set_suspended(False, "")
        logger.warning("resuming after suspension")
        ret, exc = await self._replay(replay, ret, exc)
        return ret, exc, None, None

    def _rewind(self, interrupted: Msg | None) -> list[Msg]:
        """The messages to run again before the plan goes on.

        Rewindable: those since the last checkpoint (open bundles dropped, sequence numbers
        restored). Otherwise only the message that was cut short, if any. A cut-short
        message that is never cached (e.g. a ``stage`` waiting for its status) is redone.
        """
        cache = self.msg_cache
        overflow = self.start_overflow or (self.from_start and len(cache or ()) > START_REPLAY)
        if cache is not None and not overflow:
            replay = [m for m in cache if m.command not in UNCACHEABLE]
            self._drop_bundles()
        else:
            replay = []
        if interrupted is not None and (not replay or replay[-1] is not interrupted):
            replay.append(interrupted)
        return replay

    def _drop_bundles(self) -> None:
        """Rewinding: drop an event being bundled since the checkpoint and take sequence
        numbers back, so re-taken events replace (same seq_num) those since the checkpoint."""
        for composer in self.ctx.runs.values():
            composer.rewind()

    async def run_subplan(self, plan: Any) -> Any:
        """Run a short plan (a suspender's pre/post plan) to its end on this engine."""
        gen = ensure_generator(plan() if callable(plan) else plan)
        ret: Any = None
        exc: BaseException | None = None
        while True:
            try:
                msg = gen.send(ret) if exc is None else gen.throw(exc)
            except StopIteration as stop:
                return stop.value
            try:
                ret, exc = await self._execute(msg), None
            except Exception as err:
                ret, exc = None, err

    # -- errors ----------------------------------------------------------------
    def _bad_message(self, msg: Any) -> BaseException:
        where = plan_location(self.gen)
        if not isinstance(msg, Msg) and not hasattr(msg, "command"):
            return TypeError(
                f"{self.ctx.plan_label} yielded {msg!r} ({type(msg).__name__}); a plan "
                f"must yield Msg objects (at {where})"
            )
        known = ", ".join(sorted(self.engine._registry.handlers))
        return KeyError(
            f"unknown command {msg.command!r} in {msg!r} from {self.ctx.plan_label} "
            f"(at {where}); known commands: {known}. A plugin can add commands through "
            "cielo_msg_commands, or use RE.register_command(name, handler)"
        )

    def _locate(self, err: BaseException, msg: Msg) -> None:
        try:
            err.add_note(
                f"while running {msg!r} from {self.ctx.plan_label} at {plan_location(self.gen)}"
            )
        except AttributeError:
            pass


def _as_future(future: Any) -> Any:
    if isinstance(future, concurrent.futures.Future):
        return asyncio.wrap_future(future)
    if callable(future) and not hasattr(future, "__await__"):
        return future()
    return future
