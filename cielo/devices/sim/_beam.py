"""A simulated storage-ring beam current, changed from outside to exercise suspenders."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from .._kind import Kind
from .._signal import SoftSignalR

__all__ = ["SimBeamCurrent"]


class SimBeamCurrent(SoftSignalR[float]):
    """A read-only beam current (mA) that tests and demos change from outside.

    ``drop()`` makes the beam fall (optionally restoring after ``duration`` s),
    ``restore()`` brings it back to ``nominal``, ``program([(t, value), ...])`` plays a
    profile in real time. Subscribers (a RunEngine's suspenders) see every change.
    """

    def __init__(
        self,
        *,
        name: str = "",
        kind: Kind | str | int = Kind.hinted,
        parent: Any = None,
        nominal: float = 500.0,
        units: str = "mA",
        precision: int = 1,
    ) -> None:
        super().__init__(
            float(nominal), units=units, precision=precision, name=name, kind=kind, parent=parent
        )
        self.nominal = float(nominal)
        self._timers: list[threading.Timer] = []

    def drop(self, to: float = 0.0, *, duration: float | None = None) -> None:
        """Drop the current to ``to`` now; restore it after ``duration`` s if given."""
        self.update(float(to))
        if duration is not None:
            self._later(duration, self.nominal)

    def restore(self) -> None:
        """Bring the current back to ``nominal`` now (and cancel pending changes)."""
        self.cancel()
        self.update(self.nominal)

    def program(self, steps: Sequence[tuple[float, float]]) -> None:
        """Set ``value`` at ``t`` seconds from now for each ``(t, value)`` in ``steps``."""
        for t, value in steps:
            self._later(float(t), float(value))

    def cancel(self) -> None:
        """Cancel pending programmed changes."""
        timers, self._timers = self._timers, []
        for timer in timers:
            timer.cancel()

    def _later(self, seconds: float, value: float) -> None:
        timer = threading.Timer(seconds, self.update, args=(value,))
        timer.daemon = True
        self._timers.append(timer)
        timer.start()
