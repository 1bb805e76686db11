"""A simulated motor whose moves take real time (or none)."""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from .._device import Cpt
from .._kind import Kind
from .._positioner import MoveStatus, Positioner
from .._signal import SoftSignal, SoftSignalR

__all__ = ["SimMotor", "move_duration"]


def move_duration(distance: float, velocity: float | None, acceleration: float | None) -> float:
    """Seconds a trapezoidal move of ``distance`` takes (0 when ``velocity`` is 0/None)."""
    distance = abs(distance)
    if not velocity or distance == 0:
        return 0.0
    if not acceleration:
        return distance / velocity
    ramp = velocity * velocity / acceleration  # distance spent speeding up + slowing down
    if distance >= ramp:
        return distance / velocity + velocity / acceleration
    return 2.0 * math.sqrt(distance / acceleration)


def _travelled(t: float, distance: float, velocity: float, acceleration: float | None) -> float:
    """Distance covered after ``t`` seconds of a move of ``distance`` (trapezoid)."""
    total = move_duration(distance, velocity, acceleration)
    if t >= total:
        return distance
    if not acceleration:
        return velocity * t
    peak = min(velocity, math.sqrt(distance * acceleration))  # top speed reached
    t_ramp = peak / acceleration
    if t < t_ramp:
        return 0.5 * acceleration * t * t
    d_ramp = 0.5 * peak * t_ramp
    t_cruise = total - 2 * t_ramp
    if t < t_ramp + t_cruise:
        return d_ramp + peak * (t - t_ramp)
    t_left = total - t
    return distance - 0.5 * acceleration * t_left * t_left


class SimMotor(Positioner):
    """A simulated motor: instant by default, or moving at ``velocity`` with
    ``acceleration`` (trapezoidal profile) in real time, its readback updated every
    ``update_period`` seconds.

    Parameters
    ----------
    initial
        Starting position.
    velocity
        Units per second; ``None`` or 0 moves instantly.
    acceleration
        Units per second squared; ``None`` or 0 reaches ``velocity`` at once.
    units, precision
        Reported in ``describe()``.
    limits, timeout, settle_time
        As for :class:`~cielo.devices.Positioner`.
    """

    user_readback = Cpt(SoftSignalR, 0.0, kind=Kind.hinted, parent_name=True)
    user_setpoint = Cpt(SoftSignal, 0.0, kind=Kind.normal)
    velocity = Cpt(SoftSignal, 0.0, kind=Kind.config)
    acceleration = Cpt(SoftSignal, 0.0, kind=Kind.config)

    def __init__(
        self,
        prefix: str = "",
        *,
        name: str = "",
        kind: Kind | str | int = Kind.normal,
        parent: Any = None,
        initial: float = 0.0,
        velocity: float | None = None,
        acceleration: float | None = None,
        units: str = "mm",
        precision: int = 3,
        limits: tuple[float, float] | None = None,
        timeout: float | None = None,
        settle_time: float = 0.0,
        update_period: float = 0.02,
    ) -> None:
        super().__init__(
            prefix,
            name=name,
            kind=kind,
            parent=parent,
            limits=limits,
            timeout=timeout,
            settle_time=settle_time,
        )
        for signal in (self.user_readback, self.user_setpoint):
            signal.backend.units = units  # type: ignore[attr-defined]
            signal.backend.precision = precision  # type: ignore[attr-defined]
        self._limits_changed(self.limits)
        self.velocity.backend.units = f"{units}/s"  # type: ignore[attr-defined]
        self.acceleration.backend.units = f"{units}/s^2"  # type: ignore[attr-defined]
        self.velocity.put(float(velocity or 0.0))
        self.acceleration.put(float(acceleration or 0.0))
        self.user_setpoint.put(float(initial))
        self.user_readback.update(float(initial))
        self.update_period = update_period
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None

    def _limits_changed(self, limits: tuple[float, float] | None) -> None:
        for signal in (self.__dict__.get("user_readback"), self.__dict__.get("user_setpoint")):
            if signal is not None:
                signal.backend.limits = limits

    def _start_move(self, target: Any, status: MoveStatus) -> None:
        target = float(target)
        start = float(self.position)
        self.user_setpoint.put(target)
        duration = move_duration(target - start, self.velocity.get(), self.acceleration.get())
        if duration == 0.0:
            self.user_readback.update(target)
            status.report(target)
            status.set_finished()
            return
        halt = self._halt = threading.Event()
        thread = threading.Thread(
            target=self._run,
            args=(start, target, duration, status, halt),
            name=f"SimMotor-{self.name}",
            daemon=True,
        )
        self._thread = thread
        thread.start()

    def _run(
        self,
        start: float,
        target: float,
        duration: float,
        status: MoveStatus,
        halt: threading.Event,
    ) -> None:
        distance = target - start
        sign = 1.0 if distance >= 0 else -1.0
        velocity, acceleration = self.velocity.get(), self.acceleration.get()
        t0 = time.monotonic()
        while True:
            elapsed = time.monotonic() - t0
            if elapsed >= duration:
                break
            if halt.wait(min(self.update_period, duration - elapsed)):
                return  # stopped: the readback stays where it is
            elapsed = time.monotonic() - t0
            if elapsed < duration:
                travelled = _travelled(elapsed, abs(distance), velocity, acceleration)
                position = start + sign * travelled
                self.user_readback.update(position)
                status.report(position, duration - elapsed)
        if halt.is_set() or status.done:
            return
        self.user_readback.update(target)
        status.report(target, 0.0)
        status.set_finished()

    def _stop_motion(self) -> None:
        self._halt.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=1.0)
