"""cielo's hook specifications, one module per extension point, in lifecycle order."""

from . import (
    addhooks,
    agents,
    bus,
    callbacks,
    commands,
    devices,
    metadata,
    plans,
    readers,
    session,
    suitcases,
)

#: Every hookspec module, in the order the reference documents them.
SPEC_MODULES = (
    addhooks,
    devices,
    plans,
    callbacks,
    suitcases,
    readers,
    bus,
    agents,
    commands,
    metadata,
    session,
)

__all__ = ["SPEC_MODULES"]
