"""The number of runs and positions in the time order are kept by the database (schema
10, ``_positions``): ``len(cat)`` reads one row and a page by offset starts from the mark
before it. Both must stay exact whatever is written: runs inserted out of time order,
deleted, and written by a second connection while pages are read, on both backends. The
spacing of the marks is lowered so that a few hundred runs have many."""

from __future__ import annotations

import random
import shutil
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from cielo.storage import (
    SCHEMA_VERSION,
    Catalog,
    dumps,
    iter_documents,
    migrate,
    open_catalog,
    schema_version,
)
from cielo.storage._database import connect


@pytest.fixture(autouse=True)
def _close_marks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cielo.storage._positions.MARK_SPACING", 7)


def _write(cat: Catalog, times: list[float]) -> list[tuple[float, str]]:
    runs = []
    with cat.writer(batch_size=100_000, max_delay=0, durable=False) as writer:
        for t in times:
            uid = str(uuid.uuid4())
            writer("start", {"uid": uid, "time": t})
            writer("stop", {"uid": str(uuid.uuid4()), "run_start": uid, "time": t + 1,
                            "exit_status": "success", "num_events": {}})  # fmt: skip
            runs.append((t, uid))
    return runs


def _check(cat: Catalog, runs: list[tuple[float, str]]) -> None:
    """Every offset, slice and reversed offset of ``cat`` against the runs sorted here."""
    order = [uid for _, uid in sorted(runs)]
    n = len(order)
    assert len(cat) == n and cat.count(at_most=5) == min(n, 5)
    newest = cat.sorted("-time")
    for offset in range(0, n + 3, 3):
        assert [s["uid"] for s in cat.summaries(offset=offset, limit=4)] == order[
            offset : offset + 4
        ], offset
        assert [r.uid for r in newest.runs(offset=offset, limit=2)] == order[::-1][
            offset : offset + 2
        ], offset
    for a, b in [(n - 20, n - 10), (n // 2, n // 2 + 5), (9, 30), (n - 3, n + 4)]:
        assert [r.uid for r in cat[a:b]] == order[a:b], (a, b)
    assert cat[-n].uid == order[0]


def test_offsets_stay_exact_through_inserts_out_of_order_and_deletes(catalog_uri):
    cat = open_catalog(catalog_uri)
    rng = random.Random(7)
    runs = _write(cat, [float(i // 3) for i in range(150)])  # ties in threes: uid decides
    _check(cat, runs)  # makes the marks
    assert cat.db.query("SELECT COUNT(*) FROM run_marks")[0][0] == 150 // 7
    runs += _write(cat, [200.0 + i for i in range(10)])  # at the end: no mark moves
    assert cat.db.query("SELECT COUNT(*) FROM run_marks")[0][0] == 150 // 7
    _check(cat, runs)
    runs += _write(cat, [rng.uniform(0, 50) for _ in range(25)])  # anywhere in the order
    _check(cat, runs)
    for t, uid in rng.sample(runs, 30):
        cat.delete(uid)
        runs.remove((t, uid))
    _check(cat, runs)
    runs += _write(cat, [10.0, 10.0, -5.0])
    cat.close()
    again = open_catalog(catalog_uri)  # the count and marks are the database's, not the object's
    _check(again, runs)
    for _, uid in list(runs):
        again.delete(uid)
    assert len(again) == 0 and again[0:5] == [] and again.summaries(offset=20) == []
    again.close()


def test_a_second_writer_never_makes_an_offset_wrong(catalog_uri):
    """A second connection inserts runs before all others (each one moves every run a
    place on) and deletes some, while this one reads pages by offset: the run found at an
    offset is the run at that offset in a state between the read's start and end."""
    cat = open_catalog(catalog_uri)
    original = [uid for _, uid in sorted(_write(cat, [1000.0 + i for i in range(300)]))]
    other = open_catalog(catalog_uri)
    done = threading.Event()
    prepended: list[str] = []  # in the order written; each is first when written
    removed = [0]
    lock = threading.Lock()

    def write() -> None:
        try:
            for i in range(120):
                (t, uid), = _write(other, [999.0 - i])  # fmt: skip
                with lock:
                    prepended.append(uid)
                if i % 10 == 9:  # delete the newest prepended run: the others move back
                    with lock:
                        uid = prepended.pop()
                        removed[0] += 1
                    other.delete(uid)
        finally:
            done.set()

    thread = threading.Thread(target=write)
    thread.start()
    checked = 0
    while not done.is_set() or checked < 5:
        offset = random.randrange(150, 290)
        with lock:
            low = len(prepended)
        found = cat.summaries(offset=offset, limit=1)
        with lock:
            high = len(prepended) + 1  # a delete's pop comes before the delete
        # with k runs in front, the run at offset is original[offset - k]
        assert found and found[0]["uid"] in {
            original[offset - k] for k in range(max(low - 1, 0), high + 1)
        }, (offset, low, high)
        checked += 1
    thread.join()
    assert checked > 5
    final = [uid for uid in reversed(prepended)] + original
    assert [s["uid"] for s in cat.summaries(offset=200, limit=50)] == final[200:250]
    assert len(cat) == len(final)
    other.close()
    cat.close()


def test_a_catalog_of_schema_9_gets_its_count(catalog_uri):
    """Runs written by schema 9 (no count, no marks): opening the catalog counts them once."""
    db = connect(catalog_uri)
    migrate(db, 9)
    old = Catalog(db)
    runs = _write(old, [float(i % 40) for i in range(90)])
    assert schema_version(db) == 9
    db.close()
    cat = open_catalog(catalog_uri)
    assert schema_version(cat.db) == SCHEMA_VERSION
    _check(cat, runs)
    cat.close()


def test_a_schema_9_file_written_by_main_is_upgraded_in_place(tmp_path):
    """``data/catalog_v9.sqlite`` was written by cielo at commit ce4d575 (schema 9) from
    ``data/catalog_v8.jsonl``: opening it counts its runs, and every run replays as written."""
    data = Path(__file__).parent / "data"
    path = tmp_path / "old.sqlite"
    shutil.copy(data / "catalog_v9.sqlite", path)
    written = list(iter_documents(data / "catalog_v8.jsonl"))
    cat = open_catalog(f"sqlite:///{path}")
    assert schema_version(cat.db) == SCHEMA_VERSION
    starts = sorted((doc["time"], doc["uid"]) for name, doc in written if name == "start")
    assert len(cat) == len(starts) == 4 and list(cat) == [uid for _, uid in starts]
    assert [r.uid for r in cat[1:3]] == [uid for _, uid in starts[1:3]]
    replayed = [item for _, uid in starts for item in cat[uid].documents()]
    assert sorted(dumps(doc) for _, doc in replayed) == sorted(dumps(doc) for _, doc in written)
    runs = [(t, uid) for t, uid in starts] + _write(cat, [0.5, 2e9, 1e9])
    _check(cat, runs)
    cat.close()


def _last_mark_is_in_the_count_row(cat: Catalog) -> None:
    last = cat.db.query("SELECT time, uid FROM run_marks ORDER BY pos DESC LIMIT 1")
    assert cat.db.query("SELECT mark_time, mark_uid FROM run_count") == (last or [(None, None)])


def test_the_count_row_names_the_last_mark_through_inserts_and_deletes(catalog_uri):
    """Schema 12: a run after the last mark leaves the marks; one at or before it (or the
    marked run itself, deleted) removes the marks from it on, and the row follows."""
    cat = open_catalog(catalog_uri)
    runs = _write(cat, [float(i) for i in range(50)])
    _check(cat, runs)
    _last_mark_is_in_the_count_row(cat)
    marks = cat.db.query("SELECT pos, time, uid FROM run_marks ORDER BY pos")
    runs += _write(cat, [100.0, 101.0])
    assert cat.db.query("SELECT pos, time, uid FROM run_marks ORDER BY pos") == marks
    last_marked = marks[-1][2]
    cat.delete(last_marked)  # the marked run itself: its mark goes
    runs = [r for r in runs if r[1] != last_marked]
    assert cat.db.query("SELECT COUNT(*) FROM run_marks")[0][0] == len(marks) - 1
    _last_mark_is_in_the_count_row(cat)
    runs += _write(cat, [20.5])  # before two marks
    assert cat.db.query("SELECT COUNT(*) FROM run_marks")[0][0] == 20 // 7
    _last_mark_is_in_the_count_row(cat)
    _check(cat, runs)
    _last_mark_is_in_the_count_row(cat)
    cat.close()


def _as_schema_11(db: Any, runs: list[tuple[float, str]]) -> None:
    """Marks as schema 11 stores them, for the runs a schema-11 writer stored."""
    order = sorted(runs)
    with db.transaction():
        for pos in range(7, len(order), 7):
            db.execute(
                "INSERT INTO run_marks (pos, time, uid) VALUES (?, ?, ?)", (pos, *order[pos])
            )


def test_a_catalog_of_schema_11_gets_its_last_mark(catalog_uri):
    db = connect(catalog_uri)
    migrate(db, 11)
    runs = _write(Catalog(db), [float(i // 2) for i in range(60)])
    _as_schema_11(db, runs)
    db.close()
    cat = open_catalog(catalog_uri)
    assert schema_version(cat.db) == SCHEMA_VERSION
    _last_mark_is_in_the_count_row(cat)
    runs += _write(cat, [500.0, 3.5, 40.0])
    _check(cat, runs)
    _last_mark_is_in_the_count_row(cat)
    cat.close()


def test_a_schema_11_file_written_by_main_is_upgraded_in_place(tmp_path):
    """``data/catalog_v11.sqlite`` was written by cielo at commit 3b9d732 (schema 11, marks
    every 7 runs, made by reading the offset 55): 60 runs, times in threes."""
    path = tmp_path / "old.sqlite"
    shutil.copy(Path(__file__).parent / "data" / "catalog_v11.sqlite", path)
    cat = open_catalog(f"sqlite:///{path}")
    assert schema_version(cat.db) == SCHEMA_VERSION
    assert cat.db.query("SELECT COUNT(*) FROM run_marks")[0][0] == 7  # at 7, 14, ..., 49
    _last_mark_is_in_the_count_row(cat)
    runs = [(s["time"], s["uid"]) for s in cat.summaries(limit=100)]
    assert len(runs) == 60
    runs += _write(cat, [2e9, 1.6e9 + 100.0, 0.0])
    _check(cat, runs)
    _last_mark_is_in_the_count_row(cat)
    cat.close()
