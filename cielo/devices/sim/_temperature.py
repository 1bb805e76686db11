"""A simulated temperature controller: the reading approaches the setpoint and settles."""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from .._device import Cpt
from .._kind import Kind
from .._positioner import MoveStatus, Positioner
from .._signal import SoftSignal, SoftSignalR

__all__ = ["SimTemperature"]


class SimTemperature(Positioner):
    """A temperature controller: after ``set(T)`` the reading approaches ``T``
    exponentially with time constant ``tau`` (s); the status is done once the reading
    is within ``tolerance`` of ``T`` (``tau=0``: at once).

    Parameters
    ----------
    initial
        Starting temperature.
    tau
        Time constant of the approach, seconds.
    tolerance
        How close counts as arrived (same units).
    units
        Reported in ``describe()`` (default ``"K"``).
    """

    user_readback = Cpt(SoftSignalR, 295.0, kind=Kind.hinted, parent_name=True)
    user_setpoint = Cpt(SoftSignal, 295.0, kind=Kind.normal)
    tau = Cpt(SoftSignal, 0.0, kind=Kind.config, units="s")
    tolerance = Cpt(SoftSignal, 0.1, kind=Kind.config)

    def __init__(
        self,
        *,
        name: str = "",
        kind: Kind | str | int = Kind.normal,
        parent: Any = None,
        initial: float = 295.0,
        tau: float = 0.0,
        tolerance: float = 0.1,
        units: str = "K",
        limits: tuple[float, float] | None = (0.0, 1000.0),
        timeout: float | None = None,
        update_period: float = 0.02,
    ) -> None:
        super().__init__(name=name, kind=kind, parent=parent, limits=limits, timeout=timeout)
        if tolerance <= 0:
            raise ValueError(f"{name}: tolerance must be positive, got {tolerance!r}")
        for signal in (self.user_readback, self.user_setpoint):
            signal.backend.units = units  # type: ignore[attr-defined]
            signal.backend.precision = 2  # type: ignore[attr-defined]
        self.tolerance.backend.units = units  # type: ignore[attr-defined]
        self.tau.put(float(tau))
        self.tolerance.put(float(tolerance))
        self.user_setpoint.put(float(initial))
        self.user_readback.update(float(initial))
        self.update_period = update_period
        self._halt = threading.Event()

    def _start_move(self, target: Any, status: MoveStatus) -> None:
        target = float(target)
        self.user_setpoint.put(target)
        start, tau, tolerance = float(self.position), self.tau.get(), self.tolerance.get()
        gap = abs(target - start)
        if tau <= 0 or gap <= tolerance:
            self.user_readback.update(target if tau <= 0 else start)
            status.report(self.position, 0.0)
            status.set_finished()
            return
        settle = tau * math.log(gap / tolerance)  # when the gap has shrunk to the tolerance
        halt = self._halt = threading.Event()

        def _approach() -> None:
            t0 = time.monotonic()
            while not halt.wait(self.update_period):
                elapsed = time.monotonic() - t0
                value = target + (start - target) * math.exp(-elapsed / tau)
                self.user_readback.update(value)
                status.report(value, settle - elapsed)
                if abs(value - target) <= tolerance:
                    status.set_finished()
                    return

        threading.Thread(target=_approach, daemon=True, name=f"SimTemperature-{self.name}").start()

    def _stop_motion(self) -> None:
        self._halt.set()
