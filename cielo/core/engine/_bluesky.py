"""The RunEngine attributes Bluesky documents, as a mixin of :class:`~cielo.RunEngine`.

Scripts written for Bluesky's RunEngine set these (``RE.md_validator = ...``,
``RE.context_managers.append(...)``, ``RE.subscribe_lossless(...)``) and expect them to act.
Each costs nothing per message while it is left at its default.
"""

from __future__ import annotations

import contextlib
import inspect
import sys
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._parts import EnginePart

if TYPE_CHECKING:
    from ._results import RunResult
    from ._state import EngineState

__all__ = ["BlueskyAttributes", "bluesky_style_handler", "warn_old_subscribe_order"]


class BlueskyAttributes(EnginePart):
    """``md_validator``, ``md_normalizer``, ``scan_id_source``, ``context_managers``,
    ``max_depth``, ``rewindable``, ``deferred_pause_requested``,
    ``ignore_callback_exceptions``, ``state_hook``, ``waiting_hook``, ``msg_hook`` and the
    lossless subscriptions."""

    def _init_bluesky_attributes(self) -> None:
        self._state_hook: Callable[[EngineState, EngineState], None] | None = None
        #: Bluesky's ``RE.waiting_hook``: called with the set of statuses a ``wait`` is about
        #: to wait for, then with ``None`` (e.g. a progress bar using ``status.watch``)
        self.waiting_hook: Callable[[Any], Any] | None = None
        #: Bluesky's ``RE.msg_hook``: called with every message before it runs (debugging;
        #: costs nothing when ``None``)
        self.msg_hook: Callable[[Any], Any] | None = None
        #: ``md_validator(md)`` raises to refuse a run start's metadata (before a scan id
        #: is spent); ``None``: cielo's own checks only
        self.md_validator: Callable[[dict[str, Any]], Any] | None = None
        #: ``md_normalizer(md) -> md`` rewrites a run start's metadata after validation
        self.md_normalizer: Callable[[dict[str, Any]], Any] | None = None
        #: ``scan_id_source(RE.md) -> int`` (or an awaitable of it) gives each run's
        #: scan_id; ``None``: ``RE.md["scan_id"] + 1``
        self.scan_id_source: Callable[[Any], Any] | None = None
        #: ``mgr(RE)`` context managers entered around every ``RE()``, ``resume()`` and
        #: ``abort()``/``stop()``/``halt()`` of a paused plan (Ctrl-C handling is
        #: ``handle_sigint``, not one of these)
        self.context_managers: list[Callable[[Any], Any]] = []
        #: ``RE()`` called deeper than this many frames raises (Bluesky's guard against
        #: running plans inside functions); ``None``: no limit
        self.max_depth: int | None = None
        self._rewindable_default = True

    # -- results and loop --------------------------------------------------------
    @property
    def call_returns_result(self) -> bool:
        """Whether ``RE(plan)`` returns a :class:`RunEngineResult` (else the run uids)."""
        return self._call_returns_result

    def _present(self, result: RunResult) -> Any:
        return result.as_record() if self._call_returns_result else result

    def share_loop_with_bluesky(self) -> None:
        """Make this engine's loop Bluesky's event loop, so ophyd-async's ``init_devices()``
        (which connects devices through ``bluesky.run_engine.call_in_bluesky_event_loop``)
        connects them where this engine will use them. Needs bluesky installed."""
        from bluesky.run_engine import set_bluesky_event_loop

        set_bluesky_event_loop(self._loop)

    # -- run control -----------------------------------------------------------
    @property
    def rewindable(self) -> bool:
        """Whether a pause or suspension rewinds to the last checkpoint (the default for
        every plan; ``Msg('rewindable', None, False)`` changes it for one plan). A pause
        where the plan cannot be rewound aborts it."""
        runner = self._runner
        return self._ctx.rewindable if runner is not None else self._rewindable_default

    @rewindable.setter
    def rewindable(self, value: bool) -> None:
        self._rewindable_default = bool(value)
        if self._runner is not None:
            self._ctx.rewindable = bool(value)
            if not value:
                self._runner.msg_cache = None

    @property
    def deferred_pause_requested(self) -> bool:
        """A pause waits for the plan's next checkpoint."""
        runner = self._runner
        return bool(runner is not None and runner.deferred_pause)

    def _check_depth(self) -> None:
        if self.max_depth is None:
            return
        depth = 0
        frame = sys._getframe(1)
        while frame is not None:
            depth += 1
            frame = frame.f_back  # type: ignore[assignment]
        if depth > self.max_depth:
            raise RuntimeError(
                f"RE() was called {depth} frames deep, more than RE.max_depth = "
                f"{self.max_depth}; call it from the top level (or set RE.max_depth = None)"
            )

    def _entered(self) -> contextlib.AbstractContextManager[Any]:
        """The ``context_managers``, entered (nothing when there are none)."""
        if not self.context_managers:
            return contextlib.nullcontext()
        stack = contextlib.ExitStack()
        try:
            for manager in self.context_managers:
                stack.enter_context(manager(self))
        except BaseException:
            stack.close()
            raise
        return stack

    # -- hooks -----------------------------------------------------------------
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

    # -- subscriptions ---------------------------------------------------------
    @property
    def ignore_callback_exceptions(self) -> bool:
        """Whether a subscriber's exception leaves the plan running (cielo's default:
        logged and kept in ``RE.callback_errors``). ``False`` fails the plan with it,
        Bluesky's default; the opposite of ``fatal_callback_errors``."""
        return not self.fatal_callback_errors

    @ignore_callback_exceptions.setter
    def ignore_callback_exceptions(self, value: bool) -> None:
        self.fatal_callback_errors = not value

    def subscribe_lossless(
        self, func: Callable[[str, dict[str, Any]], Any], name: str = "all"
    ) -> int:
        """Subscribe ``func`` on the engine's thread, in step with the plan (every
        subscription is lossless in cielo; this one is also synchronous, as Bluesky's)."""
        return self._dispatcher.subscribe(func, name, buffered=False)

    def unsubscribe_lossless(self, token: int) -> None:
        self._dispatcher.unsubscribe(token)


def warn_old_subscribe_order() -> None:
    warnings.warn(
        "RE.subscribe(name, func) is Bluesky's old argument order; call "
        "RE.subscribe(func, name) (name defaults to 'all')",
        UserWarning,  # as Bluesky's: shown by default
        stacklevel=3,
    )


def bluesky_style_handler(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Adapt Bluesky's ``handler(msg)`` (usually ``async def``) to cielo's ``handler(ctx, msg)``;
    a cielo handler is returned as it is."""
    try:
        params = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: assume cielo's form
        return handler
    positional = [
        p
        for p in params
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    if len(positional) != 1 or any(p.kind is p.VAR_POSITIONAL for p in params):
        return handler

    def _handler(ctx: Any, msg: Any) -> Any:
        return handler(msg)

    _handler.__qualname__ = getattr(handler, "__qualname__", repr(handler))
    return _handler
