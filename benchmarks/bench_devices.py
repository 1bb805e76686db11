"""Device-model costs, printed (not asserted): reads, instant moves, trigger+read per point.

Run: ``.venv/bin/python benchmarks/bench_devices.py [--quick]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable

from cielo.devices import Device, Kind, SoftSignal, connect_all
from cielo.devices.sim import SimAreaDetector, SimMotor, SimPeakDetector


def measure(fn: Callable[[], object], n: int, repeat: int = 5) -> float:
    """Median seconds per call of ``fn`` over ``repeat`` batches of ``n`` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - t0) / n)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    n = 2_000 if parser.parse_args().quick else 20_000

    sig = SoftSignal(1.0, name="sig")
    motor = SimMotor(name="motor")
    det = SimPeakDetector([motor], name="det", noise="gaussian", noise_level=0.01, seed=0)
    positions = iter(range(10**9))

    def move() -> None:
        motor.set(float(next(positions) % 10))

    def point() -> None:
        det.trigger()
        det.read()

    def point_with_move() -> None:
        motor.set(float(next(positions) % 10)).wait()
        det.trigger().wait()
        motor.read()
        det.read()

    rows = [
        ("SoftSignal.read()", measure(sig.read, n)),
        ("SoftSignal.put()", measure(lambda: sig.put(2.0), n)),
        ("det.read() (peak detector)", measure(det.read, n)),
        ("det.describe()", measure(det.describe, n)),
        ("motor.read()", measure(motor.read, n)),
        ("motor.set() instant (status done)", measure(move, n)),
        ("det.trigger() + det.read()", measure(point, n)),
        ("set+wait, trigger+wait, read motor+det", measure(point_with_move, n)),
    ]

    class Wide(Device):
        def __init__(self, name: str = "") -> None:
            for i in range(20):
                setattr(self, f"ch{i:02d}", SoftSignal(float(i), kind=Kind.normal))
            super().__init__(name=name)

    wide = Wide(name="wide")
    rows.append(("read() of a 20-signal device", measure(wide.read, n // 4)))
    many = [Wide(name=f"w{i}") for i in range(50)]
    rows.append(
        ("connect_all(50 devices, 1000 signals)", measure(lambda: connect_all(many), 20, 3))
    )

    with tempfile.TemporaryDirectory() as tmp:
        camera = SimAreaDetector(name="camera", directory=tmp, width=64, height=48, seed=0)
        camera.stage()

        def frame() -> None:
            camera.trigger()
            camera.read()
            list(camera.collect_asset_docs())

        rows.append(("camera frame 64x48 to HDF5 + docs", measure(frame, max(n // 20, 100), 3)))
        camera.unstage()

    width = max(len(name) for name, _ in rows)
    print(f"{'operation':<{width}}  {'µs/call':>9}  {'calls/s':>10}")
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds * 1e6:9.2f}  {1 / seconds:10,.0f}")


if __name__ == "__main__":
    main()
