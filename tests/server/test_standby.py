"""The worker started ahead: ``environment_open`` hands the profile to a process whose
imports are done; the next one starts when the environment closes; a killed manager's
standby is adopted by the next manager."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

pytestmark = pytest.mark.slow

COUNT = {"item_type": "plan", "name": "count", "args": [["det"]], "kwargs": {"num": 2}}


def standby_pid(served: Any) -> int:
    return int(
        served.wait(lambda s: s["worker_standby_pid"] is not None, 120)["worker_standby_pid"]
    )


def test_opening_promotes_the_standby_and_closing_starts_the_next(served: Any) -> None:
    first = standby_pid(served)
    assert served.status()["worker_environment_exists"] is False  # it holds no environment
    started = time.monotonic()
    served.open_environment()
    took = time.monotonic() - started
    status = served.status()
    assert status["worker_pid"] == first, "a fresh process was started, not the standby"
    assert status["worker_standby_pid"] is None
    print(f"environment open from the standby: {took:.2f} s")
    assert served.call("/api/queue/item/add", {"item": COUNT})["success"]
    assert served.call("/api/queue/start", {})["success"]
    served.wait(lambda s: s["manager_state"] == "idle" and s["items_in_history"] == 1)
    result = served.call("/api/history/get")["items"][-1]["result"]
    assert result["exit_status"] == "completed" and len(result["run_uids"]) == 1

    served.call("/api/environment/close", {})
    served.wait(lambda s: not s["worker_environment_exists"])
    second = standby_pid(served)
    assert second != first
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)  # the opened worker ended with its environment
    served.open_environment()
    assert served.status()["worker_pid"] == second


def test_a_killed_managers_standby_is_adopted(served: Any) -> None:
    first = standby_pid(served)
    served.kill()
    served.start()
    assert standby_pid(served) == first
    served.open_environment()
    assert served.status()["worker_pid"] == first
