"""Bundled plugin: fly scanning (kickoff/complete/collect of flyers)."""

from __future__ import annotations

from collections.abc import Mapping

from cielo.core import hookimpl
from cielo.hookspecs import PlanFunction

from ._fly import flat_collect_keys, fly

__all__ = ["cielo_plans", "fly", "flat_collect_keys"]


@hookimpl
def cielo_plans() -> Mapping[str, PlanFunction]:
    """Offer ``fly``."""
    return {"fly": fly}
