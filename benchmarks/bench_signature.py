"""Cost of checking a plan's parameters at submission, printed (not asserted).

Each row binds one ``scan``/``grid_scan``/``count`` call 10,000 times through
:func:`cielo.core.bind_parameters` (what ``cielo run``, the queue worker, a profile and a
``@validated`` plan called from Python do before anything moves): from text (device names
resolved against a profile's devices) and from Python (device objects), plus building the
JSON schema a form or the queue server shows.

Run: ``.venv/bin/python benchmarks/bench_signature.py [--quick]``
"""

from __future__ import annotations

import argparse

from bench_devices import measure  # the same timing as the other benchmarks

from cielo.core import bind_parameters, signature_schema
from cielo.devices.sim import SimMotor, SimPeakDetector
from cielo.plugins.scans import count, grid_scan, scan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    n = 1_000 if parser.parse_args().quick else 10_000

    m1, m2 = SimMotor(name="m1"), SimMotor(name="m2")
    det = SimPeakDetector([m1], name="det")
    devices = {"m1": m1, "m2": m2, "det": det}
    md = {"sample": "Si", "operator": "me"}

    rows = [
        (
            "scan, text (3 names, 3 numbers, md)",
            measure(
                lambda: bind_parameters(
                    scan, (["det"], "m1", -1, 1), {"num": 11, "md": md}, devices, what="scan"
                ),
                n,
            ),
        ),
        (
            "scan, Python objects",
            measure(
                lambda: bind_parameters(
                    scan, ([det], m1, -1, 1), {"num": 11, "md": md}, None, what="scan"
                ),
                n,
            ),
        ),
        (
            "grid_scan, text (2 motors)",
            measure(
                lambda: bind_parameters(
                    grid_scan, (["det"], "m1", -1, 1, 5, "m2", 0, 2, 3), {}, devices, what="g"
                ),
                n,
            ),
        ),
        (
            "count, text",
            measure(
                lambda: bind_parameters(count, (["det"],), {"num": 5}, devices, what="count"), n
            ),
        ),
        (
            "signature_schema(grid_scan, devices)",
            measure(lambda: signature_schema(grid_scan, devices=devices), max(n // 10, 100)),
        ),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'operation':<{width}}  {'µs/call':>9}  {'calls/s':>10}")
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds * 1e6:>9.1f}  {1 / seconds:>10,.0f}")


if __name__ == "__main__":
    main()
