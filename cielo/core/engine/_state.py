"""The RunEngine's state machine, with a change hook.

``idle → running``; ``running → pausing`` (a deferred pause asked for, not yet reached)
``→ paused``; ``paused → running`` (resume); ``running | pausing | paused → stopping``
(abort, stop or halt asked for: the plan's cleanup runs) ``→ idle``.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable

from .._errors import BlueskyTwin, RunEngineError

__all__ = ["EngineState", "StateMachine", "TransitionError"]

logger = logging.getLogger("cielo.engine")


class EngineState(enum.StrEnum):
    """Where the RunEngine is; compares equal to its name (``RE.state == "idle"``)."""

    IDLE = "idle"
    RUNNING = "running"
    PAUSING = "pausing"
    PAUSED = "paused"
    STOPPING = "stopping"

    def __str__(self) -> str:
        return self.value

    @property
    def is_idle(self) -> bool:
        return self is EngineState.IDLE

    @property
    def is_running(self) -> bool:
        return self is EngineState.RUNNING

    @property
    def is_paused(self) -> bool:
        return self is EngineState.PAUSED


class TransitionError(BlueskyTwin, RunEngineError):
    """A state change the state machine does not allow (e.g. resume while idle)."""

    _bluesky = ("bluesky.utils", "TransitionError")


_ALLOWED: dict[EngineState, frozenset[EngineState]] = {
    EngineState.IDLE: frozenset({EngineState.RUNNING}),
    EngineState.RUNNING: frozenset(
        {EngineState.PAUSING, EngineState.PAUSED, EngineState.STOPPING, EngineState.IDLE}
    ),
    EngineState.PAUSING: frozenset(
        {EngineState.PAUSED, EngineState.STOPPING, EngineState.IDLE, EngineState.RUNNING}
    ),
    EngineState.PAUSED: frozenset({EngineState.RUNNING, EngineState.STOPPING, EngineState.IDLE}),
    # a pause reached just as a stop was asked for: the engine is paused, the request pending
    EngineState.STOPPING: frozenset({EngineState.IDLE, EngineState.PAUSED}),
}

StateHook = Callable[[EngineState, EngineState], None]


class StateMachine:
    """Holds the state; every change is checked and reported to the hooks ``hook(new, old)``."""

    __slots__ = ("_state", "_hooks", "_lock")

    def __init__(self) -> None:
        self._state = EngineState.IDLE
        self._hooks: list[StateHook] = []
        self._lock = threading.Lock()

    @property
    def state(self) -> EngineState:
        return self._state

    def add_hook(self, hook: StateHook) -> None:
        """Call ``hook(new_state, old_state)`` after every change."""
        self._hooks.append(hook)

    def remove_hook(self, hook: StateHook) -> None:
        self._hooks.remove(hook)

    def advance(self, new: EngineState, *, when: frozenset[EngineState]) -> bool:
        """Move to ``new`` only if the state is one of ``when`` (from any thread, without
        racing another change); returns whether it moved."""
        with self._lock:
            old = self._state
            if old not in when or new is old:
                return False
            self._state = new
        self._notify(new, old)
        return True

    def set(self, new: EngineState) -> None:
        """Move to ``new``; :class:`TransitionError` names both states when not allowed."""
        with self._lock:
            old = self._state
            if new is old:
                return
            if new not in _ALLOWED[old]:
                raise TransitionError(
                    f"the RunEngine cannot go from {old.value!r} to {new.value!r}; "
                    f"from {old.value!r} it can go to "
                    f"{sorted(s.value for s in _ALLOWED[old])}"
                )
            self._state = new
        self._notify(new, old)

    def _notify(self, new: EngineState, old: EngineState) -> None:
        for hook in list(self._hooks):
            try:
                hook(new, old)
            except Exception:
                logger.exception("state-change hook %r failed", hook)
