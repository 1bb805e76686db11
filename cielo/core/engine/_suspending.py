"""The RunEngine's suspenders: installed, reasserted, and the suspension requests they make."""

from __future__ import annotations

from typing import Any

from ._commands import call_soon_threadsafe
from ._parts import EnginePart
from ._state import EngineState

__all__ = ["Suspending"]


class Suspending(EnginePart):
    """The suspenders the RunEngine watches, and ``request_suspend``."""

    @property
    def suspended(self) -> bool:
        return self._suspended

    def _set_suspended(self, value: bool, reason: str) -> None:
        self._suspended = value
        self.suspension_reason = reason
        self._record_interruption("suspend" if value else "resume")

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
