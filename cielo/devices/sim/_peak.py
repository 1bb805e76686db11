"""A simulated point detector: a Gaussian peak over one or more motor positions."""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Sequence
from typing import Any, Literal

from cielo.core import Status, finished_status

from .._device import Cpt, Device
from .._kind import Kind
from .._signal import SoftSignal, SoftSignalR

__all__ = ["SimPeakDetector", "position_of", "NoiseKind"]

NoiseKind = Literal["none", "gaussian", "poisson", "uniform"]


def position_of(device: Any) -> float:
    """The current position of a motor-like device: its ``position``, else the first
    hinted (or first) field of its ``read()``."""
    position = getattr(device, "position", None)
    if position is not None:
        return float(position)
    reading = device.read()
    hinted = getattr(device, "hints", {}).get("fields", [])
    key = next((k for k in hinted if k in reading), next(iter(reading)))
    return float(reading[key]["value"])


class SimPeakDetector(Device):
    """A detector whose reading is a Gaussian peak over the positions of ``motors``.

    ``value = background + amplitude * exp(-sum((x_i - center_i)**2 / (2 * sigma_i**2)))``
    evaluated at trigger time, plus noise. The reading is named after the device.

    Parameters
    ----------
    motors
        The devices whose positions are the peak's coordinates (one or more).
    center, sigma
        The peak's centre and width, one number for all axes or one per motor.
    amplitude, background
        Height of the peak above the flat background.
    noise
        ``"none"``, ``"gaussian"`` (standard deviation ``noise_level``), ``"poisson"``
        (counting statistics) or ``"uniform"`` (±``noise_level``).
    seed
        Seed of the noise generator, for reproducible runs.
    count_time
        Seconds each trigger takes (0: instant).
    """

    value = Cpt(SoftSignalR, 0.0, kind=Kind.hinted, parent_name=True)
    count_time = Cpt(SoftSignal, 0.0, kind=Kind.config, units="s")
    amplitude = Cpt(SoftSignal, 1.0, kind=Kind.config)
    background = Cpt(SoftSignal, 0.0, kind=Kind.config)
    noise_level = Cpt(SoftSignal, 0.0, kind=Kind.config)

    def __init__(
        self,
        motors: Sequence[Any] = (),
        *,
        name: str = "",
        kind: Kind | str | int = Kind.normal,
        parent: Any = None,
        center: float | Sequence[float] = 0.0,
        sigma: float | Sequence[float] = 1.0,
        amplitude: float = 1.0,
        background: float = 0.0,
        noise: NoiseKind = "none",
        noise_level: float = 1.0,
        seed: int | None = None,
        count_time: float = 0.0,
    ) -> None:
        super().__init__(name=name, kind=kind, parent=parent)
        self._motors = list(motors)
        if not self._motors:
            raise ValueError(f"{name or 'peak detector'}: give at least one motor in motors=[...]")
        self._center = self._per_axis(center, "center")
        self._sigma = self._per_axis(sigma, "sigma")
        if any(s <= 0 for s in self._sigma):
            raise ValueError(f"{name}: sigma must be positive, got {sigma!r}")
        if noise not in ("none", "gaussian", "poisson", "uniform"):
            raise ValueError(
                f"{name}: unknown noise {noise!r}; use 'none', 'gaussian', 'poisson' or 'uniform'"
            )
        self.noise = noise
        self._rng = random.Random(seed)
        self.amplitude.put(float(amplitude))
        self.background.put(float(background))
        self.noise_level.put(float(noise_level))
        self.count_time.put(float(count_time))
        self.value.update(self.compute())

    def _per_axis(self, value: float | Sequence[float], what: str) -> list[float]:
        if isinstance(value, int | float):
            return [float(value)] * len(self._motors)
        values = [float(v) for v in value]
        if len(values) != len(self._motors):
            raise ValueError(
                f"{self.name}: {what} has {len(values)} values for {len(self._motors)} motors; "
                "give one number or one per motor"
            )
        return values

    @property
    def motors(self) -> list[Any]:
        return list(self._motors)

    @property
    def center(self) -> list[float]:
        return list(self._center)

    @property
    def sigma(self) -> list[float]:
        return list(self._sigma)

    def ideal(self, positions: Sequence[float]) -> float:
        """The noiseless reading at ``positions`` (one per motor)."""
        exponent = sum(
            (x - c) ** 2 / (2.0 * s * s)
            for x, c, s in zip(positions, self._center, self._sigma, strict=True)
        )
        return self.background.get() + self.amplitude.get() * math.exp(-exponent)

    def compute(self) -> float:
        """A fresh reading at the motors' current positions, with noise."""
        value = self.ideal([position_of(m) for m in self._motors])
        level = self.noise_level.get()
        if self.noise == "gaussian":
            value += self._rng.gauss(0.0, level)
        elif self.noise == "uniform":
            value += self._rng.uniform(-level, level)
        elif self.noise == "poisson":
            value = float(_poisson(self._rng, max(value, 0.0)))
        return value

    def trigger(self) -> Status:
        """Count: done after ``count_time`` with the reading of that moment."""
        seconds = self.count_time.get()
        if seconds <= 0:
            self.value.update(self.compute())
            return finished_status(self)
        status = Status(self)

        def _done() -> None:
            self.value.update(self.compute())
            status.set_finished()

        timer = threading.Timer(seconds, _done)
        timer.daemon = True
        timer.start()
        return status


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson sample (Knuth for small means, a normal approximation above 50)."""
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
