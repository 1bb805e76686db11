"""Named fit models recover known parameters within their uncertainties."""

from __future__ import annotations

import math

import lmfit
import numpy as np
import pytest
from scipy.special import erf, voigt_profile

from cielo.plugins.fitting import fit_points, make_model

X = np.linspace(-3, 3, 61)
RNG = np.random.default_rng(7)


def noisy(y, sd=0.5):
    return y + RNG.normal(0, sd, len(y))


def within(result, name, truth, k=4.0):
    value, err = result.params[name]
    assert math.isfinite(err) and err > 0, (name, value, err)
    assert abs(value - truth) < k * err, f"{name}: {value} ± {err}, truth {truth}"


def test_gaussian():
    y = noisy(4 + 50 * np.exp(-((X - 0.4) ** 2) / (2 * 0.6**2)))
    r = fit_points("gaussian", X, y)
    assert r.success and r.model == "gaussian" and r.npoints == 61
    within(r, "center", 0.4)
    within(r, "sigma", 0.6)
    within(r, "c", 4)
    within(r, "height", 50)
    assert r.center == r.value("center") and r.center_stderr == r.stderr("center")
    assert 0.5 < r.redchi / 0.25 < 1.6  # noise variance 0.25


def test_lorentzian_and_voigt():
    lor = 2 + 30 * 0.5**2 / ((X + 0.7) ** 2 + 0.5**2)
    r = fit_points("lorentzian", X, noisy(lor))
    assert r.success
    within(r, "center", -0.7)
    within(r, "sigma", 0.5)
    vo = 1 + 20 * voigt_profile(X - 0.2, 0.3, 0.3)
    r = fit_points("voigt", X, noisy(vo, 0.2))
    assert r.success
    within(r, "center", 0.2)
    within(r, "sigma", 0.3)
    within(r, "amplitude", 20)


@pytest.mark.parametrize("name", ["step", "erf"])
def test_step_rising_and_falling(name):
    rising = 3 + 40 * 0.5 * (1 + erf((X - 0.9) / 0.4))
    r = fit_points(name, X, noisy(rising))
    assert r.success and r.model == "step"
    within(r, "center", 0.9)
    within(r, "amplitude", 40)
    r = fit_points(name, X, noisy(43 - 40 * 0.5 * (1 + erf((X + 1.1) / 0.4))))
    assert r.success
    within(r, "center", -1.1)
    within(r, "amplitude", -40)


def test_linear_and_no_background():
    r = fit_points("linear", X, noisy(2.5 * X - 1))
    within(r, "slope", 2.5)
    within(r, "intercept", -1)
    assert math.isnan(r.center)
    r = fit_points("gaussian", X, noisy(50 * np.exp(-(X**2) / 2)), background="none")
    assert "c" not in r.params
    r = fit_points("gaussian", X, noisy(5 + X + 50 * np.exp(-(X**2) / 2)), background="linear")
    within(r, "slope", 1)


def test_user_model_with_and_without_guess():
    y = noisy(7 * np.exp(-X / 1.5) + 0, 0.05)
    r = fit_points(lmfit.models.ExponentialModel(), X, y, background="none")
    assert r.success
    within(r, "decay", 1.5)

    def shifted_square(x, a=1.0, x0=0.0):
        return a * (x - x0) ** 2

    r = fit_points(
        lmfit.Model(shifted_square), X, noisy(3 * (X - 0.5) ** 2, 0.1), init_guess={"a": 1, "x0": 0}
    )
    within(r, "x0", 0.5)
    within(r, "a", 3)


def test_errors_are_clear():
    with pytest.raises(ValueError, match=r"unknown fit model 'parabola'; choose from \['gaussian'"):
        make_model("parabola")
    with pytest.raises(ValueError, match="unknown background 'cubic'"):
        make_model("gaussian", background="cubic")
    with pytest.raises(TypeError, match="lmfit.Model"):
        make_model(42)
    with pytest.raises(ValueError, match=r"init_guess names \['centre'\]"):
        fit_points("gaussian", X, X, init_guess={"centre": 1})
    r = fit_points("gaussian", [0, 1, 2], [1, 2, 1])
    assert not r.success and "need more points" in r.message
    assert np.isnan(r.evaluate([0.0, 1.0])).all()


def test_result_as_dict_and_evaluate():
    y = 4 + 50 * np.exp(-((X - 0.4) ** 2) / (2 * 0.6**2))
    r = fit_points("gaussian", X, y)
    flat = r.as_dict()
    assert flat["center"] == r.center and flat["center_stderr"] == r.center_stderr
    assert flat["success"] is True and flat["model"] == "gaussian"
    np.testing.assert_allclose(r.evaluate(X), y, atol=1e-6)
