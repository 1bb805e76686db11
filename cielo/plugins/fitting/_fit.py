"""One fit of a model to points, with a plain result that plans and storage can use."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._models import FitModel, make_model

__all__ = ["FitResult", "fit_points"]


@dataclass(frozen=True)
class FitResult:
    """The outcome of a fit: parameters with uncertainties, reduced chi-square, success.

    ``params`` maps each parameter to ``(value, stderr)`` (``stderr`` is ``nan`` when
    lmfit could not estimate it); ``center`` is the fitted position of the feature
    (``nan`` for models without one); ``message`` says why a fit failed. ``lmfit`` holds
    lmfit's own ``ModelResult`` (``None`` when the fit could not run).
    """

    model: str
    success: bool
    message: str
    npoints: int
    params: dict[str, tuple[float, float]]
    redchi: float
    center: float = math.nan
    center_stderr: float = math.nan
    lmfit: Any = field(default=None, repr=False, compare=False)

    def value(self, name: str) -> float:
        """The fitted value of parameter ``name``."""
        return self.params[name][0]

    def stderr(self, name: str) -> float:
        """The standard error of parameter ``name`` (``nan`` if unknown)."""
        return self.params[name][1]

    def evaluate(self, x: Sequence[float] | np.ndarray) -> np.ndarray:
        """The fitted curve at ``x`` (``nan`` everywhere if the fit did not run)."""
        xa = np.asarray(x, dtype=float)
        if self.lmfit is None:
            return np.full_like(xa, np.nan)
        return np.asarray(self.lmfit.eval(x=xa), dtype=float)

    def as_dict(self) -> dict[str, Any]:
        """A flat mapping (``center``, ``center_stderr``, ``redchi``, ``success``, ...)."""
        out: dict[str, Any] = {
            "model": self.model,
            "success": self.success,
            "npoints": self.npoints,
            "redchi": self.redchi,
        }
        for name, (value, err) in self.params.items():
            out[name] = value
            out[f"{name}_stderr"] = err
        return out


def _failed(model: str, n: int, message: str) -> FitResult:
    return FitResult(model, False, message, n, {}, math.nan)


def fit_points(
    model: str | FitModel | Any,
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    *,
    init_guess: Mapping[str, float] | None = None,
    background: str = "constant",
    weights: Sequence[float] | np.ndarray | None = None,
    max_nfev: int | None = None,
) -> FitResult:
    """Fit ``model`` (a name, :class:`FitModel` or lmfit model) to the points ``(x, y)``.

    Starting values come from the model's guess, overridden by ``init_guess``. A fit
    that cannot run (too few points, non-finite data) or does not converge within
    ``max_nfev`` model evaluations (default ``100 * (parameters + 1)``, so a hopeless
    fit stays cheap) returns a result with ``success=False`` and a message, rather than
    raising.
    """
    fm = make_model(model, background=background)
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    keep = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[keep], ya[keep]
    n = len(xa)
    nvary = len(fm.model.param_names)
    if n <= nvary:
        return _failed(fm.name, n, f"{n} finite points for {nvary} parameters: need more points")
    params = fm.model.make_params()
    start = dict(fm.guess(xa, ya))
    start.update(init_guess or {})
    unknown = [k for k in start if k not in params]
    if unknown:
        raise ValueError(
            f"init_guess names {unknown}, not parameters of the {fm.name} model "
            f"({', '.join(params)})"
        )
    missing = [k for k, p in params.items() if p.expr is None and k not in start]
    if missing and not math.isfinite(params[missing[0]].value):
        return _failed(fm.name, n, f"no starting values for {missing}: pass init_guess")
    for k, v in start.items():
        params[k].set(value=v)
    if "sigma" in params and params["sigma"].expr is None:
        params["sigma"].set(min=0)
    try:
        limit = max_nfev if max_nfev is not None else 100 * (nvary + 1)
        result = fm.model.fit(ya, params, x=xa, weights=weights, max_nfev=limit)
    except Exception as exc:  # a fit that blows up is a failed fit, not a crashed scan
        return _failed(fm.name, n, f"fit raised {type(exc).__name__}: {exc}")
    values = {
        k: (float(p.value), float(p.stderr) if p.stderr is not None else math.nan)
        for k, p in result.params.items()
    }
    success = bool(result.success) and all(math.isfinite(v) for v, _ in values.values())
    message = str(result.message) if not success else "fit converged"
    center, center_err = (
        values.get(fm.center, (math.nan, math.nan))
        if fm.center
        else (
            math.nan,
            math.nan,
        )
    )
    return FitResult(
        model=fm.name,
        success=success,
        message=message,
        npoints=n,
        params=values,
        redchi=float(result.redchi),
        center=center,
        center_stderr=center_err,
        lmfit=result,
    )
