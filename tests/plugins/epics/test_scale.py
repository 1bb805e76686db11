"""Many channels at once: bounded threads, batched control information, fresh reads."""

from __future__ import annotations

import threading
import time

import pytest

from cielo.devices import NotConnectedError, connect_all
from cielo.plugins.epics import EpicsSignal, EpicsSignalRO, read_many

from .conftest import EXTRA_PVS, PREFIX

pytestmark = pytest.mark.epics


def _peak_threads_during(action) -> int:
    """The most threads this process had while ``action()`` ran."""
    peak = [threading.active_count()]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], threading.active_count())
            time.sleep(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        action()
    finally:
        done.set()
        watcher.join()
    return peak[0] - 1  # not the watcher itself


def test_connecting_many_pvs_does_not_start_a_thread_per_pv(ioc):
    good = [EpicsSignalRO(f"{PREFIX}pv:{i}", name=f"pv{i}") for i in range(EXTRA_PVS)]
    missing = [EpicsSignalRO(f"NOPE:scale{i}", name=f"nope{i}") for i in range(50)]
    before = threading.active_count()

    def connect() -> None:
        with pytest.raises(NotConnectedError):
            connect_all(good + missing, timeout=1.0)

    peak = _peak_threads_during(connect)
    # one timer thread for every connection timeout, one control-info thread: a thread
    # per connecting channel would add 150 here
    assert peak - before <= 6, f"{peak - before} threads started to connect 150 PVs"
    assert all(s.connected for s in good)
    readings = read_many(good)
    assert [readings[f"pv{i}"]["value"] for i in range(EXTRA_PVS)] == [
        float(i) for i in range(EXTRA_PVS)
    ]
    keys = good[7].describe()["pv7"]
    assert keys["units"] == "V" and keys["precision"] == 3


def test_a_read_right_after_a_put_is_the_new_value(ioc):
    """Reads are fresh gets by default: never the monitor's older value after a put."""
    ao = EpicsSignal(f"{PREFIX}ao", name="ao")
    watched = EpicsSignal(f"{PREFIX}ao", name="watched", use_monitor=True)
    connect_all([ao, watched], timeout=5)
    for value in (1.5, -2.25, 3.0, 0.0):
        ao.set(value).wait(5)
        assert ao.read()["ao"]["value"] == value
    deadline = time.monotonic() + 5
    while watched.read()["watched"]["value"] != 0.0 and time.monotonic() < deadline:
        time.sleep(0.01)  # the monitor's value follows, a little later
    assert watched.read()["watched"]["value"] == 0.0
