"""The RunEngine: runs plans on its own event loop and turns readings into documents.

The facade: lifecycle, ``RE(plan)`` and the bridge between the caller's thread and the
engine's loop thread live here. Its parts are mixins in their own modules: run control
(:mod:`._control`), suspenders (:mod:`._suspending`), subscriptions (:mod:`._subscriptions`),
commands and versions (:mod:`._extensions`), the end of a plan (:mod:`._ending`) and
Bluesky's attributes (:mod:`._bluesky`). The message loop is in :mod:`._runner`, command
handlers in the ``_handlers_*`` modules, documents in :mod:`._composer`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from .._errors import RunEngineError, RunEngineInterrupted
from ..documents import CallbackError, Dispatcher, event_model_validator
from ..plugins import PluginHooks
from ._bluesky import BlueskyAttributes
from ._commands import CommandContext, CommandRegistry, Handler, call_soon_threadsafe, plan_name
from ._control import RunControl
from ._ending import PlanEnding
from ._extensions import Extensions
from ._handlers_device import DEVICE_HANDLERS
from ._handlers_docs import DOC_HANDLERS
from ._handlers_flow import FLOW_HANDLERS
from ._handlers_fly import FLY_HANDLERS
from ._heap import frozen_heap
from ._interrupt import SigintHandler
from ._results import NO_PLAN_RETURN, RunResult, temporary_subscriptions
from ._runmd import PersistentMetadata, default_state_file
from ._runner import Outcome, PlanRunner, ensure_generator
from ._state import EngineState, StateMachine
from ._subscriptions import Subscriptions
from ._suspending import Suspending

__all__ = ["RunEngine", "RunResult", "DEFAULT"]

logger = logging.getLogger("cielo.engine")

DEFAULT: Any = object()
_BUILTIN_HANDLERS: dict[str, Handler] = {
    **DOC_HANDLERS,
    **DEVICE_HANDLERS,
    **FLOW_HANDLERS,
    **FLY_HANDLERS,
}


class RunEngine(RunControl, Suspending, Subscriptions, Extensions, PlanEnding, BlueskyAttributes):
    """Run plans against devices and emit event-model documents.

    Parameters
    ----------
    md
        Metadata added to ``RE.md`` (persistent engine metadata, in every run start).
    plugin_manager
        A cielo plugin manager: plugins add commands (``cielo_msg_commands``), run
        metadata and checks, and are told about the engine (``cielo_engine_created``).
    scan_id_file
        JSON file keeping ``RE.md`` and the scan_id across restarts; default
        :func:`~cielo.core.engine.default_state_file`; ``None`` keeps them in memory.
    callback_buffer
        Documents a slow subscriber may fall behind before the engine waits for it.
    fatal_callback_errors
        If true, a subscriber's exception fails the running plan (it is always logged and
        kept in :attr:`callback_errors`).
    handle_sigint
        Install the Ctrl-C handler (once: pause at the next checkpoint; twice quickly:
        pause now) during ``RE(plan)`` when running in the main thread.
    sigint_window
        Seconds within which a second Ctrl-C pauses at once.
    record_interruptions
        Record pauses, resumes and suspensions as events of an ``interruptions`` stream
        in every open run (as Bluesky's option of the same name).
    device_timeout
        Seconds a ``wait`` without its own ``timeout`` waits for a device's ``set``,
        ``trigger``, ``kickoff``, ``stage``... to finish before the plan fails with
        :class:`StatusTimeoutError` naming the device (its devices are then stopped);
        ``None``: forever. Flyers' ``complete`` is not bounded by it (a fly scan lasts as
        long as it lasts) unless :attr:`device_timeouts` names the flyer.
    device_timeouts
        Per device name, a timeout replacing ``device_timeout`` (``None``: forever).
    stop_timeout
        Seconds to wait for what devices' ``stop()``, ``pause()`` and ``resume()`` return
        (statuses, awaitables) when the plan is interrupted; a device still not done is
        named in the log and the engine goes on.
    validate_documents
        Debug mode: check every document with event-model's schemas (needs the
        ``event-model`` package) as it is emitted; a failure is a callback error (fatal
        with ``fatal_callback_errors``). Off by default: it costs time per event.
    call_returns_result
        ``RE(plan)``, ``resume()``, ``abort()``, ``stop()`` and ``halt()`` return a
        :class:`RunEngineResult` (Bluesky's option of the same name) instead of the tuple
        of run uids.
    freeze_gc
        While ``RE(plan)`` runs, full garbage collections skip the objects that existed
        before it (:func:`gc.freeze`, lifted when the plan returns): a full collection of
        a large session's heap held the engine's loop for 180-240 ms. Process-wide while
        a plan runs; ``False`` leaves the collector alone.
    offload_blocking
        A reading method (``OFFLOADABLE``) that held the loop longer than ``BLOCKING_CALL``
        (10 ms) three times in a row is called in a worker thread from then on (the
        device's other calls wait for it: one at a time, as on the loop). Off by default:
        it cannot help a device's first calls, and it would change which thread calls a
        device by timing alone (docs/engine). Devices whose reads wait on I/O declare
        ``blocking_reads = True`` (EPICS devices do) and are read in threads from the
        first call; ``RE.offload(device)`` does it for any device.

    Examples
    --------
    >>> with RunEngine(scan_id_file=None) as RE:
    ...     uids = RE([Msg("open_run"), Msg("close_run")])
    >>> len(uids)
    1
    """

    #: the ``plan_result`` of a plan that did not return (aborted, stopped or halted)
    NO_PLAN_RETURN: Any = NO_PLAN_RETURN

    def __init__(
        self,
        md: Mapping[str, Any] | None = None,
        *,
        plugin_manager: Any = None,
        scan_id_file: str | os.PathLike[str] | None = DEFAULT,
        callback_buffer: int = 10_000,
        fatal_callback_errors: bool = False,
        handle_sigint: bool = True,
        sigint_window: float = 2.0,
        validate_documents: bool = False,
        record_interruptions: bool = False,
        stop_timeout: float = 10.0,
        device_timeout: float | None = 600.0,
        device_timeouts: Mapping[str, float | None] | None = None,
        call_returns_result: bool = False,
        freeze_gc: bool = True,
        offload_blocking: bool = False,
    ) -> None:
        path = default_state_file() if scan_id_file is DEFAULT else scan_id_file
        self._call_returns_result = bool(call_returns_result)
        self.freeze_gc = freeze_gc
        self._md = PersistentMetadata(path, md)
        self.fatal_callback_errors = fatal_callback_errors
        self._fatal_error: CallbackError | None = None  # the first of the current call
        self._last_error_counts: dict[str, int] = {}
        self.record_interruptions = record_interruptions
        self.stop_timeout = stop_timeout
        self.device_timeout = device_timeout
        self.device_timeouts: dict[str, float | None] = dict(device_timeouts or {})
        self.handle_sigint = handle_sigint
        self.sigint_window = sigint_window
        self._state = StateMachine()
        self._closed = False
        self._suspenders: list[Any] = []
        self._suspended = False
        self.suspension_reason = ""
        self._runner: PlanRunner | None = None
        self._call_lock = threading.Lock()
        self._versions: dict[str, str] | None = None
        self._caller_hooks: list[Callable[[], Any]] = []
        #: ``preprocessor(plan) -> plan`` applied, in order, to every plan given to ``RE()``
        #: (e.g. ``cielo.plans.SupplementalData`` for baseline readings)
        self.preprocessors: list[Callable[[Any], Any]] = []
        self._init_bluesky_attributes()
        self._prefill_versions()

        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._run_loop, name=f"cielo-RunEngine-{id(self):x}", daemon=True
        )
        self._thread.start()

        self._dispatcher = Dispatcher(buffer_size=callback_buffer, on_error=self._on_callback_error)
        # a full buffer stops the plan between messages, never the loop (_runner._service)
        self._dispatcher.on_full = self._on_buffer_full
        self._registry = CommandRegistry()
        for name, handler in _BUILTIN_HANDLERS.items():
            self._registry.register(name, handler)
        self._ctx = CommandContext(self)
        if not offload_blocking:
            self._ctx.offloader.limit = math.inf
        bluesky_engine = sys.modules.get("bluesky.run_engine")  # imported by ophyd-async
        if bluesky_engine is not None and getattr(bluesky_engine, "_bluesky_event_loop", 0) is None:
            bluesky_engine.set_bluesky_event_loop(self._loop)
        if validate_documents:
            self._dispatcher.subscribe(event_model_validator(), "all", buffered=False)

        self.plugin_manager = plugin_manager
        self.hooks = PluginHooks(plugin_manager) if plugin_manager is not None else None
        if self.hooks is not None:
            try:
                self._add_plugin_commands()
                self.hooks.engine_created(self)
            except BaseException:
                self.close()
                raise

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    # -- lifecycle -----------------------------------------------------------
    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The engine's event loop (runs in its own thread; use it for ophyd-async devices)."""
        return self._loop

    def run_coroutine(self, coro: Any, timeout: float | None = None) -> Any:
        """Run ``coro`` on the engine's loop and return its result (e.g. ``device.connect()``)."""
        self._check_open()
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def close(self, timeout: float | None = None) -> None:
        """Abort a paused plan, deliver buffered documents, stop the loop thread. Idempotent.

        Every buffered document reaches its subscribers first, however long the slowest
        takes (progress is logged every 5 s). With ``timeout`` (seconds), what is still
        buffered then is dropped and an error names each subscriber and how many
        documents it lost.
        """
        if self._closed:
            return
        try:
            if self._state.state is EngineState.PAUSED:
                self.abort("RunEngine closed")
            elif self._state.state is not EngineState.IDLE and self._runner is not None:
                # closed from another thread while a plan runs: halt it, give it a moment
                self._request("halt", "RunEngine closed")
                deadline = time.monotonic() + 5
                while self._state.state is not EngineState.IDLE and time.monotonic() < deadline:
                    time.sleep(0.01)
        finally:
            self._closed = True
            for suspender in list(self._suspenders):
                self.remove_suspender(suspender)
            self._dispatcher.close(timeout)
            self._ctx.offloader.close()
            bluesky_engine = sys.modules.get("bluesky.run_engine")
            if (
                bluesky_engine is not None
                and getattr(bluesky_engine, "_bluesky_event_loop", None) is self._loop
            ):
                bluesky_engine.set_bluesky_event_loop(None)
            call_soon_threadsafe(self._loop, self._loop.stop)
            if threading.current_thread() is not self._thread:
                self._thread.join(5)
            if not self._loop.is_running():
                self._loop.close()

    def __enter__(self) -> RunEngine:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise RunEngineError("this RunEngine is closed; create a new one")

    # -- metadata ------------------------------------------------------------
    @property
    def md(self) -> PersistentMetadata:
        """Engine metadata, in every run start; saved with the scan_id (see ``scan_id_file``)."""
        return self._md

    @md.setter
    def md(self, value: Mapping[str, Any]) -> None:
        new = dict(PersistentMetadata(None, value))  # checks every key and value first
        for key in list(self._md):
            if key not in new:
                del self._md[key]
        self._md.update(new)

    # -- state ---------------------------------------------------------------
    @property
    def state(self) -> EngineState:
        """An :class:`EngineState`: ``"idle"``, ``"running"``, ``"pausing"`` (a deferred pause
        asked for and not yet reached), ``"paused"`` or ``"stopping"`` (abort, stop or halt
        asked for; the plan's cleanup runs)."""
        return self._state.state

    def add_state_hook(self, hook: Callable[[EngineState, EngineState], None]) -> None:
        """Call ``hook(new_state, old_state)`` on every state change."""
        self._state.add_hook(hook)

    def remove_state_hook(self, hook: Callable[[EngineState, EngineState], None]) -> None:
        self._state.remove_hook(hook)

    # -- running plans -------------------------------------------------------
    def __call__(self, plan: Any, subs: Any = None, /, **metadata: Any) -> Any:
        """Run ``plan``; return the uids of the runs it opened (a :class:`RunResult`), or a
        :class:`RunEngineResult` with ``call_returns_result=True``.

        ``subs`` (as in Bluesky) subscribes callbacks for this plan only: a callable
        (all documents), a list of them, or a mapping of document name to callables.
        ``metadata`` goes into every run start of this plan. Raises
        :class:`RunEngineInterrupted` if the plan is paused or interrupted (resume,
        abort, stop or halt it then), and the plan's exception if it failed.
        """
        self._check_open()
        self._check_depth()
        temporary = temporary_subscriptions(subs)
        if threading.current_thread() is self._thread:
            raise RunEngineError(
                "RE(plan) was called from the RunEngine's own thread (inside a plan or a "
                "synchronous callback); yield the inner plan's messages instead"
            )
        if self.state is not EngineState.IDLE:
            raise RunEngineError(
                f"the RunEngine is {self.state}; call RE.resume(), RE.abort(), RE.stop() or "
                "RE.halt() before running another plan"
            )
        name, kind = plan_name(plan), type(plan).__name__
        for preprocessor in self.preprocessors:
            plan = preprocessor(plan)
        gen = ensure_generator(plan)
        entered = self._entered()  # the context managers, before the engine changes state
        ctx = self._ctx
        ctx.reset()
        for doc_name, func in temporary:  # unsubscribed when the plan ends
            ctx.plan_subscriptions.append(self._dispatcher.subscribe(func, doc_name))
        ctx.call_md = dict(metadata)
        self._fatal_error = None
        ctx.plan_name = metadata.get("plan_name") or name or plan_name(gen)
        ctx.plan_type = kind
        runner = PlanRunner(self, ctx, gen)
        ctx.runner = runner
        self._runner = runner
        self._state.set(EngineState.RUNNING)
        self._reassert_suspenders()
        with entered:
            return self._drive(runner)

    def _drive(self, runner: PlanRunner) -> Any:
        if not self._call_lock.acquire(blocking=False):
            raise RunEngineError("the RunEngine is already running a plan in another thread")
        try:
            with frozen_heap(self.freeze_gc):  # no full collection holds the loop
                if self.state not in (EngineState.RUNNING, EngineState.STOPPING):
                    self._state.set(EngineState.RUNNING)
                sigint = SigintHandler(self, self.sigint_window) if self.handle_sigint else None
                try:
                    with sigint if sigint is not None else contextlib.nullcontext():
                        future = asyncio.run_coroutine_threadsafe(self._execute(runner), self._loop)
                        try:
                            outcome, result = self._wait(future)
                        except BaseException as exc:  # e.g. Ctrl-C without our handler
                            outcome, result = self._end_unwaited(runner, future, exc)
                except BaseException:
                    self._runner = self._ctx.runner = None
                    self._state.set(EngineState.IDLE)
                    self._dispatcher.flush(5.0)  # the stop document reaches subscribers first
                    self._report_callback_errors()
                    raise
                if outcome is Outcome.PAUSED:
                    self._state.set(EngineState.PAUSED)
                else:
                    self._runner = self._ctx.runner = None
                    self._state.set(EngineState.IDLE)
                self._dispatcher.flush()
                if outcome is not Outcome.PAUSED:
                    self._report_callback_errors()
                self._run_caller_hooks()
        finally:
            self._call_lock.release()
        late, self._fatal_error = self._fatal_error, None
        if late is not None and outcome is not Outcome.PAUSED and isinstance(result, RunResult):
            # fatal, but reported after the run's stop document (e.g. by that document)
            error = RunEngineError(str(late))
            error.result = result  # type: ignore[attr-defined]
            raise error from late.exception
        if outcome is Outcome.PAUSED:
            raise RunEngineInterrupted(
                "the plan is paused; RE.resume() continues it (after rewinding to its last "
                "checkpoint), RE.abort(), RE.stop() or RE.halt() ends it"
            )
        if isinstance(result, BaseException):
            raise result
        return self._present(result)

    def _end_unwaited(self, runner: PlanRunner, future: Any, exc: BaseException) -> Any:
        """The caller stopped waiting (``exc``): abort the plan (halt it if interrupted
        again) and wait for its end, so it never runs on behind an idle engine; re-raise."""
        reason = f"{type(exc).__name__} while RE() waited"
        self._request("abort", reason)
        while not future.done() and self._thread.is_alive():
            try:
                future.result(timeout=0.2)
            except TimeoutError:
                continue
            except BaseException:  # interrupted again (or the plan's end raised): halt
                runner.request, runner.request_reason = "halt", reason
                self._request("halt", reason)
        raise exc

    def _wait(self, future: Any) -> Any:
        """Wait for the loop's result in the caller's thread, running the waiting hooks.

        Ctrl-C handlers run meanwhile (the wait is interruptible).
        """
        while True:
            try:
                return future.result(timeout=0.05 if self._caller_hooks else 0.2)
            except TimeoutError:
                if not self._thread.is_alive():
                    raise RunEngineError("the RunEngine's loop stopped (it was closed)") from None
                self._run_caller_hooks()

    def _on_buffer_full(self) -> None:
        """A subscriber's buffer is full (the loop's thread): the plan waits for room."""
        runner = self._runner
        if runner is not None:
            runner.flag = True

    def add_caller_hook(self, hook: Callable[[], Any]) -> None:
        """Call ``hook()`` in the caller's thread about every 50 ms while ``RE(plan)`` waits,
        and once when it returns (e.g. ``cielo.callbacks.process_gui_events`` to draw live
        plots on the main thread)."""
        if hook not in self._caller_hooks:
            self._caller_hooks.append(hook)

    def remove_caller_hook(self, hook: Callable[[], Any]) -> None:
        self._caller_hooks.remove(hook)

    def _run_caller_hooks(self) -> None:
        for hook in list(self._caller_hooks):
            try:
                hook()
            except Exception:
                logger.exception("waiting hook %r failed", hook)

    def __repr__(self) -> str:
        return f"<RunEngine {self.state}{' closed' if self._closed else ''}>"
