"""The catalog schema is versioned; opening an older catalog migrates it in place."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from cielo.storage import SCHEMA_VERSION, SchemaVersionError, migrate, open_catalog, schema_version
from cielo.storage._database import connect


def test_new_catalog_has_the_latest_schema(catalog_uri):
    open_catalog(catalog_uri).close()
    db = connect(catalog_uri)
    assert schema_version(db) == SCHEMA_VERSION
    assert migrate(db) == SCHEMA_VERSION  # nothing left to do
    db.close()


@pytest.mark.parametrize("old", [1, 2])
def test_older_catalog_is_migrated_with_its_runs(catalog_uri, make_run, old):
    db = connect(catalog_uri)
    assert migrate(db, target=old) == 0  # a catalog as that release created it
    db.close()
    from cielo.storage import Catalog, ReaderRegistry, Uid

    old = Catalog(connect(catalog_uri), readers=ReaderRegistry())
    docs = make_run(3, md={"sample": "quartz crystal"})
    with old.writer() as writer:
        for name, doc in docs:
            writer(name, doc)
    assert len(old.search(Uid(docs[0][1]["uid"][:6]))) == 1
    old.close()
    cat = open_catalog(catalog_uri)  # migrates to the latest, full text included
    assert schema_version(cat.db) == SCHEMA_VERSION
    assert [r.uid for r in cat.search("quartz").runs()] == [docs[0][1]["uid"]]
    assert len(cat[-1]["primary"].read()) == 3
    assert [s["uid"] for s in cat.summaries(after=docs[0][1]["uid"])] == []


DATA = Path(__file__).parent / "data"


def test_catalog_file_written_by_schema_2_is_upgraded_in_place(tmp_path):
    """``data/catalog_v2.sqlite`` was written by cielo at commit 9af7f5f (schema 2): three
    ``synthetic_run`` scans (3, 4 and 5 points) with a sample and a temperature each."""
    path = tmp_path / "old.sqlite"
    shutil.copy(DATA / "catalog_v2.sqlite", path)
    before = sqlite3.connect(path).execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    cat = open_catalog(f"sqlite:///{path}")
    assert schema_version(cat.db) == SCHEMA_VERSION
    assert [(s["scan_id"], s["num_events"]) for s in cat.summaries()] == [(1, 5), (2, 6), (3, 7)]  # n + 2 baseline
    assert cat.db.query("SELECT COUNT(*) FROM documents")[0][0] == before
    run = cat.search(sample="LaB6")[-1]
    assert run.start["temperature"] == 300.0 and len(run["primary"].read()) == 5
    assert [r.start["sample"] for r in cat.search("quartz").runs()] == ["quartz crystal"]
    uids = list(cat)
    assert cat[uids[1][:6]].uid == uids[1]  # a prefix, now a range of the uid index
    assert [s["uid"] for s in cat.summaries(after=uids[0])] == uids[1:]
    indexes = {r[0] for r in cat.db.query("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"runs_time_uid", "runs_incomplete"} <= indexes and "runs_time" not in indexes
    replayed = [name for name, _ in run.documents()]
    assert replayed[0] == "start" and replayed[-1] == "stop" and replayed.count("event") == 7


def test_newer_schema_is_refused(catalog_uri):
    cat = open_catalog(catalog_uri)
    with cat.db.transaction():
        cat.db.execute("UPDATE cielo_schema SET version = ?", (SCHEMA_VERSION + 1,))
    cat.close()
    with pytest.raises(
        SchemaVersionError, match=f"schema version {SCHEMA_VERSION + 1}.*upgrade cielo"
    ):
        open_catalog(catalog_uri)


OPEN_AND_WRITE = """
import sys, uuid
from cielo.storage import open_catalog
with open_catalog(sys.argv[1]) as cat, cat.writer() as writer:
    uid = str(uuid.uuid4())
    writer("start", {"uid": uid, "time": 1.0 + int(sys.argv[2]), "scan_id": int(sys.argv[2])})
    writer("stop", {"uid": str(uuid.uuid4()), "run_start": uid, "time": 2.0,
                    "exit_status": "success", "num_events": {}})
"""


def test_processes_create_a_new_catalog_at_once(catalog_uri):
    """The schema is created under a lock: four processes opening one new catalog."""
    import subprocess
    import sys

    procs = [
        subprocess.Popen([sys.executable, "-c", OPEN_AND_WRITE, catalog_uri, str(i)])
        for i in range(4)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    cat = open_catalog(catalog_uri)
    assert schema_version(cat.db) == SCHEMA_VERSION
    assert sorted(s["scan_id"] for s in cat.summaries()) == [0, 1, 2, 3]
