"""A plan uses a buffered live fit's result: it waits for the callback, the engine goes on."""

from __future__ import annotations

import time

import pytest

import cielo
from cielo.callbacks import wait_until
from cielo.core import StatusTimeoutError
from cielo.plans import close_run, mv, open_run, trigger_and_read
from cielo.plugins.fitting import LiveFitCollector


def scan_then_use_fit(det, motor, fit, points):
    uid = yield from open_run({"plan_name": "scan_then_use_fit", "motors": [motor.name]})
    for x in points:
        yield from mv(motor, x)
        yield from trigger_and_read([motor, det])
    yield from close_run()
    yield from wait_until(lambda: uid in fit.results, what="the live fit")
    result = fit.results[uid]
    yield from mv(motor, result.center)
    return result


def test_plan_waits_for_a_slow_buffered_fit(RE):
    env = cielo.load_profile("sim")
    det, motor = env.devices["det"], env.devices["motor"]
    fit = LiveFitCollector(model="gaussian", update_every=5)

    def slow(name, doc):  # a slow subscriber in front of the fit: it lags behind the plan
        time.sleep(0.01)
        fit(name, doc)

    RE.subscribe(slow)
    result = RE(scan_then_use_fit(det, motor, fit, [-2 + 0.25 * i for i in range(17)]))
    assert result.plan_result.success
    assert motor.position == pytest.approx(0.0, abs=1e-6)


def test_wait_until_times_out_with_a_clear_error(RE):
    def plan():
        yield from wait_until(lambda: False, timeout=0.05, what="a result that never comes")

    with pytest.raises(StatusTimeoutError, match="a result that never comes"):
        RE(plan())
