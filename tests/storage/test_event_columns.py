"""Pages of events are stored as columns (schema 8) and replay exactly as they were
written: the same JSON text for every document, valid by event-model's own schemas."""

from __future__ import annotations

import math
import random
import uuid
from typing import Any

import pytest

from cielo.storage import dumps, open_catalog


def _run(n: int, odd: bool) -> list[tuple[str, dict[str, Any]]]:
    uid = str(uuid.uuid4())
    keys = ["motor", "det", "flag", "count", "label", "spectrum", "mixed"] if odd else ["motor", "motor_setpoint", "det"]
    desc = {
        "uid": str(uuid.uuid4()), "run_start": uid, "time": 1e9, "name": "primary",
        "data_keys": {k: {"source": f"sim:{k}", "dtype": "number", "shape": []} for k in keys},
        "configuration": {}, "object_keys": {k: [k] for k in keys},
    }  # fmt: skip
    docs: list[tuple[str, dict[str, Any]]] = [("start", {"uid": uid, "time": 1e9}), ("descriptor", desc)]
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
    assert cat.db.query("SELECT COUNT(*) FROM documents WHERE name = 'events' AND doc <> ''")[0][0] == 0
    cat.close()
