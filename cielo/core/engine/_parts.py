"""What the RunEngine's parts share: the attributes and methods each part may use.

:class:`~cielo.core.engine.RunEngine` is a facade over parts, each a mixin in its own module
(run control, suspenders, subscriptions, commands, the end of a plan, Bluesky's attributes).
:class:`EnginePart` declares, for the type checker, what ``RunEngine.__init__`` sets and the
methods one part calls on another; at run time it adds nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._state import EngineState

if TYPE_CHECKING:
    from ..documents import CallbackError, Dispatcher
    from ..plugins import PluginHooks
    from ._commands import CommandContext, CommandRegistry
    from ._results import RunResult
    from ._runmd import PersistentMetadata
    from ._runner import PlanRunner
    from ._state import StateMachine

__all__ = ["ACTIVE", "EnginePart"]


class EnginePart:
    """Base of the RunEngine's parts (see the module docstring)."""

    _ctx: CommandContext
    _loop: asyncio.AbstractEventLoop
    _runner: PlanRunner | None
    _dispatcher: Dispatcher
    _registry: CommandRegistry
    _state: StateMachine
    _call_returns_result: bool
    _fatal_error: CallbackError | None
    _last_error_counts: dict[str, int]
    _suspenders: list[Any]
    _suspended: bool
    _versions: dict[str, str] | None
    _md: PersistentMetadata
    suspension_reason: str
    fatal_callback_errors: bool
    record_interruptions: bool
    stop_timeout: float
    hooks: PluginHooks | None
    msg_hook: Callable[[Any], Any] | None

    if TYPE_CHECKING:

        @property
        def state(self) -> EngineState: ...
        @property
        def _errors_fail_runs(self) -> bool: ...
        def _check_open(self) -> None: ...
        def _drive(self, runner: PlanRunner) -> Any: ...
        def _entered(self) -> contextlib.AbstractContextManager[Any]: ...
        def _present(self, result: RunResult) -> Any: ...
        def _reassert_suspenders(self) -> None: ...
        def _record_interruption(self, kind: str) -> None: ...
        def _request(self, kind: str, reason: str, error: BaseException | None = None) -> bool: ...
        async def _resume_devices(self) -> None: ...


#: The states in which a plan runs (and can be paused, stopped...).
ACTIVE = frozenset({EngineState.RUNNING, EngineState.PAUSING})
