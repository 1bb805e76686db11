"""The catalog schema is versioned; opening an older catalog migrates it in place."""

from __future__ import annotations

import json
import math
import shutil
import sqlite3
from pathlib import Path

import pytest

from cielo.storage import (
    SCHEMA_VERSION,
    ExitStatus,
    Key,
    SchemaVersionError,
    dumps,
    iter_documents,
    migrate,
    open_catalog,
    schema_version,
)
from cielo.storage._database import connect


def test_new_catalog_has_the_latest_schema(catalog_uri):
    open_catalog(catalog_uri).close()
    db = connect(catalog_uri)
    assert schema_version(db) == SCHEMA_VERSION
    assert migrate(db) == SCHEMA_VERSION  # nothing left to do
    db.close()


DATA = Path(__file__).parent / "data"


def _catalog_v4(uri: str) -> None:
    """At ``uri``, the catalog of ``data/catalog_v4.sqlite``: written by cielo at commit
    1873e93 (schema 4) from the documents in ``data/catalog_v4.jsonl`` (four runs, one left
    without a stop document; list elements repeated, None, a boolean, an integer beyond
    the float range, event pages), its rows copied as they are to either backend."""
    db = connect(uri)
    assert migrate(db, target=4) == 0  # the tables as that release created them
    old = sqlite3.connect(DATA / "catalog_v4.sqlite")
    with db.transaction():
        for table in ("runs", "run_keys", "documents"):
            columns = [r[1] for r in old.execute(f"PRAGMA table_info({table})")]
            if "tsv" in columns:
                columns.remove("tsv")
            rows = old.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
            marks = ", ".join("?" * len(columns))
            db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
    db.close()


def test_catalog_of_schema_4_is_migrated_losing_nothing(catalog_uri):
    _catalog_v4(catalog_uri)
    written = list(iter_documents(DATA / "catalog_v4.jsonl"))
    starts = [doc for name, doc in written if name == "start"]
    cat = open_catalog(catalog_uri)
    assert schema_version(cat.db) == SCHEMA_VERSION
    assert [s["uid"] for s in cat.summaries()] == [s["uid"] for s in starts]
    replayed = [pair for uid in cat for pair in cat[uid].documents()]
    assert json.loads(dumps(replayed)) == json.loads(dumps(written))  # every document, in order
    uid = {s["sample"]: s["uid"] for s in starts}
    assert list(cat.search(Key("tags").contains("powder"))) == [uid["LaB6"]]
    assert list(cat.search(Key("note") == None)) == [uid["LaB6"]]  # noqa: E711
    assert list(cat.search(Key("flag") == True)) == [uid["LaB6"]]  # noqa: E712
    assert list(cat.search(Key("huge") > 2**69)) == [uid["quartz crystal"]]
    assert list(cat.search(Key("temperature") < 100)) == [uid["quartz crystal"]]
    assert list(cat.search(Key("proposal.pi").regex("^ch"))) == [uid["LaB6"]]
    assert list(cat.search("alignment")) == [uid["Si"]]
    assert list(cat.search(ExitStatus("incomplete"))) == [uid["left open"]]
    assert cat[uid["Si"][:6]].uid == uid["Si"]
    assert len(cat[uid["quartz crystal"]]["primary"].read()) == 4
    cat.delete(uid["LaB6"])  # its keys go with it
    assert list(cat.search(Key("tags").contains("powder"))) == []
    assert cat.db.query("SELECT COUNT(*) FROM run_keys WHERE run_id = 1")[0][0] == 0
    cat.close()


def test_catalog_file_written_by_schema_4_is_upgraded_in_place(tmp_path):
    path = tmp_path / "old.sqlite"
    shutil.copy(DATA / "catalog_v4.sqlite", path)
    cat = open_catalog(f"sqlite:///{path}")
    assert schema_version(cat.db) == SCHEMA_VERSION
    assert [s["num_events"] for s in cat.summaries()] == [5, 6, 7, None]
    tables = {r[0] for r in cat.db.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "documents_v5" not in tables and "run_values" not in tables
    columns = {t: [r[1] for r in cat.db.query(f"PRAGMA table_info({t})")] for t in tables}
    assert columns["run_keys"] == ["run_id", "path", "val"]  # (key, elem, typ) numbered
    assert columns["documents"][0] == "run_id"  # an integer, not the run's uid
    assert cat.db.query("SELECT COUNT(*) FROM runs_fts WHERE runs_fts MATCH 'quartz'")[0][0] == 1


def test_catalog_file_written_by_schema_2_is_upgraded_in_place(tmp_path):
    """``data/catalog_v2.sqlite`` was written by cielo at commit 9af7f5f (schema 2): three
    ``synthetic_run`` scans (3, 4 and 5 points) with a sample and a temperature each."""
    path = tmp_path / "old.sqlite"
    shutil.copy(DATA / "catalog_v2.sqlite", path)
    before = sqlite3.connect(path).execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    cat = open_catalog(f"sqlite:///{path}")
    assert schema_version(cat.db) == SCHEMA_VERSION
    assert [(s["scan_id"], s["num_events"]) for s in cat.summaries()] == [
        (1, 5),
        (2, 6),
        (3, 7),
    ]  # n + 2 baseline
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


@pytest.mark.postgresql
def test_postgresql_catalog_of_schema_6_with_nan_metadata_is_migrated(postgres_cluster):
    """A run stored by schema 6 whose start document's text has NaN (which PostgreSQL's
    JSON cannot read) is read from a strict copy; numbers keep their rows."""
    uri = postgres_cluster.new_database()
    db = connect(uri)
    migrate(db, target=6)
    start = '{"uid":"u-1","time":1.0,"sample":"Si","temperature":NaN,"bad":["x",NaN],"t":5}'
    with db.transaction():
        db.execute(
            "INSERT INTO runs (uid, time, start, text) VALUES ('u-1', 1.0, ?, 'u-1 Si')", [start]
        )
        db.execute(
            "INSERT INTO key_paths (key, elem, typ) VALUES ('t', 0, 'n'), ('sample', 0, 's')"
        )
        db.execute(
            "INSERT INTO run_keys (run_id, num, path, txt) SELECT 1, 5, id, NULL FROM key_paths "
            "WHERE key = 't' UNION ALL SELECT 1, NULL, id, 'Si' FROM key_paths WHERE key = 'sample'"
        )
    db.close()
    cat = open_catalog(uri)
    meta = {"uid": "u-1", "time": 1.0, "sample": "Si", "bad": ["x"], "t": 5}
    assert cat.db.query("SELECT meta FROM runs")[0][0] == meta
    assert list(cat.search(sample="Si")) == ["u-1"]
    assert list(cat.search(Key("t") > 4)) == ["u-1"]
    assert list(cat.search(Key("bad").contains("x"))) == ["u-1"]
    assert math.isnan(cat["u-1"].start["temperature"])  # as written
    columns = [r[0] for r in cat.db.query(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'run_keys' "
        "AND table_schema = current_schema() ORDER BY ordinal_position")]  # fmt: skip
    assert columns == ["run_id", "path", "num"]
    cat.close()
