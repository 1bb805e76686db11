"""The live catalog writer: batching, freshness, durability, and crash recovery."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cielo.storage import CatalogError, open_catalog

CRASHING_PLAN = textwrap.dedent(
    """
    import sys
    from cielo import load_profile
    from cielo.testing import make_run_engine

    env = load_profile("sim")  # CIELO_CATALOG (set by the test) turns the catalog writer on
    with env.make_subscribers() as subscribers, make_run_engine(plugin_manager=env.pm) as RE:
        RE.subscribe(subscribers["catalog"])
        RE(env.plans["count"]([env.devices["det"], env.devices["motor"]], num=100_000, delay=0.002))
    """
)

CRASHING_WRITER = textwrap.dedent(
    """
    import importlib.util, sys, time
    from cielo.storage import open_catalog

    spec = importlib.util.spec_from_file_location("synthetic", sys.argv[2])
    synthetic = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(synthetic)
    writer = open_catalog(sys.argv[1]).writer(batch_size=1000, max_delay=0.05)
    for name, doc in synthetic.synthetic_run(20_000, scan_id=7, stop=True):
        writer(name, doc)
        if name == "event":
            time.sleep(0.002)  # a long plan, killed long before its end
    """
)


def test_crashed_writer_leaves_an_incomplete_run(catalog_uri, validate, make_run):
    synthetic = Path(__file__).with_name("synthetic.py")
    proc = subprocess.Popen([sys.executable, "-c", CRASHING_WRITER, catalog_uri, str(synthetic)])
    try:
        cat = open_catalog(catalog_uri)
        deadline = time.monotonic() + 120  # (a loaded machine: ~30 s before the first event)
        while time.monotonic() < deadline:
            if len(cat) and "primary" in cat[-1] and len(cat[-1]["primary"].read(["det"])) >= 50:
                break
            assert proc.poll() is None, "the writing process ended before it was killed"
            time.sleep(0.05)
        else:
            pytest.fail("the writing process stored no events in 120 s")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    cat = open_catalog(catalog_uri)
    run = cat[7]
    assert run.stop is None and run.exit_status == "incomplete"
    assert cat.summaries()[0]["exit_status"] == "incomplete"
    assert len(cat.search({"exit_status": "incomplete"})) == 1
    docs = list(run.documents())
    for name, doc in docs:
        validate(name, doc)
    seq = [
        d["seq_num"]
        for n, d in docs
        if n == "event" and d["descriptor"] == run["primary"].descriptors[0]["uid"]
    ]
    assert len(seq) >= 50 and seq == list(range(1, len(seq) + 1))  # nothing missing in between
    assert len(run["primary"].read()) == len(seq)
    with cat.writer() as writer:  # the catalog takes new runs after the crash
        for name, doc in make_run(3, scan_id=8):
            writer(name, doc)
    assert [s["exit_status"] for s in cat.sorted("scan_id").summaries()] == [
        "incomplete",
        "success",
    ]
    assert len(cat[7]["primary"].read()) == len(seq)


def test_killed_run_engine_leaves_an_incomplete_run(catalog_uri, validate):
    """A real plan on cielo's RunEngine, writing through the sim profile's catalog."""
    env = {**os.environ, "CIELO_CATALOG": catalog_uri}
    proc = subprocess.Popen([sys.executable, "-c", CRASHING_PLAN], env=env)
    try:
        cat = open_catalog(catalog_uri)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, "the plan ended on its own"
            if len(cat) and "primary" in cat[-1] and len(cat[-1]["primary"].read(["det"])) >= 30:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the RunEngine process stored no events in 60 s")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    run = open_catalog(catalog_uri)[-1]
    assert run.stop is None and run.exit_status == "incomplete"
    assert run.start["plan_name"] == "count"
    docs = list(run.documents())
    for name, doc in docs:
        validate(name, doc)
    seq = [d["seq_num"] for n, d in docs if n == "event"]
    assert len(seq) >= 30 and seq == list(range(1, len(seq) + 1))
    table = run["primary"].read()
    assert list(table.index) == seq and {"det", "motor"} <= set(table.columns)


def test_events_are_committed_within_max_delay(catalog_uri, make_run):
    cat = open_catalog(catalog_uri)
    writer = cat.writer(batch_size=10_000, max_delay=0.1)
    docs = make_run(5)
    for name, doc in docs[:-2]:  # leave the run open
        writer(name, doc)
    reader = open_catalog(catalog_uri)
    deadline = time.monotonic() + 5
    while len(reader[-1]["primary"].read()) < 5:
        assert time.monotonic() < deadline, "buffered events were not committed in time"
        time.sleep(0.02)
    for name, doc in docs[-2:]:
        writer(name, doc)
    assert reader[-1].exit_status == "success"  # the stop is committed at once
    writer.close()


def test_stop_makes_the_run_durable_without_close(catalog_uri, make_run):
    cat = open_catalog(catalog_uri)
    writer = cat.writer(batch_size=10_000, max_delay=0)  # no background flushing at all
    for name, doc in make_run(20):
        writer(name, doc)
    other = open_catalog(catalog_uri)
    run = other[-1]
    assert run.exit_status == "success" and len(run["primary"].read()) == 20
    assert other.summaries()[0]["num_events"] == 22


def test_closed_writer_refuses_documents(catalog_uri, make_run):
    writer = open_catalog(catalog_uri).writer()
    writer.close()
    with pytest.raises(CatalogError, match="closed"):
        writer(*make_run(1)[0])


def test_start_with_unknown_name_is_reported(catalog_uri, make_run):
    writer = open_catalog(catalog_uri).writer()
    docs = make_run(1)
    writer(*docs[0])
    with pytest.raises(ValueError, match="unknown document name .bogus."):
        writer("bogus", {"descriptor": "x", "run_start": docs[0][1]["uid"], "uid": "u"})
    writer.close()
    assert json.dumps(open_catalog(catalog_uri)[-1].start)


CONCURRENT_WRITER = textwrap.dedent(
    """
    import importlib.util, sys
    from cielo.storage import open_catalog

    spec = importlib.util.spec_from_file_location("synthetic", sys.argv[2])
    synthetic = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(synthetic)
    with open_catalog(sys.argv[1]).writer(batch_size=50, max_delay=0.01) as writer:
        for run in range(3):
            for name, doc in synthetic.synthetic_run(400, scan_id=int(sys.argv[3]) * 10 + run):
                writer(name, doc)
    """
)


def test_processes_write_one_catalog_at_once(catalog_uri):
    open_catalog(catalog_uri).close()  # create the schema once, then write from 3 processes
    synthetic = Path(__file__).with_name("synthetic.py")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT_WRITER, catalog_uri, str(synthetic), str(i)]
        )
        for i in range(1, 4)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    cat = open_catalog(catalog_uri)
    assert sorted(s["scan_id"] for s in cat.summaries()) == [10, 11, 12, 20, 21, 22, 30, 31, 32]
    for run in cat.runs():
        assert run.exit_status == "success" and len(run["primary"].read(["det"])) == 400
