"""Publisher, Redis and the catalog-ingest consumer in separate processes; the consumer is
killed with SIGKILL mid-run and restarted: every run ends up stored once, whole."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cielo.bus import RedisStream, iter_entries
from cielo.storage import open_catalog

pytestmark = pytest.mark.slow


def cielo(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from cielo.cli import main; sys.exit(main())", *args]


def stored_events(db: Path, uid: str) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        try:
            rows = conn.execute(
                "SELECT first_seq, last_seq FROM documents JOIN runs ON runs.id = documents.run_id"
                " WHERE runs.uid = ? AND first_seq IS NOT NULL",
                (uid,),
            ).fetchall()
        except sqlite3.OperationalError:  # tables not made yet
            return 0
    return sum(last - first + 1 for first, last in rows)


def run_uid_on_bus(stream: RedisStream) -> str | None:
    uids = [k.decode() for k in stream.client.hkeys(stream.runs_key)]
    return uids[0] if uids else None


def test_consumer_killed_mid_run_resumes_with_nothing_lost_or_doubled(stream_uri, tmp_path: Path):
    env = {**os.environ, "CIELO_STATE_DIR": str(tmp_path / "state"), "PYTHONUNBUFFERED": "1"}
    env["CIELO_CATALOG"] = f"sqlite:///{tmp_path / 'acq.db'}"  # the acquiring side's own catalog
    db = tmp_path / "ingested.db"
    ingest = [
        *cielo("catalog", "ingest", "--from-bus", stream_uri, "--uri", f"sqlite:///{db}",
               "--consumer", "ingest-1"),
    ]  # fmt: skip
    consumer = subprocess.Popen([*ingest], env=env, stderr=subprocess.PIPE, text=True)
    publisher = subprocess.Popen(
        cielo("run", "-q", "--publish", stream_uri, "count([det], num=400, delay=0.01)"),
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        stream = RedisStream(stream_uri)
        deadline = time.monotonic() + 60
        uid = None
        while time.monotonic() < deadline:  # kill once some, not all, events are stored
            uid = uid or run_uid_on_bus(stream)
            if uid and stored_events(db, uid) >= 50:
                break
            assert consumer.poll() is None, f"the consumer exited: {consumer.communicate()[1]}"
            time.sleep(0.05)
        assert uid is not None and 0 < stored_events(db, uid) < 400, (
            "the consumer did not start storing"
        )
        consumer.send_signal(signal.SIGKILL)
        consumer.wait(10)
        killed_at = stored_events(db, uid)
        out, err = publisher.communicate(timeout=120)
        assert publisher.returncode == 0, err
        assert out.split() == [uid]
        # a second run published while the consumer is down
        second = subprocess.run(
            cielo("run", "-q", "--publish", stream_uri, "count([det], num=5)"),
            env=env, capture_output=True, text=True, timeout=120, check=True,
        ).stdout.split()  # fmt: skip
        assert stored_events(db, uid) == killed_at < 400  # nothing more while it was down

        restarted = subprocess.run(
            [*ingest, "--idle-exit", "2"], env=env, capture_output=True, text=True, timeout=120
        )
        assert restarted.returncode == 0, restarted.stderr
        # the run cut short was stored again whole; the other one stored once
        assert "2 runs stored, 0 already there, 1 incomplete copies replaced" in restarted.stderr

        with open_catalog(f"sqlite:///{db}", create=False) as catalog:
            assert sorted(catalog) == sorted([uid, *second])  # each run once
            for run_uid in (uid, *second):
                run = catalog[run_uid]
                assert run.exit_status == "success"
                stored = list(run.documents())
                published = list(iter_entries(list(stream.replay(run_uid))))
                assert [n for n, _ in stored] == [n for n, _ in published]
                assert stored == published  # nothing lost, nothing doubled, unchanged
            assert len(catalog[uid]["primary"].read()) == 400
    finally:  # a failed assertion leaves no consumer or publisher running
        for process in (consumer, publisher):
            if process.poll() is None:
                process.kill()
                process.wait(10)
