"""Fit models by name (Gaussian, Lorentzian, Voigt, step/erf, linear) with initial guesses.

lmfit is imported when a model is built, never when the plugin is registered.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from cielo.callbacks import compute_peak_stats

__all__ = ["BACKGROUNDS", "MODELS", "FitModel", "make_model"]

#: Names accepted by :func:`make_model` (``erf`` is another name for ``step``).
MODELS = ("gaussian", "lorentzian", "voigt", "step", "erf", "linear")
#: Backgrounds added to a peak or step model.
BACKGROUNDS = ("constant", "linear", "none")

_SIGMA_PER_FWHM = 1 / (2 * math.sqrt(2 * math.log(2)))


class FitModel:
    """An lmfit model with a function that guesses its starting parameters from data.

    ``model``: the lmfit model; ``name``: its name in results; ``guess(x, y)``: a
    mapping of parameter name to starting value; ``center``: the name of the parameter
    giving the position of the feature (``None`` for ``linear``).
    """

    def __init__(
        self,
        model: Any,
        name: str,
        guess: Callable[[np.ndarray, np.ndarray], Mapping[str, float]],
        center: str | None = "center",
    ) -> None:
        self.model = model
        self.name = name
        self.guess = guess
        self.center = center

    def __repr__(self) -> str:
        return f"FitModel({self.name!r}, {self.model!r})"


def _background_guess(x: np.ndarray, y: np.ndarray, background: str) -> dict[str, float]:
    if background == "constant":
        return {"c": float(np.min(y))}
    if background == "linear":
        return {"slope": 0.0, "intercept": float(np.min(y))}
    return {}


def _peak_guess(kind: str, background: str) -> Callable[[np.ndarray, np.ndarray], dict[str, float]]:
    def guess(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
        stats = compute_peak_stats(x, y)
        span = float(np.ptp(x)) or 1.0
        base = float(np.min(y)) if background != "none" else 0.0
        height = stats.max[1] - base
        center = stats.cen if math.isfinite(stats.cen) else stats.max[0]
        fwhm = stats.fwhm if math.isfinite(stats.fwhm) and stats.fwhm > 0 else span / 5
        if kind == "lorentzian":
            sigma = fwhm / 2
            amplitude = height * math.pi * sigma
        elif kind == "voigt":
            sigma = fwhm / 3.6
            amplitude = height * sigma * math.sqrt(2 * math.pi)
        else:
            sigma = fwhm * _SIGMA_PER_FWHM
            amplitude = height * sigma * math.sqrt(2 * math.pi)
        return {
            "center": center,
            "sigma": sigma,
            "amplitude": amplitude,
            **_background_guess(x, y, background),
        }

    return guess


def _step_guess(background: str) -> Callable[[np.ndarray, np.ndarray], dict[str, float]]:
    def guess(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
        order = np.argsort(x)
        xs, ys = x[order], y[order]
        edge = max(1, len(xs) // 10)
        left, right = float(np.mean(ys[:edge])), float(np.mean(ys[-edge:]))
        stats = compute_peak_stats(xs, ys if right >= left else -ys, derivative=True)
        deriv = stats.derivative
        center = (
            deriv.cen if deriv is not None and math.isfinite(deriv.cen) else float(np.median(xs))
        )
        width = deriv.fwhm if deriv is not None and math.isfinite(deriv.fwhm) else np.ptp(xs) / 10
        values = {
            "center": center,
            "sigma": max(float(width) / 2, 1e-12),
            "amplitude": right - left,
        }
        if background == "constant":
            values["c"] = left
        elif background == "linear":
            values.update(slope=0.0, intercept=left)
        return values

    return guess


def _linear_guess(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    slope, intercept = np.polyfit(x, y, 1) if len(x) > 1 else (0.0, float(np.mean(y)))
    return {"slope": float(slope), "intercept": float(intercept)}


def make_model(model: str | Any = "gaussian", *, background: str = "constant") -> FitModel:
    """Build a :class:`FitModel` by name, or wrap a user-provided lmfit model.

    ``background`` (``constant``, ``linear`` or ``none``) is added to peak and step
    models. A user model is used as it is; its starting values come from its own
    ``guess`` method when it has one, and from ``init_guess`` given to the fit otherwise.
    """
    if isinstance(model, FitModel):
        return model
    import lmfit
    from lmfit import models

    if not isinstance(model, str):
        if not isinstance(model, lmfit.Model):
            raise TypeError(
                f"model must be one of {list(MODELS)} or an lmfit.Model; got {model!r:.60}"
            )
        user = model

        def user_guess(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
            try:
                params = user.guess(y, x=x)
            except NotImplementedError:
                return {}
            return {k: p.value for k, p in params.items()}

        center = "center" if "center" in model.param_names else None
        return FitModel(model, getattr(model, "name", "user"), user_guess, center)
    kind = model.lower()
    if kind not in MODELS:
        raise ValueError(
            f"unknown fit model {model!r}; choose from {list(MODELS)} or pass an lmfit.Model"
        )
    if background not in BACKGROUNDS:
        raise ValueError(f"unknown background {background!r}; choose from {list(BACKGROUNDS)}")
    if kind == "linear":
        return FitModel(models.LinearModel(), "linear", _linear_guess, center=None)
    if kind in ("step", "erf"):
        base = models.StepModel(form="erf")
        guess = _step_guess(background)
    else:
        base = {
            "gaussian": models.GaussianModel,
            "lorentzian": models.LorentzianModel,
            "voigt": models.VoigtModel,
        }[kind]()
        guess = _peak_guess(kind, background)
    if background == "constant":
        base = base + models.ConstantModel()
    elif background == "linear":
        base = base + models.LinearModel()
    return FitModel(base, kind if kind != "erf" else "step", guess)
