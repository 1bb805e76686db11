"""The fitting plugin offers live_fit and align_on_peak through the hooks."""

from __future__ import annotations

import numpy as np
import pluggy
import pytest

import cielo.plugins.fitting as plugin
from cielo.callbacks import replay
from cielo.core import signature_schema
from cielo.core.plugins import PluginHooks
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


def test_fatal_live_fit_errors_fail_the_run_on_the_engine(hooks):
    """A broken live fit is logged and the run goes on; with ``fatal = true`` (and an
    engine whose callback errors are fatal) the run fails with the fit's error."""
    from cielo.core import RunEngineError
    from cielo.devices.sim import SimMotor
    from cielo.plugins.scans import scan
    from cielo.testing import DocumentCollector, make_run_engine

    factory = hooks.callbacks()[0]["live_fit"]
    motor = SimMotor(name="motor")
    for fatal in (False, True):
        fit = factory(fatal=fatal)
        docs = DocumentCollector(validate=True)
        with make_run_engine(fatal_callback_errors=True) as RE:
            RE.subscribe(fit)
            RE.subscribe(docs)
            plan = scan([], motor, -1, 1, 3)  # no detector: nothing for the fit to fit
            if fatal:
                with pytest.raises(RunEngineError, match="no detector field to fit"):
                    RE(plan)
                assert [e.name for e in RE.callback_errors] == ["descriptor"]
                assert RE.callback_errors[0].callback == "LiveFitCollector('live_fit')"
            else:
                RE(plan)
                assert RE.callback_errors == []
        assert "no detector field to fit" in str(fit.failures[0])
        assert fit.failures[0].document_name == "descriptor"
        assert docs.stop["exit_status"] == ("fail" if fatal else "success")
