"""Every standard plan that takes only text-describable parameters runs from text."""

from __future__ import annotations

import pytest

from cielo.cli import run_plan_text
from cielo.core import PlanParameterError

TEXTS = [
    "count([det, det2], 3, [0.01, 0.01])",
    "count([det], num=2, delay=0.01, md={'operator': 'me'})",
    "scan([det], motor, -1, 1, num=5)",
    "rel_scan([det], motor, -1, 1, num=3)",
    "inner_product_scan([det2], 3, motor1, 0, 1, motor2, 1, 0)",
    "list_scan([det], motor, [0, 0.5, 1.5])",
    "rel_list_scan([det], motor, [0, 0.5])",
    "log_scan([det], motor, -1, 0, 3)",
    "rel_log_scan([det], motor, -1, 0, 3)",
    "grid_scan([det2], motor1, -1, 1, 3, motor2, -1, 1, 3, snake_axes=True)",
    "grid_scan([det2], motor1, -1, 1, 2, motor2, -1, 1, 3, snake_axes=[motor2])",
    "rel_grid_scan([det2], motor1, -1, 1, 2, motor2, -1, 1, 2)",
    "list_grid_scan([det2], motor1, [0, 1], motor2, [2, 3, 4])",
    "rel_list_grid_scan([det2], motor1, [0, 1], motor2, [2, 3], snake_axes=True)",
    "scan_nd([det2], {'motor1': [0, 1, 2], 'motor2': [3, 4, 5]})",
    "spiral([det2], motor1, motor2, 0, 0, 1, 1, 0.3, 4)",
    "rel_spiral([det2], motor1, motor2, 1, 1, 0.3, 4, tilt=0.1)",
    "spiral_fermat([det2], motor1, motor2, 0, 0, 1, 1, 0.3, 1.5)",
    "rel_spiral_fermat([det2], motor1, motor2, 1, 1, 0.3, 1.5)",
    "spiral_square([det2], motor1, motor2, 0, 0, 1, 1, 3, 3)",
    "rel_spiral_square([det2], motor1, motor2, 1, 1, 3, 3)",
    "adaptive_scan([det], 'det', motor, -2, 2, 0.1, 1.0, 0.1, True)",
    "rel_adaptive_scan([det], 'det', motor, -1, 1, 0.1, 0.5, 0.1, False, 0.5)",
    "tune_centroid([det], 'det', motor, -2, 2, 0.05, num=7)",
    "fly([flyer])",
]


@pytest.mark.parametrize("text", TEXTS, ids=[t.split("(")[0] + str(i) for i, t in enumerate(TEXTS)])
def test_runs_from_text(env, text, validate, monkeypatch, tmp_path):
    monkeypatch.setenv("CIELO_STATE_DIR", str(tmp_path))
    docs: list[tuple[str, dict]] = []
    uids = run_plan_text(env, text, quiet=True, subscribers=[lambda n, d: docs.append((n, d))])
    assert len(uids) == 1
    for name, doc in docs:
        validate(name, doc)
    stop = [d for n, d in docs if n == "stop"][0]
    assert stop["exit_status"] == "success"
    assert sum(stop["num_events"].values()) > 0
    start = [d for n, d in docs if n == "start"][0]
    assert start["plan_name"] == text.split("(")[0]


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("scan([motor], det, -1, 1, num=3)", r"'args\[0\]' got 'det'.*not Movable"),
        ("grid_scan([det2], motor1, -1, 1, 3.5, motor2, 0, 1, 2)", "positive integer"),
        ("rel_grid_scan([det2], motor1, -1, 1, 3, motor2, -1, 1)", r"^rel_grid_scan: .*got 7"),
        ("count([det], num='three')", r"'num' got 'three'"),
        ("count(det)", r"'detectors'.*put it in a list"),
        ("spiral([det2], motor1, motor2, 0, 0, 1, 1, 0, 4)", "dr=0 must be positive"),
        ("ramp_plan(None, beam_current, None)", r"'go_plan'.*a plan \(generator\)"),
        ("scan_nd([det], {'det': [1, 2]})", r"'cycler'.*'det' cannot be moved"),
    ],
)
def test_bad_text_is_refused_before_anything_moves(env, text, pattern, tmp_path, monkeypatch):
    monkeypatch.setenv("CIELO_STATE_DIR", str(tmp_path))
    before = {n: env.devices[n].position for n in ("motor", "motor1", "motor2")}
    with pytest.raises(PlanParameterError, match=pattern):
        run_plan_text(env, text, quiet=True)
    assert {n: env.devices[n].position for n in before} == before


def test_tweak_runs_from_text_asking_on_the_terminal(env, validate, monkeypatch, tmp_path):
    monkeypatch.setenv("CIELO_STATE_DIR", str(tmp_path))
    answers = iter(["", "0.5", "q"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    env.devices["motor"].set(0.0).wait(5)
    docs: list[tuple[str, dict]] = []
    run_plan_text(
        env,
        "tweak(det, 'det', motor, 0.1)",
        quiet=True,
        subscribers=[lambda n, d: docs.append((n, d))],
    )
    for name, doc in docs:
        validate(name, doc)
    events = [d for n, d in docs if n == "event"]
    assert [e["data"]["motor"] for e in events] == pytest.approx([0, 0.1, 0.6])
