"""Bundled plugin: live fitting on lmfit (``live_fit``) and the ``align_on_peak`` plan.

The hook implementations import lmfit, scipy and matplotlib only when a fit, plot or
plan is built, so registering the plugin stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cielo.core import hookimpl
from cielo.hookspecs._types import CallbackFactory, PlanFunction

from ._hooks import align_on_peak, live_fit

__all__ = ["cielo_callbacks", "cielo_plans"]


@hookimpl
def cielo_callbacks() -> Mapping[str, CallbackFactory]:
    """Offer ``live_fit``."""
    return {"live_fit": live_fit}


@hookimpl
def cielo_plans() -> Mapping[str, PlanFunction]:
    """Offer ``align_on_peak``."""
    plans: dict[str, Any] = {"align_on_peak": align_on_peak}
    return plans
