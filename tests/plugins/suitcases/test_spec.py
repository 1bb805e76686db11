"""SPEC export, read back with silx's SPEC file reader."""

from __future__ import annotations

import numpy as np
from silx.io.specfile import SpecFile


def feed(callback, *runs):
    for docs in runs:
        for name, doc in docs:
            callback(name, doc)
    return callback


def test_scan_motor_positions_and_counters(suitcases, make_run, tmp_path):
    docs = make_run(5, scan_id=17)
    cb = feed(suitcases["spec"](directory=tmp_path), docs)
    path = cb.artifacts[docs[0][1]["uid"]]["spec"][0]
    sf = SpecFile(str(path))
    assert len(sf) == 1
    scan = sf[0]
    assert scan.number == 17
    assert scan.labels == ["motor", "Epoch", "motor_setpoint", "det"]
    events = [d for n, d in docs if n == "event" and "det" in d["data"]]
    np.testing.assert_allclose(
        scan.data_column_by_name("motor"), [e["data"]["motor"] for e in events]
    )
    np.testing.assert_allclose(scan.data_column_by_name("det"), [e["data"]["det"] for e in events])
    t0 = docs[0][1]["time"]
    np.testing.assert_allclose(
        scan.data_column_by_name("Epoch"), [e["time"] - t0 for e in events], atol=1e-5
    )
    assert scan.motor_names == ["temperature"]  # positions before the scan, from the baseline
    assert scan.motor_positions == [295.0]
    assert scan.motor_position_by_name("temperature") == 295.0
    assert "scan" in scan.scan_header_dict["S"]


def test_failed_run_is_commented(suitcases, make_run, tmp_path):
    docs = make_run(2, exit_status="abort")
    cb = feed(suitcases["spec"](directory=tmp_path), docs)
    path = cb.artifacts[docs[0][1]["uid"]]["spec"][0]
    scan = SpecFile(str(path))[0]
    assert scan.data.shape == (4, 2)
    assert "run ended: abort" in path.read_text()


def test_runs_appended_to_one_file(suitcases, make_run, tmp_path):
    runs = [make_run(3 + i, scan_id=10 + i, md={"proposal": "p42"}) for i in range(3)]
    cb = feed(suitcases["spec"](directory=tmp_path, file_template="{proposal}", append=True), *runs)
    paths = {p for docs in runs for p in cb.artifacts[docs[0][1]["uid"]]["spec"]}
    assert paths == {tmp_path / "p42.spec"}
    sf = SpecFile(str(tmp_path / "p42.spec"))
    assert [sf[i].number for i in range(len(sf))] == [10, 11, 12]
    assert [sf[i].data.shape[1] for i in range(len(sf))] == [3, 4, 5]
    assert sf[2].motor_position_by_name("temperature") == 295.0


def test_sim_scan_with_baseline_on_the_run_engine(tmp_path, monkeypatch):
    """cielo's RunEngine, a sim scan with the other motors in the baseline, read by silx:
    #P holds their positions before the scan, #L the scanned motor first, det last."""
    from cielo import load_profile
    from cielo.plans import baseline_wrapper
    from cielo.testing import make_run_engine

    monkeypatch.delenv("CIELO_CATALOG", raising=False)
    env = load_profile("sim")
    motor, motor1, motor2, det = (env.devices[n] for n in ("motor", "motor1", "motor2", "det"))
    spec = env.suitcases["spec"](directory=tmp_path)
    with make_run_engine(plugin_manager=env.pm) as RE:
        RE.subscribe(spec)
        motor1.set(0.25).wait(timeout=5)
        motor2.set(-0.5).wait(timeout=5)
        plan = baseline_wrapper(env.plans["scan"]([det], motor, -1, 1, 5), [motor1, motor2])
        (uid,) = RE(plan)
        motor1.set(0.75).wait(timeout=5)  # moved after the run: the file keeps the old value
    scan = SpecFile(str(spec.artifacts[uid]["spec"][0]))[0]
    assert scan.number == 1 and scan.labels[0] == "motor" and scan.labels[-1] == "det"
    assert scan.motor_position_by_name("motor1") == 0.25
    assert scan.motor_position_by_name("motor2") == -0.5
    np.testing.assert_allclose(scan.data_column_by_name("motor"), np.linspace(-1, 1, 5), atol=1e-9)
    expected = np.exp(-0.5 * np.linspace(-1, 1, 5) ** 2)  # the sim peak: center 0, sigma 1
    np.testing.assert_allclose(scan.data_column_by_name("det"), expected, rtol=1e-6)
