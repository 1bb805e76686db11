"""Pages of events are stored as columns (schemas 8 and 9) and replay exactly as they were
written: the same JSON text for every document, valid by event-model's own schemas."""

from __future__ import annotations

import math
import random
import shutil
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest

from cielo.storage import SCHEMA_VERSION, dumps, iter_documents, open_catalog, schema_version


def _run(n: int, odd: bool) -> list[tuple[str, dict[str, Any]]]:
    uid = str(uuid.uuid4())
    keys = (
        ["motor", "det", "flag", "count", "label", "spectrum", "mixed"]
        if odd
        else ["motor", "motor_setpoint", "det"]
    )
    desc = {
        "uid": str(uuid.uuid4()), "run_start": uid, "time": 1e9, "name": "primary",
        "data_keys": {k: {"source": f"sim:{k}", "dtype": "number", "shape": []} for k in keys},
        "configuration": {}, "object_keys": {k: [k] for k in keys},
    }  # fmt: skip
    docs: list[tuple[str, dict[str, Any]]] = [
        ("start", {"uid": uid, "time": 1e9}),
        ("descriptor", desc),
    ]
    rng = random.Random(n)
    for i in range(n):
        t = 1.7e9 + 0.1 * i
        x = -1.0 + 2.0 * i / max(n - 1, 1)
        data: dict[str, Any] = {"motor": x, "motor_setpoint": x, "det": rng.random()}
        if odd:
            data = {
                "motor": [math.nan, -0.0, math.inf, 5e-324, x][i % 5], "det": rng.random(),
                "flag": i % 2 == 0, "count": [1, 2**70, -3][i % 3], "label": f"p{i}",
                "spectrum": [i, i + 1], "mixed": [1, 2.5, None, "s"][i % 4],
            }  # fmt: skip
        event_uid = str(uuid.uuid4()) if not odd or i % 4 else f"custom-{i}"
        stamps = {k: t if k != "det" else t + 1e-4 for k in data}
        docs.append(("event", {
            "uid": event_uid, "descriptor": desc["uid"], "time": t, "seq_num": i + 1,
            "data": data, "timestamps": stamps, "filled": {},
        }))  # fmt: skip
    docs.append(("stop", {"uid": str(uuid.uuid4()), "run_start": uid, "time": 2e9,
                          "exit_status": "success", "num_events": {"primary": n}}))  # fmt: skip
    return docs


@pytest.mark.parametrize("n, odd", [(200, False), (23, True), (1, False)])
def test_pages_replay_exactly_as_written(catalog_uri, n, odd):
    written = _run(n, odd)
    cat = open_catalog(catalog_uri)
    with cat.writer() as writer:
        for name, doc in written:
            writer(name, doc)
    run = cat[written[0][1]["uid"]]
    replayed = list(run.documents())
    assert [name for name, _ in replayed] == [name for name, _ in written]
    assert [dumps(doc) for _, doc in replayed] == [dumps(doc) for _, doc in written]
    table = run["primary"].read()
    assert list(table.index) == list(range(1, n + 1))
    if not odd:
        assert table["det"].tolist() == [d["data"]["det"] for name, d in written if name == "event"]
    cat.close()


def test_positions_counters_and_lagging_timestamps_replay_exactly(catalog_uri):
    """The shapes stored by their ends or steps (schema 9): ``numpy.linspace`` positions
    integers counting evenly up to the int64 limit (and past it, wrapped as int64 wraps),
    timestamps lagging the event time by a jittering amount, or equal to it."""
    import numpy as np

    written = _run(12, False)
    rng = random.Random(7)
    events = [doc for name, doc in written if name == "event"]
    positions = np.linspace(-0.0, 2.5, len(events)).tolist()
    descriptor = written[1][1]
    descriptor["data_keys"] = {
        k: {"source": f"sim:{k}", "dtype": "number", "shape": []}
        for k in ("motor", "top", "bottom", "det")
    }
    for i, event in enumerate(events):
        t = event["time"]
        event["data"] = {
            "motor": positions[i], "top": 2**63 - 1 - 3 * (len(events) - 1 - i),
            "bottom": (2**63 - 6 + i + 2**63) % 2**64 - 2**63, "det": rng.random(),
        }  # fmt: skip
        event["timestamps"] = {
            "motor": t - 0.01 - rng.random() * 1e-5, "top": t, "bottom": t, "det": t + 1e-3,
        }  # fmt: skip
    cat = open_catalog(catalog_uri)
    with cat.writer(max_delay=0) as writer:
        for name, doc in written:
            writer(name, doc)
    run = cat[written[0][1]["uid"]]
    assert [dumps(doc) for _, doc in run.documents()] == [dumps(doc) for _, doc in written]
    assert run["primary"].read()["bottom"].tolist() == [e["data"]["bottom"] for e in events]
    cat.close()


def test_replayed_documents_are_valid_event_model_documents(catalog_uri):
    event_model = pytest.importorskip("event_model")
    written = _run(50, False)
    cat = open_catalog(catalog_uri)
    with cat.writer() as writer:
        for name, doc in written:
            writer(name, doc)
    run = cat[written[0][1]["uid"]]
    for name, doc in run.documents():
        event_model.schema_validators[event_model.DocumentNames[name]].validate(doc)
    for _, page in run.documents(pages=True):
        if "seq_num" in page and isinstance(page["seq_num"], list):
            event_model.schema_validators[event_model.DocumentNames.event_page].validate(page)
    cat.close()


def test_a_scalar_event_takes_under_40_bytes(catalog_uri):
    """Three scalar readings with their timestamps, the event's uid, time and place."""
    written = _run(1000, False)
    cat = open_catalog(catalog_uri)
    with cat.writer(max_delay=0) as writer:  # one page, however slow the machine
        for name, doc in written:
            writer(name, doc)
    stored = cat.db.query("SELECT SUM(length(data)) FROM documents WHERE name = 'events'")[0][0]
    assert stored / 1000 <= 40, stored / 1000
    assert (
        cat.db.query("SELECT COUNT(*) FROM documents WHERE name = 'events' AND doc <> ''")[0][0]
        == 0
    )
    cat.close()


def test_a_ten_event_run_takes_under_40_bytes_an_event(catalog_uri):
    """A short step scan's one page: its header shared by 10 events only (schema 9)."""
    cat = open_catalog(catalog_uri)
    sizes = []
    for _ in range(5):
        written = _run(10, False)
        with cat.writer(max_delay=0) as writer:
            for name, doc in written:
                writer(name, doc)
        run = cat[written[0][1]["uid"]]
        assert [dumps(doc) for _, doc in run.documents()] == [dumps(doc) for _, doc in written]
        size = "octet_length" if cat.db.dialect.name == "postgresql" else "length"
        sizes += [r[0] for r in cat.db.query(
            f"SELECT {size}(data) FROM documents WHERE name = 'events' "
            "AND run_id = (SELECT id FROM runs WHERE uid = ?)", [run.uid])]  # fmt: skip
    assert len(sizes) == 5 and max(sizes) / 10 <= 40, sizes
    cat.close()


DATA = Path(__file__).parent / "data"


def test_pages_of_schema_8_are_rewritten_and_replay_exactly(catalog_uri):
    """``data/catalog_v8.sqlite`` was written by cielo at commit 1a67995 (schema 8) from
    ``data/catalog_v8.jsonl``: a 10-event scan, 23 odd events (NaN, -0.0, integers beyond
    64 bits, strings, arrays, custom uids), a single event and an ``event_page``. Its pages
    are put into a catalog of either backend as schema 8 stored them; opening it rewrites
    them (format 2), smaller, and every run replays as written."""
    written = list(iter_documents(DATA / "catalog_v8.jsonl"))
    cat = open_catalog(catalog_uri)
    with cat.writer(max_delay=0) as writer:
        for name, doc in written:
            writer(name, doc)
    old = sqlite3.connect(DATA / "catalog_v8.sqlite")
    pages = old.execute(
        "SELECT runs.uid, ord, data FROM documents JOIN runs ON runs.id = run_id WHERE data IS NOT NULL"
    ).fetchall()
    assert len(pages) == 3 and {bytes(d[:1]) for _, _, d in pages} == {b"\x01"}
    with cat.db.transaction():
        for uid, ord_, data in pages:
            cat.db.execute(
                "UPDATE documents SET data = ? WHERE ord = ? AND run_id = (SELECT id FROM runs WHERE uid = ?)",
                (data, ord_, uid),
            )
        cat.db.execute("UPDATE cielo_schema SET version = 8")
    cat.close()
    cat = open_catalog(catalog_uri)
    assert schema_version(cat.db) == SCHEMA_VERSION
    size = "octet_length" if cat.db.dialect.name == "postgresql" else "length"
    now = cat.db.query(
        f"SELECT {size}(data), substr(data, 1, 1) FROM documents WHERE data IS NOT NULL"
    )
    assert {bytes(first) for _, first in now} == {b"\x02"}
    assert sum(n for n, _ in now) < sum(len(d) for _, _, d in pages)
    uids = [doc["uid"] for name, doc in written if name == "start"]
    replayed = [item for uid in uids for item in cat[uid].documents()]
    assert [name for name, _ in replayed] == [name for name, _ in written]
    assert [dumps(doc) for _, doc in replayed] == [dumps(doc) for _, doc in written]
    cat.close()


def test_a_schema_8_file_is_upgraded_in_place(tmp_path):
    path = tmp_path / "old.sqlite"
    shutil.copy(DATA / "catalog_v8.sqlite", path)
    written = list(iter_documents(DATA / "catalog_v8.jsonl"))
    cat = open_catalog(f"sqlite:///{path}")
    assert schema_version(cat.db) == SCHEMA_VERSION
    uids = [doc["uid"] for name, doc in written if name == "start"]
    replayed = [item for uid in uids for item in cat[uid].documents()]
    assert [dumps(doc) for _, doc in replayed] == [dumps(doc) for _, doc in written]
    cat.close()
