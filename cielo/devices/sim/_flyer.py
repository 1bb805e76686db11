"""A simulated flyer: kickoff starts a sweep, complete waits for it, collect returns it."""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Iterator
from typing import Any

from cielo.core import DeviceError, Status, finished_status
from cielo.core.protocols import DataKey

from .._device import Cpt, Device
from .._kind import Kind
from .._signal import SoftSignal

__all__ = ["SimFlyer"]


class SimFlyer(Device):
    """Sweeps a virtual axis from ``start`` to ``stop`` in ``num`` points, one every
    ``period`` s, recording the position ``<name>_x`` and a Gaussian peak
    ``<name>_intensity`` over it (centre ``center``, width ``sigma``).

    ``kickoff()`` starts the sweep, ``complete()`` is done when it ends, ``collect()``
    yields the points as partial events (``collect_pages()`` as one event page), each
    point once; ``describe_collect()`` gives their data keys.
    """

    num = Cpt(SoftSignal, 10, kind=Kind.config)
    period = Cpt(SoftSignal, 0.01, kind=Kind.config, units="s")
    start = Cpt(SoftSignal, -1.0, kind=Kind.config)
    stop_position = Cpt(SoftSignal, 1.0, kind=Kind.config)

    def __init__(
        self,
        *,
        name: str = "",
        kind: Kind | str | int = Kind.normal,
        parent: Any = None,
        num: int = 10,
        period: float = 0.01,
        start: float = -1.0,
        stop: float = 1.0,
        center: float = 0.0,
        sigma: float = 0.3,
        amplitude: float = 1.0,
        noise_level: float = 0.0,
        seed: int | None = None,
    ) -> None:
        super().__init__(name=name, kind=kind, parent=parent)
        if num < 1:
            raise ValueError(f"{name}: num must be at least 1, got {num}")
        self.num.put(int(num))
        self.period.put(float(period))
        self.start.put(float(start))
        self.stop_position.put(float(stop))
        self._center, self._sigma, self._amplitude = center, sigma, amplitude
        self._noise = noise_level
        self._rng = random.Random(seed)
        self._points: list[tuple[float, float, float]] = []  # (time, x, intensity)
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self._complete: Status | None = None

    @property
    def _keys(self) -> tuple[str, str]:
        return f"{self.name}_x", f"{self.name}_intensity"

    def kickoff(self) -> Status:
        """Start the sweep; done once it has started."""
        if self._complete is not None and not self._complete.done:
            raise DeviceError(
                f"{self.name}: kickoff while a sweep is running; call complete() first"
            )
        self._halt.clear()
        self._complete = Status(self)
        thread = threading.Thread(
            target=self._sweep, args=(self._complete,), daemon=True, name=f"SimFlyer-{self.name}"
        )
        thread.start()
        return finished_status(self)

    def _sweep(self, status: Status) -> None:
        num, period = int(self.num.get()), float(self.period.get())
        first, last = self.start.get(), self.stop_position.get()
        t0 = time.monotonic()
        for i in range(num):
            delay = t0 + i * period - time.monotonic()
            if delay > 0 and self._halt.wait(delay):
                status.set_exception(
                    DeviceError(f"{self.name}: sweep stopped after {i} of {num} points")
                )
                return
            x = first + (last - first) * (i / (num - 1) if num > 1 else 0.0)
            intensity = self._amplitude * math.exp(
                -((x - self._center) ** 2) / (2 * self._sigma**2)
            )
            if self._noise:
                intensity += self._rng.gauss(0.0, self._noise)
            with self._lock:
                self._points.append((time.time(), x, intensity))
        status.set_finished()

    def complete(self) -> Status:
        """Done when the sweep started by :meth:`kickoff` has ended."""
        if self._complete is None:
            raise DeviceError(f"{self.name}: complete() before kickoff(); call kickoff() first")
        return self._complete

    def stop(self, *, success: bool = False) -> None:
        self._halt.set()

    def describe_collect(self) -> dict[str, DataKey]:
        x, intensity = self._keys
        return {
            x: {
                "source": f"sim://{self.name}/x",
                "dtype": "number",
                "dtype_numpy": "<f8",
                "shape": [],
                "precision": 4,
            },
            intensity: {
                "source": f"sim://{self.name}/intensity",
                "dtype": "number",
                "dtype_numpy": "<f8",
                "shape": [],
            },
        }

    def _drain(self) -> list[tuple[float, float, float]]:
        with self._lock:
            points, self._points = self._points, []
        return points

    def collect(self) -> Iterator[dict[str, Any]]:
        """The points recorded since the last collect, as partial events."""
        xk, ik = self._keys
        for t, x, intensity in self._drain():
            yield {"time": t, "data": {xk: x, ik: intensity}, "timestamps": {xk: t, ik: t}}

    def collect_pages(self) -> Iterator[dict[str, Any]]:
        """The points recorded since the last collect, as one partial event page."""
        points = self._drain()
        if not points:
            return
        xk, ik = self._keys
        times = [p[0] for p in points]
        yield {
            "time": times,
            "data": {xk: [p[1] for p in points], ik: [p[2] for p in points]},
            "timestamps": {xk: times, ik: list(times)},
        }

    @property
    def hints(self) -> dict[str, Any]:  # type: ignore[override]
        return {"fields": [self._keys[1]]}
