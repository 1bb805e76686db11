"""The simulated peak detector: a Gaussian over motor positions, noise, count time."""

from __future__ import annotations

import math
import statistics
import time

import pytest

from cielo.core import protocols as P
from cielo.devices.sim import SimMotor, SimPeakDetector


def test_reading_follows_motor():
    motor = SimMotor(name="motor")
    det = SimPeakDetector([motor], name="det", center=1.0, sigma=0.5, amplitude=10.0)
    values = {}
    for x in (-1.0, 0.0, 1.0, 2.0):
        motor.set(x).wait(1)
        det.trigger().wait(1)
        values[x] = det.read()["det"]["value"]
    assert values[1.0] == pytest.approx(10.0)
    assert values[0.0] == pytest.approx(10.0 * math.exp(-2.0))
    assert values[0.0] == pytest.approx(values[2.0])
    assert max(values, key=values.get) == 1.0


def test_two_motor_peak():
    m1, m2 = SimMotor(name="m1"), SimMotor(name="m2")
    det = SimPeakDetector([m1, m2], name="det2", center=[1.0, -1.0], sigma=[1.0, 2.0])
    m1.set(1.0).wait(1)
    m2.set(-1.0).wait(1)
    det.trigger().wait(1)
    assert det.read()["det2"]["value"] == pytest.approx(1.0)
    m2.set(1.0).wait(1)
    det.trigger().wait(1)
    assert det.read()["det2"]["value"] == pytest.approx(math.exp(-4.0 / 8.0))


def test_describe_read_config_hints():
    det = SimPeakDetector([SimMotor(name="m")], name="det")
    assert det.read().keys() == det.describe().keys() == {"det"}
    assert det.describe()["det"]["dtype"] == "number"
    assert set(det.read_configuration()) == {
        "det_count_time",
        "det_amplitude",
        "det_background",
        "det_noise_level",
    }
    assert det.read_configuration().keys() == det.describe_configuration().keys()
    assert det.hints == {"fields": ["det"]}
    for proto in (P.Readable, P.Triggerable, P.Configurable, P.HasHints, P.Stageable):
        assert isinstance(det, proto)


def test_noise_is_seeded_and_sized():
    motor = SimMotor(name="m")

    def sample(seed):
        det = SimPeakDetector(
            [motor], name="d", amplitude=100.0, noise="gaussian", noise_level=2.0, seed=seed
        )
        out = []
        for _ in range(400):
            det.trigger()
            out.append(det.read()["d"]["value"])
        return out

    a, b = sample(1), sample(1)
    assert a == b
    assert a != sample(2)
    assert statistics.mean(a) == pytest.approx(100.0, abs=0.5)
    assert statistics.stdev(a) == pytest.approx(2.0, rel=0.2)


def test_poisson_noise_counts():
    det = SimPeakDetector([SimMotor(name="m")], name="d", amplitude=20.0, noise="poisson", seed=3)
    counts = []
    for _ in range(500):
        det.trigger()
        counts.append(det.read()["d"]["value"])
    assert all(float(c).is_integer() and c >= 0 for c in counts)
    assert statistics.mean(counts) == pytest.approx(20.0, rel=0.1)
    assert statistics.variance(counts) == pytest.approx(20.0, rel=0.3)


def test_count_time_takes_real_time():
    det = SimPeakDetector([SimMotor(name="m")], name="d", count_time=0.1)
    t0 = time.monotonic()
    status = det.trigger()
    assert not status.done
    status.wait(1)
    assert time.monotonic() - t0 >= 0.09


def test_bad_parameters_are_named():
    m = SimMotor(name="m")
    with pytest.raises(ValueError, match="at least one motor"):
        SimPeakDetector([], name="d")
    with pytest.raises(ValueError, match="center has 2 values for 1 motors"):
        SimPeakDetector([m], name="d", center=[0.0, 1.0])
    with pytest.raises(ValueError, match="'loud'"):
        SimPeakDetector([m], name="d", noise="loud")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="sigma must be positive"):
        SimPeakDetector([m], name="d", sigma=0.0)
