"""Ctrl-C during ``RE(plan)``: once pauses at the next checkpoint, twice quickly pauses now.

Installed only while a plan runs, only in the main thread (Python delivers signals
there), and the previous handler is restored afterwards.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._engine import RunEngine

__all__ = ["SigintHandler"]

logger = logging.getLogger("cielo.engine")


class SigintHandler:
    """Context manager translating SIGINT into pause requests for one engine."""

    def __init__(self, engine: RunEngine, window: float = 2.0) -> None:
        self.engine = engine
        self.window = window
        self.count = 0
        self.last = 0.0
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> SigintHandler:
        if threading.current_thread() is threading.main_thread():
            try:
                self._previous = signal.signal(signal.SIGINT, self._handle)
                self._installed = True
            except ValueError:  # e.g. an embedded interpreter without signal support
                self._installed = False
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False

    def _handle(self, signum: int, frame: Any) -> None:
        now = time.monotonic()
        if self.count and now - self.last <= self.window:
            self.count += 1
        else:
            self.count = 1
        self.last = now
        if self.count == 1:
            print(
                "\nCtrl-C: the plan pauses at its next checkpoint "
                f"(press Ctrl-C again within {self.window:g} s to pause now)",
                file=sys.stderr,
            )
            self._pause(defer=True)
        else:
            print("\nCtrl-C twice: pausing now", file=sys.stderr)
            self._pause(defer=False)

    def _pause(self, defer: bool) -> None:
        from ._state import TransitionError

        with contextlib.suppress(TransitionError):  # the plan ended meanwhile
            self.engine.request_pause(defer=defer)
