"""The end of a plan on the engine's loop: stop what moved, pause devices, clean up, and
compose what ``RE()`` returns or raises."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from .._errors import RunEngineError, RunEngineInterrupted
from ._parts import EnginePart
from ._results import RunResult
from ._runner import Outcome, PlanRunner, RequestAbort, RequestStop
from ._stopping import clean_up, pause_devices, resume_devices, stop_moved

__all__ = ["PlanEnding"]

logger = logging.getLogger("cielo.engine")


class PlanEnding(EnginePart):
    """How the RunEngine ends (or pauses) a plan on its loop thread."""

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
            exit_status, reason = "fail", str(error)  # as Bluesky writes it
            label = self._ctx.failed_device.get(id(error))
            logger.error(
                "the plan failed%s: %s: %s",
                f" ({label})" if label else "",
                type(error).__name__,
                error,
            )
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
