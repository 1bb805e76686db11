"""The cheap entry point behind ``live_fit`` (the fitting modules load on call)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

__all__ = ["live_fit"]


def live_fit(
    *,
    model: str = "gaussian",
    y: str | None = None,
    x: str | None = None,
    update_every: int = 5,
    background: str = "constant",
    init_guess: Mapping[str, float] | None = None,
    stream: str = "primary",
    plot: bool = False,
    directory: str | os.PathLike[str] | None = None,
    filename: str = "{scan_id}-{plan_name}-{field}.png",
    headless: bool | None = None,
    min_interval: float = 0.25,
    sidecar: str | None = None,
    max_load: float | None = 0.2,
    max_nfev: int | None = None,
    fatal: bool = False,
) -> Any:
    """Fit ``model`` to each run's ``y`` against ``x``, refitting every ``update_every`` points.

    ``model``: gaussian, lorentzian, voigt, step (erf) or linear; ``plot``: show data and
    fit (headless PNGs in ``directory``); ``sidecar``: write each run's final fit as JSON
    to this path template (``{uid}``, ``{scan_id}``, ``{plan_name}``). Results are kept
    per run uid on the returned collector (``.results``, ``.last``, ``.current()``).
    ``max_load`` bounds the share of time spent refitting during a run (``None``: refit
    strictly every ``update_every`` points). ``fatal``: re-raise the fit's errors to the
    engine (``RE.callback_errors``; with ``fatal_callback_errors`` the run fails) instead
    of only logging them.
    """
    from ._live_fit import LiveFitCollector

    return LiveFitCollector(
        plot=plot,
        fatal=fatal,
        plot_options=dict(
            directory=directory, filename=filename, headless=headless, min_interval=min_interval
        ),
        model=model,
        y=y,
        x=x,
        update_every=update_every,
        background=background,
        init_guess=init_guess,
        stream=stream,
        sidecar=sidecar,
        max_load=max_load,
        max_nfev=max_nfev,
    )
