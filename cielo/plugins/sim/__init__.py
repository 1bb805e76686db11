"""Bundled plugin: simulated devices (motors, detectors, area detector, shutter, beam current, flyer)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cielo.core import hookimpl

from . import _factories

__all__ = ["cielo_device_types"]


@hookimpl
def cielo_device_types() -> Mapping[str, Callable[..., Any]]:
    """The ``sim.*`` device types."""
    return {f"sim.{name}": getattr(_factories, name) for name in _factories.__all__}
