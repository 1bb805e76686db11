"""align_on_peak on cielo's RunEngine with the sim beamline: fit, record, move or refuse."""

from __future__ import annotations

import pytest

import cielo
from cielo.devices.sim import SimMotor, SimPeakDetector
from cielo.plugins.fitting import AlignmentError, align_on_peak
from cielo.plugins.fitting import align_on_peak as offered_plan
from cielo.testing import DocumentCollector

CENTER, SIGMA, AMP, BG = 0.42, 0.55, 1000.0, 20.0


@pytest.fixture
def collected(RE):
    """Validated documents of the shared ``RE`` (``docs`` is the synthetic set here)."""
    collector = DocumentCollector(validate=True)
    RE.subscribe(collector)
    return collector


@pytest.fixture
def beamline():
    motor = SimMotor(name="motor")
    det = SimPeakDetector(
        [motor],
        name="det",
        center=CENTER,
        sigma=SIGMA,
        amplitude=AMP,
        background=BG,
        noise="gaussian",
        noise_level=5.0,
        seed=11,
    )
    return motor, det


def analysis_event(docs, stream="analysis"):
    desc = {d["uid"] for n, d in docs if n == "descriptor" and d["name"] == stream}
    return [d for n, d in docs if n == "event" and d["descriptor"] in desc]


def test_moves_to_the_fitted_peak(RE, collected, beamline, capsys):
    motor, det = beamline
    result = RE(offered_plan(det, motor, -2, 3, 41))
    fit = result.plan_result
    assert fit.success
    # it says where it moved the motor
    said = capsys.readouterr().out.splitlines()
    assert said[-1].startswith(f"align_on_peak: moved motor to {fit.center:.6g} (gaussian centre ")
    # the sim detector's known parameters, recovered within their uncertainties
    for name, truth in {"center": CENTER, "sigma": SIGMA, "height": AMP, "c": BG}.items():
        value, err = fit.params[name]
        assert abs(value - truth) < 4 * err, (name, value, err)
    assert motor.position == pytest.approx(fit.center)
    assert abs(motor.position - CENTER) < 0.01
    # the fit and the peak statistics are stored in the run, as its analysis stream
    fit_events = [e for e in analysis_event(collected) if "fit_center" in e["data"]]
    stats_events = [e for e in analysis_event(collected) if "stats_cen" in e["data"]]
    assert fit_events[0]["data"]["fit_center"] == fit.center
    assert fit_events[0]["data"]["fit_center_stderr"] == fit.center_stderr
    assert fit_events[0]["data"]["fit_moved"] is True
    assert abs(stats_events[0]["data"]["stats_cen"] - CENTER) < 0.05
    start = collected[0][1]
    assert start["plan_name"] == "align_on_peak" and start["motors"] == ["motor"]
    stop = collected[-1][1]
    assert stop["exit_status"] == "success"
    assert stop["num_events"] == {"primary": 41, "analysis": 1}


def test_refuses_when_the_centre_is_outside_the_range(RE, collected, beamline):
    motor, det = beamline
    with pytest.raises(AlignmentError, match="did not move 'motor'") as info:
        RE(align_on_peak(det, motor, -3.0, -0.2, 21))
    assert motor.position == pytest.approx(-0.2)  # still at the scan's last point
    assert info.value.result is not None
    assert [n for n, _ in collected].count("stop") == 1  # the run was recorded
    moved = [e["data"]["fit_moved"] for e in analysis_event(collected) if "fit_moved" in e["data"]]
    assert moved == [False]


def test_refuses_without_a_peak(RE, collected):
    motor = SimMotor(name="motor")
    flat = SimPeakDetector(
        [motor],
        name="flat",
        center=50,
        sigma=0.1,
        amplitude=1,
        background=10,
        noise="gaussian",
        noise_level=1.0,
        seed=3,
    )
    with pytest.raises(AlignmentError, match="no significant peak|fit failed"):
        RE(align_on_peak(flat, motor, -1, 1, 15))
    assert motor.position == pytest.approx(1.0)


def test_move_false_only_records(RE, collected, beamline, capsys):
    motor, det = beamline
    fit = RE(align_on_peak(det, motor, -2, 3, 31, move=False)).plan_result
    assert fit.success and motor.position == pytest.approx(3.0)
    assert "motor left at the scan's end (move=False)" in capsys.readouterr().out


def test_from_the_sim_profile(RE, tmp_path):
    env = cielo.load_profile("sim")
    plan = env.plans["align_on_peak"]
    det, motor = env.devices["det"], env.devices["motor"]
    fit = RE(plan(det, motor, -1.5, 2.5, 21, model="gaussian")).plan_result
    assert fit.success
    assert motor.position == pytest.approx(0.0, abs=1e-3)  # the sim det's peak is at 0
