"""A busy worker is not a hung one: a plan that holds the interpreter (a long computation
in C, so even the heartbeat thread waits) on a loaded machine is left to finish, while a
stopped worker is still found within 2 s (tests/server/test_faults.py)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cielo.testing import QueueServer

pytestmark = pytest.mark.slow

#: A plugin, installed the way any plugin is (a distribution with a ``cielo.plugins``
#: entry point on the path), whose plan ``hog`` holds the interpreter for ``seconds``.
PLUGIN = '''
"""hog(detectors, seconds): a count, one C call holding the GIL for seconds, a count."""
import math
import re
import time
from collections.abc import Mapping, Sequence

from cielo import hookimpl
from cielo.core.protocols import Readable
from cielo.plans import MsgGenerator
from cielo.plugins.scans import count

BACKTRACK = re.compile(r"(a+)+$")  # exponential in the length of a failing subject


def hold(seconds: float) -> float:
    """One re.match lasting about ``seconds`` (the re module never lets go of the GIL)."""
    n, took = 14, 0.0
    while took < 0.05:
        n += 1
        took = _timed(n)
    took = min(took, _timed(n), _timed(n))  # a call descheduled midway is not the speed
    n += max(0, math.ceil(math.log2(seconds / took)))  # each more 'a' doubles the time
    t0 = time.perf_counter()
    BACKTRACK.match("a" * n + "b")
    return time.perf_counter() - t0


def _timed(n: int) -> float:
    t0 = time.perf_counter()
    BACKTRACK.match("a" * n + "b")
    return time.perf_counter() - t0


def hog(detectors: Sequence[Readable], seconds: float = 3.0) -> MsgGenerator:
    yield from count(detectors)
    print(f"held the interpreter for {hold(seconds):.2f} s", flush=True)
    yield from count(detectors)


def nap(detectors: Sequence[Readable], seconds: float = 60.0) -> MsgGenerator:
    """A count, then sleep in C holding the GIL (a driver call that never returns)."""
    import ctypes

    yield from count(detectors)
    ctypes.PyDLL(None).usleep(int(seconds * 1e6))  # PyDLL keeps the GIL
    yield from count(detectors)


@hookimpl
def cielo_plans() -> Mapping[str, object]:
    return {"hog": hog, "nap": nap}
'''


@pytest.fixture
def served_with_hog(tmp_path: Path) -> Iterator[QueueServer]:
    site = tmp_path / "site"
    (site / "cielo_test_hog-1.0.dist-info").mkdir(parents=True)
    (site / "cielo_test_hog.py").write_text(PLUGIN)
    (site / "cielo_test_hog-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: cielo-test-hog\nVersion: 1.0\n"
    )
    (site / "cielo_test_hog-1.0.dist-info" / "entry_points.txt").write_text(
        "[cielo.plugins]\nhog = cielo_test_hog\n"
    )
    server = QueueServer(tmp_path, open=False)
    path = server.env.get("PYTHONPATH")
    server.env["PYTHONPATH"] = str(site) + (f":{path}" if path else "")
    try:
        yield server.start()
    finally:
        server.stop()


def _burn_cpu(n: int) -> list[subprocess.Popen[bytes]]:
    """``n`` processes spinning on the CPUs (a loaded beamline workstation)."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def test_a_worker_holding_the_interpreter_under_load_is_busy_not_lost(
    served_with_hog: QueueServer,
) -> None:
    served = served_with_hog
    served.open_environment()
    assert "hog" in served.call("/api/plans/allowed")["plans_allowed"]
    item = {"item_type": "plan", "name": "hog", "args": [["det"]], "kwargs": {"seconds": 4.0}}
    assert served.call("/api/queue/item/add", {"item": item})["success"]
    pid = served.status()["worker_pid"]
    burners = _burn_cpu(3)
    try:
        assert served.call("/api/queue/start", {})["success"]
        status = served.wait(
            lambda s: s["manager_state"] == "idle" and s["items_in_history"] == 1, timeout=120
        )
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    result = served.call("/api/history/get")["items"][-1]["result"]
    assert result["exit_status"] == "completed", result["msg"]
    console = served.request("/api/console_output", {"nlines": 50}, method="GET").json()["text"]
    held = [float(line.split()[-2]) for line in console.splitlines() if "held the" in line]
    # the heartbeat thread waited at least this long: twice the 1 s deadline, or more
    assert held and min(held) >= 2.0, console
    assert len(result["run_uids"]) == 2
    assert status["worker_environment_exists"] and status["worker_pid"] == pid
    assert not status["worker_environment_error"]


def test_a_hung_worker_asleep_without_cpu_is_found_within_the_hang_bound(
    served_with_hog: QueueServer,
) -> None:
    """The other side: a worker silent while every thread sleeps and uses no CPU (here a
    C call that sleeps holding the GIL) is declared hung after the hang bound, killed,
    and its item failed."""
    served = served_with_hog
    served.open_environment()
    item = {"item_type": "plan", "name": "nap", "args": [["det"]], "kwargs": {}}
    assert served.call("/api/queue/item/add", {"item": item})["success"]
    assert served.call("/api/queue/start", {})["success"]
    started = time.monotonic()  # the nap begins at once (in the plan's dry run)
    status = served.wait(lambda s: not s["worker_environment_exists"], timeout=60)
    took = time.monotonic() - started
    # Settings: hang_timeout 10 s of silence without CPU, with slack for a loaded machine
    assert 10.0 <= took <= 10.0 + 6.0, f"the hung worker was found after {took:.1f} s"
    assert "sleeps and uses no CPU" in status["worker_environment_error"]
    result = served.call("/api/history/get")["items"][-1]["result"]
    assert result["exit_status"] == "failed" and "stopped answering" in result["msg"]
