"""Hooks through which plugins offer devices."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from cielo.core.plugins import hookspec

from .types import DeviceFactory

if TYPE_CHECKING:
    from cielo.core import Profile

__all__ = ["cielo_device_types", "cielo_devices"]


@hookspec
def cielo_device_types() -> Mapping[str, DeviceFactory] | None:
    """Offer device types that a profile can build by name.

    Fires once per plugin manager, when the registry of contributions is built.

    :returns: a mapping from a dotted type name (``"sim.motor"``, ``"epics.motor"``)
        to a factory called as ``factory(name=NAME, **params)`` with the parameters of a
        profile's ``[devices.NAME]`` table (less ``type``); the factory returns the
        device. Give the factory a typed signature: it is how profile parameters are
        checked. ``None`` offers nothing. A type name offered by two plugins is an error
        that names both.
    """


@hookspec
def cielo_devices(profile: Profile) -> Mapping[str, object] | Iterable[object] | None:
    """Offer ready-made device instances, in addition to those a profile declares.

    Fires once per loaded profile, after the profile's own devices are built.

    :param profile: the loaded profile (its name, path, metadata and raw tables).
    :returns: devices by name, or an iterable of devices (each named by its ``name``),
        or ``None`` for none. A name that clashes with another device is an error that
        names both sources.
    """
