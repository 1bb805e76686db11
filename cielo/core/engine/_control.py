"""Run control from any thread: pause, resume, abort, stop and halt requests."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ._commands import call_soon_threadsafe
from ._parts import ACTIVE as _ACTIVE
from ._parts import EnginePart
from ._results import NO_PLAN_RETURN, RunResult
from ._state import EngineState, TransitionError

__all__ = ["RunControl"]

logger = logging.getLogger("cielo.engine")


class RunControl(EnginePart):
    """``request_pause``, ``resume``, ``abort``, ``stop`` and ``halt`` of the RunEngine."""

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
