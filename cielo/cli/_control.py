"""Ctrl-C and SIGTERM while ``cielo run`` runs a plan.

On a terminal the first Ctrl-C pauses the plan (at its next checkpoint; a second Ctrl-C
within the engine's window pauses at once) and a prompt offers resume, abort, stop, halt
and status. Without a terminal, Ctrl-C aborts. SIGTERM always aborts: the open runs end
with a stop document of exit status ``abort``. The outcome decides ``cielo run``'s exit
status (:data:`EXIT_CODES`).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from cielo.core import EngineState, RunEngine, RunEngineInterrupted

__all__ = ["EXIT_CODES", "RunControl"]

#: ``cielo run``'s exit status by outcome (docs and outside checks rely on these).
EXIT_CODES: Mapping[str, int] = {
    "success": 0,
    "fail": 1,  # the plan, a device or storage failed
    "refused": 2,  # bad input refused before anything ran
    "sigint": 130,  # the user ended it (Ctrl-C)
    "sigterm": 143,  # SIGTERM aborted it
}

_CHOICES = (
    "[r]esume, [a]bort (runs end 'abort'), [s]top (runs end 'success'), "
    "[h]alt (no cleanup), s[t]atus"
)


class _Terminated(Exception):
    """SIGTERM arrived while no plan was running (at the prompt)."""


class RunControl:
    """Runs one plan on ``RE`` in the main thread, translating Ctrl-C and SIGTERM.

    :param interactive: offer the pause prompt on Ctrl-C (default: stdin is a terminal).
    :param status: ``status()`` returns lines describing the run, for the prompt's status.
    """

    def __init__(
        self,
        *,
        interactive: bool | None = None,
        status: Callable[[], list[str]] | None = None,
        stdin: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> None:
        self.stdin = stdin or sys.stdin
        self.stderr = stderr or sys.stderr
        self.interactive = self.stdin.isatty() if interactive is None else interactive
        self.status = status
        #: what ended the plan early: ``"sigint"``, ``"sigterm"`` or ``None``
        self.ended_by: str | None = None
        self._engine: RunEngine | None = None

    def configure(self, RE: RunEngine) -> None:
        """Let the engine pause on Ctrl-C only when there is a prompt to answer."""
        RE.handle_sigint = self.interactive

    def run(self, RE: RunEngine, plan: Any) -> Any:
        """``RE(plan)`` until it ends; returns its :class:`~cielo.core.RunResult`."""
        self._engine = RE
        main = threading.current_thread() is threading.main_thread()
        previous = {}
        if main:
            previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, self._on_sigterm)
            if not self.interactive:
                previous[signal.SIGINT] = signal.signal(signal.SIGINT, self._on_sigint)
        try:
            return self._drive(RE, lambda: RE(plan))
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            self._engine = None

    def _drive(self, RE: RunEngine, call: Callable[[], Any]) -> Any:
        while True:
            try:
                return call()
            except RunEngineInterrupted as exc:
                if RE.state is not EngineState.PAUSED:  # aborted/stopped/halted while running
                    return getattr(exc, "result", None)
            except _Terminated:
                if RE.state is not EngineState.PAUSED:
                    raise
            call = self._ask(RE)

    def _ask(self, RE: RunEngine) -> Callable[[], Any]:
        """The prompt of a paused plan; returns what to do next."""
        if self.ended_by == "sigterm":
            return lambda: RE.abort("SIGTERM")
        if not self.interactive:  # paused by a suspender or the plan: nobody to ask
            return lambda: RE.abort("paused without a terminal to resume it")
        while True:
            self._say(f"\nThe plan is paused. {_CHOICES}? ")
            try:
                answer = self.stdin.readline()
            except (KeyboardInterrupt, _Terminated) as exc:
                self.ended_by = "sigterm" if isinstance(exc, _Terminated) else "sigint"
                self._say("\n")
                return lambda: RE.abort(
                    "SIGTERM" if self.ended_by == "sigterm" else "aborted by the user (Ctrl-C)"
                )
            word = answer.strip().lower()
            if not answer:  # end of input: nobody will answer
                word = "abort"
            if word in ("r", "resume"):
                return RE.resume
            if word in ("t", "status"):
                for line in self.status() if self.status else ["(no status)"]:
                    self._say(line + "\n")
                continue
            for short, kind in (("a", "abort"), ("s", "stop"), ("h", "halt")):
                if word in (short, kind):
                    self.ended_by = "sigint"
                    if kind == "abort":
                        return lambda: RE.abort("aborted by the user (Ctrl-C)")
                    return RE.stop if kind == "stop" else RE.halt
            self._say(f"{answer.strip()!r} is not a choice.\n")

    def _on_sigint(self, signum: int, frame: Any) -> None:  # without a terminal: abort
        if self.ended_by is None:
            self.ended_by = "sigint"
            self._say("\ncielo: Ctrl-C: aborting the plan\n")
        self._abort("aborted by the user (Ctrl-C)")

    def _on_sigterm(self, signum: int, frame: Any) -> None:
        self.ended_by = "sigterm"
        self._say("\ncielo: SIGTERM: aborting the plan\n")
        RE = self._engine
        if RE is None or RE.state is EngineState.PAUSED or RE.state is EngineState.IDLE:
            raise _Terminated  # out of the prompt (or before the plan started)
        self._abort("SIGTERM")

    def _abort(self, reason: str) -> None:
        RE = self._engine
        if RE is not None and RE.state is EngineState.RUNNING:
            RE.abort(reason)  # a request: the engine ends the plan on its loop

    def _say(self, text: str) -> None:
        self.stderr.write(text)
        self.stderr.flush()
