"""The RunEngine: runs plans on its own event loop and turns readings into documents.

Lifecycle, public API and the bridge between the caller's thread and the engine's loop
thread live here; the message loop is in :mod:`._runner`, command handlers in the
``_handlers_*`` modules, documents in :mod:`._composer`, delivery in :mod:`._dispatch`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from .._errors import RunEngineError, RunEngineInterrupted
from ..documents import CallbackError, Dispatcher, event_model_validator
from ..plugins import PluginHooks
from ._bluesky import BlueskyAttributes, bluesky_style_handler, warn_old_subscribe_order
from ._commands import (
    CommandContext,
    CommandRegistry,
    Handler,
    call_soon_threadsafe,
    hooked_handler,
    plan_name,
    wrap_plugin_handler,
)
from ._handlers_device import DEVICE_HANDLERS
from ._handlers_docs import DOC_HANDLERS
from ._handlers_flow import FLOW_HANDLERS
from ._handlers_fly import FLY_HANDLERS
from ._interrupt import SigintHandler
from ._results import NO_PLAN_RETURN, RunResult, temporary_subscriptions
from ._runmd import PersistentMetadata, default_state_file
from ._runner import (
    Outcome,
    PlanRunner,
    RequestAbort,
    RequestStop,
    ensure_generator,
)
from ._state import EngineState, StateMachine, TransitionError
from ._stopping import clean_up, pause_devices, resume_devices, stop_moved

__all__ = ["RunEngine", "RunResult", "DEFAULT"]

logger = logging.getLogger("cielo.engine")

DEFAULT: Any = object()
_ACTIVE = frozenset({EngineState.RUNNING, EngineState.PAUSING})
_BUILTIN_HANDLERS: dict[str, Handler] = {
    **DOC_HANDLERS,
    **DEVICE_HANDLERS,
    **FLOW_HANDLERS,
    **FLY_HANDLERS,
}


def _cielo_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cielo")
    except PackageNotFoundError:
        return "0.0.0+unknown"


class RunEngine(BlueskyAttributes):
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
    ) -> None:
        path = default_state_file() if scan_id_file is DEFAULT else scan_id_file
        self._call_returns_result = bool(call_returns_result)
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
        self._state_hook: Callable[[EngineState, EngineState], None] | None = None
        #: Bluesky's ``RE.waiting_hook``: called with the set of statuses a ``wait`` is about
        #: to wait for, then with ``None`` (e.g. a progress bar using ``status.watch``)
        self.waiting_hook: Callable[[Any], Any] | None = None
        #: Bluesky's ``RE.msg_hook``: called with every message before it runs (debugging;
        #: costs nothing when ``None``)
        self.msg_hook: Callable[[Any], Any] | None = None
        #: ``preprocessor(plan) -> plan`` applied, in order, to every plan given to ``RE()``
        #: (e.g. ``cielo.plans.SupplementalData`` for baseline readings)
        self.preprocessors: list[Callable[[Any], Any]] = []
        self._init_bluesky_attributes()

        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._run_loop, name=f"cielo-RunEngine-{id(self):x}", daemon=True
        )
        self._thread.start()

        self._dispatcher = Dispatcher(buffer_size=callback_buffer, on_error=self._on_callback_error)
        self._registry = CommandRegistry()
        for name, handler in _BUILTIN_HANDLERS.items():
            self._registry.register(name, handler)
        self._ctx = CommandContext(self)
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

    @property
    def state_hook(self) -> Callable[[EngineState, EngineState], None] | None:
        """Bluesky's single ``RE.state_hook = func(new, old)``; replaces the previous one."""
        return self._state_hook

    @state_hook.setter
    def state_hook(self, hook: Callable[[EngineState, EngineState], None] | None) -> None:
        if self._state_hook is not None:
            self._state.remove_hook(self._state_hook)
        self._state_hook = hook
        if hook is not None:
            self._state.add_hook(hook)

    @property
    def suspended(self) -> bool:
        return self._suspended

    def _set_suspended(self, value: bool, reason: str) -> None:
        self._suspended = value
        self.suspension_reason = reason
        self._record_interruption("suspend" if value else "resume")

    # -- subscriptions -------------------------------------------------------
    def subscribe(
        self,
        func: Callable[[str, dict[str, Any]], Any],
        name: str = "all",
        *,
        buffered: bool = True,
        group: str | None = None,
        fatal: bool = False,
    ) -> int:
        """Send documents to ``func(name, doc)``: all of them, or those called ``name``.

        Buffered subscribers run in their own thread and never stall the engine;
        subscribers with the same ``group`` share one thread and see each document in
        subscription order; ``buffered=False`` calls ``func`` on the engine's thread, in
        step with the plan. ``fatal=True``: this subscriber's errors fail the run, as
        ``fatal_callback_errors`` does for all of them (e.g. what stores the run).
        Returns a token for :meth:`unsubscribe`.
        """
        if isinstance(func, str) and callable(name):  # Bluesky's old argument order
            func, name = name, func  # type: ignore[assignment]
            warn_old_subscribe_order()
        return self._dispatcher.subscribe(func, name, buffered=buffered, group=group, fatal=fatal)

    def unsubscribe(self, token: int) -> None:
        self._dispatcher.unsubscribe(token)

    @property
    def callback_errors(self) -> list[CallbackError]:
        """Every subscriber exception so far (newest last; bounded)."""
        return list(self._dispatcher.errors)

    @property
    def callback_error_counts(self) -> dict[str, int]:
        """How often each subscriber failed during the running plan, or the last one (by
        the subscriber's name; only its first failure is logged with a traceback)."""
        if self._runner is not None:
            return dict(self._dispatcher.error_counts)
        return dict(self._last_error_counts)

    def _report_callback_errors(self) -> None:
        counts = self._last_error_counts = self._dispatcher.take_error_counts()
        if counts:
            logger.error(
                "callbacks failed during this plan: %s (RE.callback_errors has the latest)",
                "; ".join(f"{label} {n} time(s)" for label, n in counts.items()),
            )

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every subscriber has handled the documents emitted so far."""
        return self._dispatcher.flush(timeout)

    @property
    def _errors_fail_runs(self) -> bool:
        """Some subscriber's errors fail the run (``fatal_callback_errors`` or ``fatal=True``)."""
        return self.fatal_callback_errors or self._dispatcher.has_fatal

    def _on_callback_error(self, error: CallbackError) -> None:
        if not (self.fatal_callback_errors or error.fatal):
            return
        if self._fatal_error is None:
            self._fatal_error = error
        if self._runner is not None:
            exc = RunEngineError(str(error))
            exc.__cause__ = error.exception
            self._request("fail", str(error), exc)

    # -- commands ------------------------------------------------------------
    def register_command(self, name: str, handler: Handler, *, replace: bool = False) -> None:
        """Add the command ``name``: ``handler(ctx, msg)`` (or Bluesky's ``async def
        handler(msg)``) returns a value or an awaitable."""
        self._registry.register(
            name,
            wrap_plugin_handler(bluesky_style_handler(handler)),
            owner="RE.register_command",
            replace=replace,
        )

    def unregister_command(self, name: str) -> None:
        self._registry.unregister(name)

    def _loop_handlers(self) -> dict[str, Handler]:
        """The handlers the message loop uses: the registry's, or wrapped for ``msg_hook``."""
        hook = self.msg_hook
        handlers = self._registry.handlers
        if hook is None:
            return handlers
        return {name: hooked_handler(hook, handler) for name, handler in handlers.items()}

    @property
    def commands(self) -> list[str]:
        return list(self._registry)

    def _add_plugin_commands(self) -> None:
        assert self.hooks is not None
        by_plugin = getattr(self.hooks, "by_plugin", None)
        if by_plugin is not None:
            offered = [(f"plugin {name!r}", m) for name, m in by_plugin("cielo_msg_commands")]
        else:
            offered = [("a plugin", m) for m in self.hooks.msg_commands()]
        for owner, mapping in offered:
            for name, handler in dict(mapping).items():
                self._registry.register(name, wrap_plugin_handler(handler), owner=owner)

    def versions(self) -> dict[str, str]:
        """Versions of cielo and of the plugins in use (recorded in every run start)."""
        if self._versions is None:
            versions = {"cielo": _cielo_version()}
            if self.hooks is not None:
                getter = getattr(self.hooks, "plugin_versions", None)
                if getter is not None:
                    versions.update({str(k): str(v) for k, v in getter().items()})
            self._versions = versions
        return dict(self._versions)

    # -- suspenders ----------------------------------------------------------
    def install_suspender(self, suspender: Any) -> None:
        """Watch a suspender's condition; when it trips, the plan waits and then rewinds."""
        if suspender in self._suspenders:
            return
        self._suspenders.append(suspender)
        suspender.install(self)

    def remove_suspender(self, suspender: Any) -> None:
        if suspender in self._suspenders:
            self._suspenders.remove(suspender)
            suspender.remove()

    def clear_suspenders(self) -> None:
        for suspender in list(self._suspenders):
            self.remove_suspender(suspender)

    def _reassert_suspenders(self) -> None:
        """Suspenders still tripped when a plan starts or resumes suspend it again."""
        for suspender in self._suspenders:
            reassert = getattr(suspender, "reassert", None)
            if reassert is not None:
                reassert()
            elif hasattr(suspender, "get_futures"):  # Bluesky's suspenders
                futures, justification = suspender.get_futures()
                for future in futures:
                    self.request_suspend(future, justification=justification)

    @property
    def suspenders(self) -> tuple[Any, ...]:
        return tuple(self._suspenders)

    def request_suspend(
        self,
        fut: Any,
        *,
        pre_plan: Any = None,
        post_plan: Any = None,
        justification: str = "",
    ) -> None:
        """Suspend the running plan until ``fut`` (a future or awaitable) is done.

        The plan rewinds to its last checkpoint; ``pre_plan`` runs before waiting and
        ``post_plan`` after. Safe to call from any thread; ignored when idle.
        """
        runner = self._runner
        if runner is None or self.state is EngineState.IDLE:
            return
        runner.suspensions.append((fut, pre_plan, post_plan, justification))
        runner.flag = True
        call_soon_threadsafe(self._loop, runner.interrupt)

    # -- interruption --------------------------------------------------------
    def request_pause(self, defer: bool = False) -> None:
        """Pause the running plan: now (rewinding to the last checkpoint) or at the next checkpoint.

        ``RE(plan)`` then raises :class:`RunEngineInterrupted`; continue with
        :meth:`resume`, or end with :meth:`abort`, :meth:`stop` or :meth:`halt`.
        """
        runner = self._runner
        if runner is None or self.state in (EngineState.IDLE, EngineState.PAUSED):
            raise TransitionError(f"the RunEngine is {self.state}: there is no plan to pause")
        if self.state not in _ACTIVE:
            logger.info("request_pause ignored: the RunEngine is %s", self.state)
            return
        if defer:
            self._pausing()
            runner.deferred_pause = True
            logger.warning(
                "deferred pause requested: the plan pauses at its next checkpoint "
                "(at once if it is waiting for a device)"
            )
            call_soon_threadsafe(self._loop, runner.pause_in_wait)
            return
        runner.deferred_pause = False  # a pause now replaces a pending deferred one
        runner.pause_now = True
        runner.flag = True
        call_soon_threadsafe(self._loop, runner.interrupt)

    def _pausing(self) -> None:
        self._state.advance(EngineState.PAUSING, when=frozenset({EngineState.RUNNING}))

    def _request(self, kind: str, reason: str, error: BaseException | None = None) -> bool:
        runner = self._runner
        if runner is None:
            return False
        if runner.request is None:
            runner.request = kind
            runner.request_reason = reason
            runner.request_error = error
        runner.flag = True
        call_soon_threadsafe(self._loop, runner.interrupt)
        return True

    def resume(self) -> Any:
        """Continue a paused plan (after rewinding to its last checkpoint)."""
        self._check_open()
        if self.state is not EngineState.PAUSED or self._runner is None:
            raise TransitionError(f"resume() needs a paused RunEngine; it is {self.state}")
        self._reassert_suspenders()
        asyncio.run_coroutine_threadsafe(self._resume_devices(), self._loop).result()
        with self._entered():
            return self._drive(self._runner)

    def abort(self, reason: str = "") -> Any:
        """End the plan: cleanup runs, open runs end with exit_status ``abort``."""
        return self._finish("abort", reason or "aborted")

    def stop(self) -> Any:
        """End the plan: cleanup runs, open runs end with exit_status ``success``."""
        return self._finish("stop", "stopped")

    def halt(self) -> Any:
        """End the plan at once: no cleanup messages; open runs end with ``abort``."""
        return self._finish("halt", "halted")

    def _finish(self, kind: str, reason: str) -> Any:
        state = self.state
        if state in _ACTIVE:
            self._state.advance(EngineState.STOPPING, when=_ACTIVE)
            self._request(kind, reason)
            return self._present(
                RunResult(
                    self._ctx.run_uids,
                    NO_PLAN_RETURN,
                    exit_status="abort" if kind != "stop" else "success",
                    reason=reason,
                    interrupted=True,
                )
            )
        if state is not EngineState.PAUSED or self._runner is None:
            raise TransitionError(f"{kind}() needs a running or paused RunEngine; it is {state}")
        self._state.set(EngineState.STOPPING)
        self._request(kind, reason)
        self._runner.interrupt_raises = False
        with self._entered():
            return self._drive(self._runner)

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

    async def _execute(self, runner: PlanRunner) -> tuple[Outcome, Any]:
        """Drive the plan; on its end clean up and compose the result (on the loop thread)."""
        error: BaseException | None = None
        try:
            outcome = await runner.drive()
        except (RequestAbort, RequestStop) as exc:
            outcome, error = Outcome.DONE, (exc if runner.request is None else None)
        except asyncio.CancelledError:
            outcome, error = Outcome.DONE, RunEngineError("the RunEngine was closed while running")
        except KeyboardInterrupt:  # raised by the plan: aborted, as in Bluesky
            outcome = Outcome.DONE
            if runner.request is None:
                runner.request, runner.request_reason = "abort", "KeyboardInterrupt in the plan"
        except BaseException as exc:  # the plan failed
            outcome, error = Outcome.DONE, exc
        if outcome is Outcome.PAUSED:
            await self._pause_devices(runner)
            return outcome, None
        if error is not None:
            await self._stop_moved("the plan failed")
        if outcome is Outcome.HALTED:
            try:
                runner.gen.close()
            except BaseException as exc:  # a plan yielding from finally while halted
                logger.warning("plan did not close cleanly on halt: %r", exc)
        if error is None and outcome is Outcome.DONE and self._errors_fail_runs:
            # buffered subscribers may lag behind the plan: their errors still fail the run
            await asyncio.get_running_loop().run_in_executor(None, self._dispatcher.flush)
            if runner.request == "fail" and runner.request_error is not None:
                error = runner.request_error
        request = runner.request
        if error is not None:
            exit_status = "fail"
            label = self._ctx.failed_device.get(id(error))
            reason = f"{type(error).__name__}: {error}"
            if label:
                reason = f"{label} failed: {reason}"
        elif request in ("abort", "halt", "fail"):
            exit_status, reason = "abort", runner.request_reason
            if request == "fail":
                exit_status = "fail"
        else:
            exit_status, reason = "success", runner.request_reason if request == "stop" else ""
        await clean_up(self, self._ctx, exit_status, reason)
        result = RunResult(
            self._ctx.run_uids,
            runner.result,
            exit_status,
            reason,
            interrupted=request is not None,
            exception=error,
        )
        if error is not None:
            return outcome, error
        if request is not None and runner.interrupt_raises:
            verb = {"abort": "aborted", "halt": "halted", "stop": "stopped", "fail": "failed"}
            interrupted = RunEngineInterrupted(
                f"the plan was {verb.get(request, request)}: {reason}"
            )
            interrupted.result = result  # type: ignore[attr-defined]
            return outcome, interrupted
        return outcome, result

    def _record_interruption(self, kind: str) -> None:
        if self.record_interruptions:
            for composer in self._ctx.runs.values():
                composer.record_interruption(kind)

    async def _stop_moved(self, why: str) -> None:
        await stop_moved(self._ctx, why, self.stop_timeout)

    async def _pause_devices(self, runner: PlanRunner) -> None:
        """Pausing: what the plan moved stops, staged devices are told to pause, monitors
        stop recording."""
        self._record_interruption("pause")
        await self._stop_moved("pausing")
        await pause_devices(self._ctx, self.stop_timeout)

    async def _resume_devices(self) -> None:
        """Before resuming: staged devices resume, monitors record again (from now)."""
        self._record_interruption("resume")
        await resume_devices(self._ctx, self.stop_timeout)

    def __repr__(self) -> str:
        return f"<RunEngine {self.state}{' closed' if self._closed else ''}>"
