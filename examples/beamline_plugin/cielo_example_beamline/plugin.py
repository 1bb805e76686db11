"""The cielo plugin of the example beamline: hook implementations only.

cielo imports this module through the ``cielo.plugins`` entry point and registers its
``@hookimpl`` functions. Keep the module cheap to import: import what the hooks return
inside the hooks (and heavy libraries inside your devices' and plans' functions).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cielo import hookimpl


@hookimpl
def cielo_device_types() -> Mapping[str, Callable[..., Any]]:
    """Device types a profile builds by name: ``[devices.X] type = "example_beamline.mono"``."""
    from .devices import IonChamber, Monochromator

    return {
        "example_beamline.mono": Monochromator,
        "example_beamline.ion_chamber": IonChamber,
    }


@hookimpl
def cielo_plans() -> Mapping[str, Callable[..., Any]]:
    """Plans users run by name (``cielo run 'xafs_scan([i0], mono, 7112)'``)."""
    from .xafs import xafs_scan

    return {"xafs_scan": xafs_scan}


@hookimpl
def cielo_callbacks() -> Mapping[str, Callable[..., Any]]:
    """Callbacks a profile subscribes: ``[callbacks.run_logbook] path = "..."``."""
    from .logbook import run_logbook

    return {"run_logbook": run_logbook}
