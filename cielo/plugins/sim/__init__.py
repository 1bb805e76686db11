"""Bundled plugin: simulated devices (motors, detectors, area detector, shutter, beam current, flyer)."""

from __future__ import annotations

from collections.abc import Mapping

from cielo.core import hookimpl
from cielo.hookspecs import DeviceFactory

from . import _factories

__all__ = ["cielo_device_types"]


@hookimpl
def cielo_device_types() -> Mapping[str, DeviceFactory]:
    """The ``sim.*`` device types."""
    return {f"sim.{name}": getattr(_factories, name) for name in _factories.__all__}
