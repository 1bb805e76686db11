"""Agents on a Gaussian-process model (scikit-learn): Bayesian optimisation over N motors
and uncertainty sampling for maps. Install with ``pip install 'cielo[agents]'``."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["GPAgent", "UncertaintyMapAgent"]


class _GPModel:
    """What both agents share: bounds, the points told, a GP fitted on the unit cube."""

    def __init__(self, bounds: Sequence[Sequence[float]], n_initial: int | None, seed: int) -> None:
        box = np.asarray(bounds, dtype=float)
        if box.ndim != 2 or box.shape[1] != 2 or not np.all(box[:, 0] < box[:, 1]):
            raise ValueError(
                f"{type(self).__name__}: bounds={bounds!r}; give one [low, high] per motor, "
                "low < high"
            )
        self.bounds = box
        self.dims = len(box)
        self.n_initial = n_initial if n_initial is not None else 2 * self.dims + 3
        self.rng = np.random.default_rng(seed)
        self.xs: list[tuple[float, ...]] = []
        self.ys: list[float] = []
        self._gp: Any = None
        self._seeds = self._unscale(_halton(self.n_initial, self.dims, seed))

    def tell(self, x: Any, y: Any) -> None:
        """Record ``y`` measured at ``x`` (a number for one motor, a tuple for several)."""
        point = tuple(float(v) for v in (x if isinstance(x, Sequence) else [x]))
        if len(point) != self.dims:
            raise ValueError(f"{type(self).__name__}: told x={x!r}; expected {self.dims} values")
        self.xs.append(point)
        self.ys.append(float(y))
        self._gp = None

    def snapshot(self) -> dict[str, Any]:
        """The points told and the candidate generator's state, as JSON-able values: an
        agent restored from it asks for the same points this one would."""
        return {"xs": self.xs, "ys": self.ys, "rng": self.rng.bit_generator.state}

    def restore(self, state: dict[str, Any]) -> None:
        """Take the state a :meth:`snapshot` gave (of an agent built the same way)."""
        self.xs = [tuple(float(v) for v in x) for x in state["xs"]]
        self.ys = [float(y) for y in state["ys"]]
        self.rng.bit_generator.state = state["rng"]
        self._gp = None

    def _scale(self, x: Any) -> np.ndarray:
        lo, hi = self.bounds[:, 0], self.bounds[:, 1]
        return (np.asarray(x, dtype=float) - lo) / (hi - lo)

    def _unscale(self, u: np.ndarray) -> np.ndarray:
        lo, hi = self.bounds[:, 0], self.bounds[:, 1]
        return lo + np.asarray(u) * (hi - lo)

    def _initial(self, n: int) -> list[Any]:
        todo = self._seeds[len(self.xs) : self.n_initial]
        return [self._out(p) for p in todo[:n]]

    def _out(self, point: np.ndarray) -> Any:
        values = tuple(float(v) for v in point)
        return values[0] if self.dims == 1 else values

    def _model(self) -> Any:
        if self._gp is None:
            from sklearn.gaussian_process import GaussianProcessRegressor
            from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

            kernel = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
                length_scale=[0.2] * self.dims, length_scale_bounds=(1e-2, 10.0), nu=2.5
            ) + WhiteKernel(1e-6, (1e-10, 1e-1))
            from sklearn.exceptions import ConvergenceWarning

            gp = GaussianProcessRegressor(kernel, normalize_y=True, random_state=0)
            with warnings.catch_warnings():  # a length scale at its bound is no error here
                warnings.simplefilter("ignore", ConvergenceWarning)
                gp.fit(self._scale(self.xs), np.asarray(self.ys))
            self._gp = gp
        return self._gp

    def _candidates(self, count: int) -> np.ndarray:
        return self.rng.random((count, self.dims))

    def _pick(self, scores: np.ndarray, u: np.ndarray, n: int) -> list[Any]:
        """The ``n`` best-scoring candidates, apart from each other and from what was told."""
        chosen: list[np.ndarray] = []
        told = self._scale(self.xs)
        for i in np.argsort(scores)[::-1]:
            others = [*told, *chosen]
            if others and np.min(np.linalg.norm(np.asarray(others) - u[i], axis=1)) < 1e-4:
                continue
            chosen.append(u[i])
            if len(chosen) == n:
                break
        return [self._out(self._unscale(c)) for c in chosen]


class GPAgent(_GPModel):
    """Find the maximum of a signal over N motors by Bayesian optimisation.

    After ``n_initial`` space-filling (Halton) points, it fits a Gaussian process
    (Matérn 5/2 kernel, fitted noise) and asks for the point of largest expected
    improvement, searched among random candidates and candidates close to the best
    point so far. It is done when the largest expected improvement is below
    ``tolerance`` times the spread of the values seen.

    Parameters
    ----------
    bounds
        One ``[low, high]`` per motor.
    n_initial
        Space-filling points before the model steers (default ``2 * dims + 3``).
    tolerance
        Stop when no point is expected to improve by more than this share of the
        values' spread.
    xi
        Exploration margin of the expected improvement (in units of the spread).
    seed
        Seed of the candidate generator, for reproducible runs.
    """

    def __init__(
        self,
        bounds: Sequence[Sequence[float]],
        *,
        n_initial: int | None = None,
        tolerance: float = 1e-3,
        xi: float = 0.0,
        candidates: int = 2000,
        seed: int = 0,
    ) -> None:
        super().__init__(bounds, n_initial, seed)
        self.tolerance, self.xi, self.candidates = float(tolerance), float(xi), int(candidates)

    def ask(self, n: int = 1) -> tuple[list[Any], dict[str, Any]]:
        """The next point(s): space-filling first, then the largest expected improvement."""
        n = max(n, 1)
        if len(self.xs) < self.n_initial:
            return self._initial(n), {"phase": "initial"}
        from scipy.stats import norm

        gp = self._model()
        u = self._local_and_global()
        mean, std = gp.predict(u, return_std=True)
        spread = float(np.ptp(self.ys)) or 1.0
        gain = mean - max(self.ys) - self.xi * spread
        z = np.divide(gain, std, out=np.zeros_like(gain), where=std > 0)
        ei = np.where(std > 0, gain * norm.cdf(z) + std * norm.pdf(z), np.maximum(gain, 0))
        best_ei = float(ei.max())
        if best_ei < self.tolerance * spread:
            return [], {"done": True, "expected_improvement": best_ei}
        return self._pick(ei, u, n), {"phase": "optimise", "expected_improvement": best_ei}

    def _local_and_global(self) -> np.ndarray:
        best = self._scale(self.xs[int(np.argmax(self.ys))])
        local = best + self.rng.normal(0.0, 0.02, (self.candidates // 2, self.dims))
        return np.clip(np.vstack([self._candidates(self.candidates), local]), 0.0, 1.0)

    def report(self) -> dict[str, Any]:
        """The best point measured, and the maximum of the model's mean (``optimum_x``)."""
        out: dict[str, Any] = {"points": len(self.xs), "best_x": None, "best_y": None}
        if not self.xs:
            return out
        i = int(np.argmax(self.ys))
        out.update(best_x=self._out(np.asarray(self.xs[i])), best_y=self.ys[i])
        if len(self.xs) >= self.n_initial:
            u = self._local_and_global()
            mean = self._model().predict(u)
            j = int(np.argmax(mean))
            out.update(optimum_x=self._out(self._unscale(u[j])), optimum_y=float(mean[j]))
        return out


class UncertaintyMapAgent(_GPModel):
    """Map a signal over a region (2-D or more) by measuring where the model knows least.

    After ``n_initial`` space-filling points it fits a Gaussian process and asks for the
    point of largest predictive standard deviation. It is done when that is below
    ``tolerance`` times the spread of the values seen.

    Parameters
    ----------
    bounds
        One ``[low, high]`` per motor.
    n_initial
        Space-filling points before the model steers.
    tolerance
        Stop when the model's largest standard deviation is below this share of the
        values' spread.
    """

    def __init__(
        self,
        bounds: Sequence[Sequence[float]],
        *,
        n_initial: int | None = None,
        tolerance: float = 0.02,
        candidates: int = 1000,
        seed: int = 0,
    ) -> None:
        super().__init__(bounds, n_initial, seed)
        self.tolerance, self.candidates = float(tolerance), int(candidates)

    def ask(self, n: int = 1) -> tuple[list[Any], dict[str, Any]]:
        """The next point(s): space-filling first, then where the model is least sure."""
        n = max(n, 1)
        if len(self.xs) < self.n_initial:
            return self._initial(n), {"phase": "initial"}
        u = self._candidates(self.candidates)
        _, std = self._model().predict(u, return_std=True)
        spread = float(np.ptp(self.ys)) or 1.0
        worst = float(std.max())
        if worst < self.tolerance * spread:
            return [], {"done": True, "max_std": worst}
        return self._pick(std, u, n), {"phase": "map", "max_std": worst}

    def predict(self, x: Any) -> tuple[np.ndarray, np.ndarray]:
        """The map's mean and standard deviation at the points ``x`` (one row per point)."""
        mean, std = self._model().predict(self._scale(np.atleast_2d(x)), return_std=True)
        return np.asarray(mean), np.asarray(std)

    def report(self) -> dict[str, Any]:
        """How many points, and the largest value measured and where."""
        out: dict[str, Any] = {"points": len(self.xs), "best_x": None, "best_y": None}
        if self.xs:
            i = int(np.argmax(self.ys))
            out.update(best_x=self._out(np.asarray(self.xs[i])), best_y=self.ys[i])
        return out


def _halton(count: int, dims: int, seed: int) -> np.ndarray:
    """``count`` scrambled Halton points in the unit cube (space-filling, reproducible)."""
    from scipy.stats import qmc

    return np.asarray(qmc.Halton(d=dims, scramble=True, seed=seed).random(count))
