"""Counting a condition on one key (schema 11): a path no run holds twice is counted from
its index entries alone; once a run holds two values there (a list's numbers, a dotted
key equal to a nested one) the runs are counted distinct. Exact on both backends, when the
second value comes from another connection too."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest

from cielo.storage import (
    SCHEMA_VERSION,
    Catalog,
    Key,
    dumps,
    iter_documents,
    open_catalog,
    schema_version,
)


def _write(cat: Catalog, starts: list[dict[str, Any]]) -> None:
    with cat.writer(max_delay=0) as writer:
        for i, extra in enumerate(starts):
            uid = str(uuid.uuid4())
            writer("start", {"uid": uid, "time": 1e9 + i, **extra})
            writer("stop", {"uid": str(uuid.uuid4()), "run_start": uid, "time": 2e9,
                            "exit_status": "success", "num_events": {}})  # fmt: skip


def test_counts_of_one_key_stay_exact_when_runs_hold_several_values(catalog_uri):
    cat = open_catalog(catalog_uri)
    _write(cat, [{"temperature": float(t), "level": {"x": t}} for t in range(100)])
    warm = cat.search(Key("temperature") > 89.5)
    assert len(warm) == 10 and warm.count(at_most=4) == 4
    assert cat.db.query("SELECT COUNT(*) FROM key_paths WHERE multi <> 0")[0][0] == 0
    other = open_catalog(catalog_uri)  # a second writer: runs holding several numbers
    _write(other, [
        {"temperature": [95.0, 96.0, 97.0]},  # a list: its elements are another path
        {"level.x": 1000, "level": {"x": 2000}},  # the same path twice in one run
        {"level": {"x": [3000, 4000]}},
    ])  # fmt: skip
    assert len(warm) == 10  # the list's elements are not the scalar path
    assert len(cat.search(Key("temperature").contains(96.0))) == 1
    high = cat.search(Key("level.x") > 500)
    assert len(high) == 1 and high.count(at_most=1) == 1
    assert len(cat.search(Key("level.x") >= 0)) == 101
    multi = {r[0] for r in cat.db.query("SELECT key FROM key_paths WHERE multi <> 0")}
    assert multi == {"level.x", "temperature"}, multi
    _write(cat, [{"level": {"x": 7}}])  # this connection writes after the other's mark
    assert len(cat.search(Key("level.x") >= 0)) == 102
    assert len(cat.search(Key("level.x") < 50)) == 51
    other.close()
    cat.close()


@pytest.mark.postgresql
def test_postgresql_searches_start_no_parallel_workers_unless_asked(postgres_cluster):
    """A catalog's searches are short: starting parallel workers cost more than they
    save, so a connection starts none, unless its options (or the database's or user's
    settings) ask for them."""
    uri = postgres_cluster.new_database()
    cat = open_catalog(uri)
    assert cat.db.query("SHOW max_parallel_workers_per_gather") == [("0",)]
    cat.close()
    asked = open_catalog(uri + "%20-cmax_parallel_workers_per_gather%3D3")
    assert asked.db.query("SHOW max_parallel_workers_per_gather") == [("3",)]
    asked.close()


DATA = Path(__file__).parent / "data"


def _counts_of_catalog_v10(cat: Catalog) -> None:
    """The runs of ``data/catalog_v10.jsonl``: six with one temperature and ``level.x``,
    one holding ``level.x`` twice (a dotted key and a nested one), one holding lists."""
    assert len(cat) == 8
    assert len(cat.search(Key("temperature") > 302.5)) == 3
    assert len(cat.search(Key("level.x") >= 0)) == 7
    assert cat.search(Key("level.x") >= 0).count(at_most=7) == 7
    assert len(cat.search(Key("temperature").contains(396.0))) == 1
    multi = {r[0] for r in cat.db.query("SELECT key FROM key_paths WHERE multi <> 0")}
    assert multi == {"level.x", "temperature"}, multi


def test_a_schema_10_file_written_by_main_is_upgraded_in_place(tmp_path):
    """``data/catalog_v10.sqlite`` was written by cielo at commit cf87b5e (schema 10) from
    ``data/catalog_v10.jsonl``; opening it finds the paths some run holds twice."""
    path = tmp_path / "old.sqlite"
    shutil.copy(DATA / "catalog_v10.sqlite", path)
    cat = open_catalog(f"sqlite:///{path}")
    assert schema_version(cat.db) == SCHEMA_VERSION
    _counts_of_catalog_v10(cat)
    written = list(iter_documents(DATA / "catalog_v10.jsonl"))
    replayed = [item for uid in cat for item in cat[uid].documents()]
    assert sorted(dumps(d) for _, d in replayed) == sorted(dumps(d) for _, d in written)
    cat.close()


def test_a_catalog_of_schema_10_gets_its_marks_of_paths(catalog_uri):
    """A catalog of either backend as schema 10 stored it (no ``multi``), then opened."""
    cat = open_catalog(catalog_uri)
    with cat.writer(max_delay=0) as writer:
        for name, doc in iter_documents(DATA / "catalog_v10.jsonl"):
            writer(name, doc)
    with cat.db.transaction():
        cat.db.execute("ALTER TABLE key_paths DROP COLUMN multi")
        cat.db.execute("UPDATE cielo_schema SET version = 10")
    cat.close()
    cat = open_catalog(catalog_uri)
    assert schema_version(cat.db) == SCHEMA_VERSION
    _counts_of_catalog_v10(cat)
    cat.close()
