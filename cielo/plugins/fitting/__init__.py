"""Bundled plugin: live fitting on lmfit (``live_fit``) and the ``align_on_peak`` plan.

The hook implementations import lmfit, scipy and matplotlib only when a fit, plot or
plan is built, so registering the plugin stays cheap. The fitting classes are
re-exported lazily: ``from cielo.plugins.fitting import LiveFit, FitResult``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from cielo.core import hookimpl
from cielo.hookspecs import CallbackFactory, PlanFunction

from ._align import (  # numpy and cielo only: lmfit loads when a fit runs
    AlignmentError,
    align_on_peak,
)
from ._hooks import live_fit

__all__ = [
    "MODELS",
    "AlignmentError",
    "FitModel",
    "FitResult",
    "LiveFit",
    "LiveFitCollector",
    "LiveFitPlot",
    "align_on_peak",
    "cielo_callbacks",
    "cielo_plans",
    "fit_points",
    "live_fit",
    "make_model",
]

_LAZY = {
    "MODELS": "._models",
    "FitModel": "._models",
    "make_model": "._models",
    "FitResult": "._fit",
    "fit_points": "._fit",
    "LiveFit": "._live_fit",
    "LiveFitCollector": "._live_fit",
    "LiveFitPlot": "._live_fit",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)


@hookimpl
def cielo_callbacks() -> Mapping[str, CallbackFactory]:
    """Offer ``live_fit``."""
    return {"live_fit": live_fit}


@hookimpl
def cielo_plans() -> Mapping[str, PlanFunction]:
    """Offer ``align_on_peak``."""
    plans: dict[str, Any] = {"align_on_peak": align_on_peak}
    return plans
