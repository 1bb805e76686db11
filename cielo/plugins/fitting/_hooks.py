"""Cheap entry points behind the fitting plugin's names (the work modules load on call)."""

from __future__ import annotations

import os
from collections.abc import Generator, Mapping
from typing import Any, Literal

from cielo.core import Msg
from cielo.core.protocols import Movable, Readable

__all__ = ["align_on_peak", "live_fit"]


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


def align_on_peak(
    detector: Readable,
    motor: Movable,
    start: float,
    stop: float,
    num: int,
    *,
    field: str | None = None,
    model: Literal["gaussian", "lorentzian", "voigt", "step", "erf"] = "gaussian",
    background: Literal["constant", "linear", "none"] = "constant",
    move: bool = True,
    md: dict[str, Any] | None = None,
) -> Generator[Msg, Any, Any]:
    """Scan a motor over a peak, fit it, record the fit in the run and move to its centre.

    Refuses to move (raising ``AlignmentError``) when the fit failed or its centre lies
    outside the scanned range. See :func:`cielo.plugins.fitting._align.align_on_peak`.

    Parameters
    ----------
    detector : Readable
        The detector to read at each point.
    motor : Movable
        The motor to scan and then move.
    start, stop : float
        The scanned range (inclusive).
    num : int
        Number of points.
    field : str, optional
        The detector field to fit (default: its first hinted field).
    model : {"gaussian", "lorentzian", "voigt", "step", "erf"}
        The peak (or edge) shape.
    background : {"constant", "linear", "none"}
        Background added to the shape.
    move : bool
        Move to the fitted centre (``False``: only fit and record).
    md : dict, optional
        Metadata for the run-start document.
    """
    from ._align import align_on_peak as plan

    return (
        yield from plan(
            detector,
            motor,
            start,
            stop,
            num,
            field=field,
            model=model,
            background=background,
            move=move,
            md=md,
        )
    )
