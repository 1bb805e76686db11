"""An agent that fits a peak model (lmfit) and measures where the fit is least certain."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["PeakFitAgent"]

_MODELS = ("gaussian", "lorentzian", "voigt")


class PeakFitAgent:
    """Refine a peak on one axis: a coarse pass, then points where the fit is least sure.

    It measures ``n_initial`` evenly spaced points over [``low``, ``high``], fits
    ``model`` plus a constant background with lmfit, and then asks for the position
    where the fit's 1-sigma band (``eval_uncertainty``) is widest. It is done when the
    centre's standard error is below ``tolerance`` and at least three points lie within
    two widths of the centre. While no fit converges it measures the middle of the
    widest gap between the points it has.

    Parameters
    ----------
    low, high
        Where the peak may be.
    model
        ``"gaussian"``, ``"lorentzian"`` or ``"voigt"``.
    n_initial
        Points of the coarse pass.
    tolerance
        Wanted standard error of the centre (default: 0.1 % of ``high - low``).
    """

    def __init__(
        self,
        low: float,
        high: float,
        *,
        model: str = "gaussian",
        n_initial: int = 7,
        tolerance: float | None = None,
    ) -> None:
        if not low < high:
            raise ValueError(f"PeakFitAgent: need low < high, got {low} and {high}")
        if model not in _MODELS:
            raise ValueError(f"PeakFitAgent: unknown model {model!r}; use one of {_MODELS}")
        if n_initial < 4:
            raise ValueError(f"PeakFitAgent: n_initial={n_initial}; a peak fit needs at least 4")
        self.low, self.high, self.model = float(low), float(high), model
        self.tolerance = float(tolerance) if tolerance is not None else 1e-3 * (high - low)
        if self.tolerance <= 0:
            raise ValueError(f"PeakFitAgent: tolerance={tolerance} must be positive")
        self._initial = [float(x) for x in np.linspace(self.low, self.high, n_initial)]
        self.xs: list[float] = []
        self.ys: list[float] = []
        self._fit: Any = None

    def tell(self, x: Any, y: Any) -> None:
        """Record the signal ``y`` measured at ``x``; the fit is redone at the next ask."""
        self.xs.append(float(x))
        self.ys.append(float(y))
        self._fit = None

    def snapshot(self) -> dict[str, Any]:
        """The points told, as JSON-able values (see :meth:`restore`)."""
        return {"xs": self.xs, "ys": self.ys}

    def restore(self, state: dict[str, Any]) -> None:
        """Take the state a :meth:`snapshot` gave (of an agent built the same way)."""
        self.xs = [float(x) for x in state["xs"]]
        self.ys = [float(y) for y in state["ys"]]
        self._fit = None

    def ask(self, n: int = 1) -> tuple[list[float], dict[str, Any]]:
        """The next position(s): the coarse pass, then where the fit is least certain."""
        n = max(n, 1)
        todo = [x for x in self._initial if not any(np.isclose(x, self.xs))]
        if todo:
            return todo[:n], {"phase": "coarse"}
        fit = self._refit()
        if fit is None:
            return self._gaps(n), {"phase": "search"}
        center, error, width = self._center(fit)
        near = sum(abs(x - center) <= 2 * width for x in self.xs)
        if error is not None and error < self.tolerance and near >= 3:
            return [], {"done": True, "center": center, "center_err": error}
        grid = np.linspace(self.low, self.high, 801)
        band = np.asarray(fit.eval_uncertainty(x=grid, sigma=1)) if error is not None else None
        if band is None or not np.all(np.isfinite(band)):
            band = np.exp(-((grid - center) ** 2) / (2 * width**2))  # no covariance: near the peak
        spacing = (self.high - self.low) / 800
        for x in self.xs:  # never ask twice for (almost) the same place
            band[np.abs(grid - x) < 2 * spacing] = -np.inf
        order = np.argsort(band)[::-1][:n]
        return [float(grid[i]) for i in order], {"phase": "refine", "center": center}

    def report(self) -> dict[str, Any]:
        """The fitted centre (with its standard error), width and height; ``None`` until a
        fit converged."""
        fit = self._refit() if len(self.xs) >= 4 else None
        out: dict[str, Any] = {"model": self.model, "points": len(self.xs)}
        if fit is None:
            return {**out, "center": None, "center_err": None}
        center, error, width = self._center(fit)
        return {
            **out,
            "center": center,
            "center_err": error,
            "width": width,
            "height": float(fit.params["peak_height"].value),
            "redchi": float(fit.redchi),
        }

    # -- fitting ----------------------------------------------------------------------

    def _refit(self) -> Any:
        if self._fit is not None:
            return self._fit
        import lmfit.models as lm

        x, y = np.asarray(self.xs), np.asarray(self.ys)
        peak = {"gaussian": lm.GaussianModel, "lorentzian": lm.LorentzianModel,
                "voigt": lm.VoigtModel}[self.model](prefix="peak_")  # fmt: skip
        model = peak + lm.ConstantModel(prefix="bg_")
        params = peak.guess(y - y.min(), x=x)
        params.update(model.make_params(bg_c=float(y.min())))
        params["peak_center"].set(min=self.low, max=self.high)
        try:
            fit = model.fit(y, params, x=x, max_nfev=300)  # a hopeless fit gives up fast
        except (ValueError, TypeError):
            return None
        if not fit.success or not self.low <= fit.params["peak_center"].value <= self.high:
            return None
        self._fit = fit
        return fit

    def _center(self, fit: Any) -> tuple[float, float | None, float]:
        center = fit.params["peak_center"]
        width = abs(float(fit.params["peak_sigma"].value)) or (self.high - self.low) / 10
        error = center.stderr
        return float(center.value), (float(error) if error is not None else None), width

    def _gaps(self, n: int) -> list[float]:
        """Middles of the widest gaps, gaps beside the highest values first."""
        seen = dict(zip(self.xs, self.ys, strict=True))
        xs = sorted({self.low, self.high, *self.xs})
        lowest, spread = min(self.ys), (max(self.ys) - min(self.ys)) or 1.0
        ends = [(seen.get(x, lowest) - lowest) / spread for x in xs]
        score = [
            (b - a) * (1 + 2 * max(ya, yb))
            for a, b, ya, yb in zip(xs, xs[1:], ends, ends[1:], strict=False)
        ]
        order = np.argsort(score)[::-1][:n]
        return [float((xs[i] + xs[i + 1]) / 2) for i in order]
