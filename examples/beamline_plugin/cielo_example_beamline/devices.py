"""Simulated devices of the example beamline, written directly against cielo's protocols.

Any object with ``name``, ``read()``, ``describe()`` (and ``set()``/``trigger()`` returning
a status) is a device to cielo; these two need nothing but :mod:`cielo.core`. Real
facility devices would build on :mod:`cielo.devices` (signals, EPICS) instead.
"""

from __future__ import annotations

import math
import time
from typing import Any

from cielo.core import LimitError, Status, finished_status
from cielo.core.protocols import Readable

__all__ = ["IonChamber", "Monochromator"]

#: hc in eV·Å, for the Bragg angle: λ = HC / E.
HC = 12398.42


class Monochromator:
    """A double-crystal monochromator: set the energy (eV), read energy and Bragg angle.

    :param name: the device's name (the profile's table name).
    :param energy: the starting energy in eV.
    :param d_spacing: the crystal's lattice spacing in Å (Si(111): 3.1356).
    :param low_limit: lowest energy in eV.
    :param high_limit: highest energy in eV.
    """

    parent = None

    def __init__(
        self,
        name: str,
        energy: float = 8000.0,
        d_spacing: float = 3.1356,
        low_limit: float = 2500.0,
        high_limit: float = 30000.0,
    ) -> None:
        if not low_limit < high_limit:
            raise ValueError(f"low_limit {low_limit} must be below high_limit {high_limit}")
        self.name = name
        self.d_spacing = d_spacing
        self.limits = (low_limit, high_limit)
        self._energy = float(energy)
        self._timestamp = time.time()
        self._check(self._energy)

    def _check(self, energy: float) -> None:
        low, high = self.limits
        if not low <= energy <= high:
            raise LimitError(
                f"{self.name}: energy {energy} eV is outside the limits [{low}, {high}] eV"
            )

    @property
    def theta(self) -> float:
        """The Bragg angle in degrees."""
        return math.degrees(math.asin(HC / (2 * self.d_spacing * self._energy)))

    @property
    def hints(self) -> dict[str, list[str]]:
        return {"fields": [self.name]}

    def set(self, value: float) -> Status:
        self._check(float(value))
        self._energy = float(value)
        self._timestamp = time.time()
        return finished_status(self)

    def locate(self) -> dict[str, float]:
        return {"setpoint": self._energy, "readback": self._energy}

    def read(self) -> dict[str, dict[str, Any]]:
        return {
            self.name: {"value": self._energy, "timestamp": self._timestamp},
            f"{self.name}_theta": {"value": self.theta, "timestamp": self._timestamp},
        }

    def describe(self) -> dict[str, dict[str, Any]]:
        source = f"SIM:{self.name}"
        low, high = self.limits
        return {
            self.name: {
                "source": source,
                "dtype": "number",
                "shape": [],
                "units": "eV",
                "precision": 2,
                "limits": {"control": {"low": low, "high": high}},
            },
            f"{self.name}_theta": {
                "source": source,
                "dtype": "number",
                "shape": [],
                "units": "deg",
                "precision": 5,
            },
        }

    def read_configuration(self) -> dict[str, dict[str, Any]]:
        return {f"{self.name}_d_spacing": {"value": self.d_spacing, "timestamp": self._timestamp}}

    def describe_configuration(self) -> dict[str, dict[str, Any]]:
        key = f"{self.name}_d_spacing"
        return {key: {"source": f"SIM:{self.name}", "dtype": "number", "shape": [], "units": "Å"}}


class IonChamber:
    """An ion chamber behind a sample: its current drops across the sample's absorption edge.

    :param name: the device's name.
    :param mono: the monochromator whose energy the beam has (a device name in a profile).
    :param edge: the sample's absorption edge in eV.
    :param flux: photons per second reaching the chamber below the edge.
    :param edge_jump: absorption length added above the edge (0 for no edge).
    """

    parent = None

    def __init__(
        self,
        name: str,
        mono: Readable,
        edge: float = 7112.0,
        flux: float = 1e9,
        edge_jump: float = 1.0,
    ) -> None:
        self.name = name
        self.mono = mono
        self.edge = edge
        self.flux = flux
        self.edge_jump = edge_jump
        self._value = 0.0
        self._timestamp = time.time()

    @property
    def hints(self) -> dict[str, list[str]]:
        return {"fields": [self.name]}

    def _energy(self) -> float:
        reading = self.mono.read()
        return float(reading[self.mono.name]["value"])  # type: ignore[index]

    def trigger(self) -> Status:
        energy = self._energy()
        # a smoothed step: arctan edge 2 eV wide, plus a slow pre-edge slope
        step = 0.5 + math.atan((energy - self.edge) / 2.0) / math.pi
        absorption = 0.2 * (self.edge / energy) ** 3 + self.edge_jump * step
        self._value = self.flux * math.exp(-absorption)
        self._timestamp = time.time()
        return finished_status(self)

    def read(self) -> dict[str, dict[str, Any]]:
        return {self.name: {"value": self._value, "timestamp": self._timestamp}}

    def describe(self) -> dict[str, dict[str, Any]]:
        return {
            self.name: {
                "source": f"SIM:{self.name}",
                "dtype": "number",
                "shape": [],
                "units": "1/s",
            }
        }

    def read_configuration(self) -> dict[str, dict[str, Any]]:
        return {}

    def describe_configuration(self) -> dict[str, dict[str, Any]]:
        return {}
