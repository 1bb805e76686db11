"""The fitting plugin offers live_fit and align_on_peak through the hooks."""

from __future__ import annotations

import numpy as np
import pluggy
import pytest

import cielo.plugins.fitting as plugin
from cielo.callbacks import replay
from cielo.core import PluginHooks
from cielo.core._signature import signature_schema
from cielo.hookspecs import callbacks as callback_specs
from cielo.hookspecs import plans as plan_specs


@pytest.fixture
def hooks():
    pm = pluggy.PluginManager("cielo")
    pm.add_hookspecs(callback_specs)
    pm.add_hookspecs(plan_specs)
    pm.register(plugin, name="fitting")
    return PluginHooks(pm)


def test_offers_live_fit_and_plan(hooks):
    assert list(hooks.callbacks()[0]) == ["live_fit"]
    assert list(hooks.plans()[0]) == ["align_on_peak"]


def test_live_fit_factory(hooks, docs, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    factory = hooks.callbacks()[0]["live_fit"]
    cb = factory(model="gaussian", update_every=4, plot=True, directory=str(tmp_path))
    rng = np.random.default_rng(4)
    run = docs.step_run(
        np.linspace(-2, 2, 33),
        func=lambda x: 3 + 60 * np.exp(-((x - 0.3) ** 2) / 0.5) + rng.normal(0, 1),
    )
    replay(run, cb)
    assert cb.last.success and abs(cb.last.center - 0.3) < 4 * cb.last.center_stderr
    assert len(list(tmp_path.glob("*-det-fit.png"))) == 1
    with pytest.raises(ValueError, match="unknown fit model 'cubic'"):
        factory(model="cubic")


def test_plan_schema(hooks):
    schema = signature_schema(hooks.plans()[0]["align_on_peak"])
    props = schema["properties"]
    assert props["detector"]["x-cielo-device"] == "Readable"
    assert props["motor"]["x-cielo-device"] == "Movable"
    assert props["model"]["enum"] == ["gaussian", "lorentzian", "voigt", "step", "erf"]
    assert schema["required"] == ["detector", "motor", "start", "stop", "num"]
