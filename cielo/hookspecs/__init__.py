"""cielo's hook specifications, one module per extension point, in lifecycle order.

The types plugins annotate their hooks with are public here and in
:mod:`cielo.hookspecs.types` (``from cielo.hookspecs import PlanFunction``).
"""

from . import (
    addhooks,
    agents,
    auth,
    bus,
    callbacks,
    cli,
    commands,
    devices,
    metadata,
    plans,
    profiles,
    readers,
    session,
    suitcases,
    types,
)
from .types import *  # noqa: F403  (the public types, re-exported)

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
    auth,
    commands,
    metadata,
    session,
    profiles,
    cli,
)

__all__ = ["SPEC_MODULES"]
__all__ += types.__all__
