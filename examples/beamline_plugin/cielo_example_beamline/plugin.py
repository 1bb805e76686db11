"""The cielo plugin of the example beamline: hook implementations only.

cielo imports this module through the ``cielo.plugins`` entry point and registers its
``@hookimpl`` functions. Keep the module cheap to import: import what the hooks return
inside the hooks (and heavy libraries inside your devices' and plans' functions).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from cielo import hookimpl
from cielo.hookspecs import CallbackFactory, DeviceFactory, PlanForm, PlanFunction

from . import PROFILE

#: The one name to change when you copy this template (with the entry-point name in
#: pyproject.toml). Device types are "<PREFIX>.mono"; plans and callbacks of a copy are
#: "<PREFIX>_xafs_scan", "<PREFIX>_run_logbook" (this example's own are unprefixed). Two
#: installed plugins offering the same name make every profile fail to load, so a copy
#: that keeps the example's names clashes with the example while both are installed.
PREFIX = "example_beamline"


def _named(name: str) -> str:
    """A plan or callback name: the example's own plain, a copy's prefixed."""
    return name if PREFIX == "example_beamline" else f"{PREFIX}_{name}"


@hookimpl
def cielo_device_types() -> Mapping[str, DeviceFactory]:
    """Device types a profile builds by name: ``[devices.X] type = "example_beamline.mono"``."""
    from .devices import IonChamber, Monochromator

    return {
        f"{PREFIX}.mono": Monochromator,
        f"{PREFIX}.ion_chamber": IonChamber,
    }


@hookimpl
def cielo_plans() -> Mapping[str, PlanFunction]:
    """Plans users run by name (``cielo run 'xafs_scan([i0], mono, 7112)'``)."""
    from .xafs import xafs_scan

    return {_named("xafs_scan"): xafs_scan}


@hookimpl
def cielo_callbacks() -> Mapping[str, CallbackFactory]:
    """Callbacks a profile subscribes: ``[callbacks.run_logbook] path = "..."``."""
    from .logbook import run_logbook

    return {_named("run_logbook"): run_logbook}


@hookimpl
def cielo_profile_dirs() -> list[Path]:
    """Profiles this package ships, found by name: ``cielo run --profile example_beamline``."""
    return [PROFILE.parent]


@hookimpl
def cielo_plan_forms() -> Mapping[str, PlanForm]:
    """The XAFS scan's own web form, laid out as the beamline's users know it."""
    from .forms import xafs_form

    return {_named("xafs_scan"): xafs_form()}
