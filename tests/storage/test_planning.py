"""Searches are planned by how many runs each condition matches: the same runs as the
conditions say (checked against Python), found with far less work when a broad condition
is ANDed with a narrow one; anchored regular expressions and list elements are ranges of
the index of keys; incomplete runs have an index of their own."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

import cielo.storage._catalog as catalog_module
from cielo.storage import Catalog, ExitStatus, Key, Query, open_catalog

SAMPLES = ["S-424", "S-4240", "S-425", "S-42", "s-424", "S-424é", "S-42\U0010ffff", "T-1", "a.b"]


def _fill(cat: Catalog, n: int) -> list[dict[str, Any]]:
    starts = []
    with cat.writer(max_delay=0, durable=False) as writer:
        for i in range(n):
            start: dict[str, Any] = {
                "uid": str(uuid.uuid4()), "time": 1e9 + i, "num_points": i % 20,
                "sample": SAMPLES[i % len(SAMPLES)], "temperature": 290 + i % 13,
                "tags": ["calibration"] if i % 11 == 0 else ["powder", f"batch {i % 4}"],
            }  # fmt: skip
            writer("start", start)
            if i % 17:
                writer("stop", {"uid": str(uuid.uuid4()), "run_start": start["uid"],
                                "time": start["time"] + 1, "exit_status": "success",
                                "num_events": {}})  # fmt: skip
            start["complete"] = bool(i % 17)
            starts.append(start)
    return starts


CASES: list[tuple[str, Query, Any]] = [
    ("broad and narrow", (Key("num_points") > 5) & (Key("sample") == "T-1"),
     lambda s: s["num_points"] > 5 and s["sample"] == "T-1"),
    ("two broad", (Key("num_points") > 5) & (Key("temperature") >= 295),
     lambda s: s["num_points"] > 5 and s["temperature"] >= 295),
    ("broad alone", Key("num_points") >= 2, lambda s: s["num_points"] >= 2),
    ("nested and, or, not",
     (Key("num_points") < 15) & ((Key("temperature") == 291) | (Key("sample") == "a.b"))
     & ~(Key("tags").contains("calibration")),
     lambda s: s["num_points"] < 15 and (s["temperature"] == 291 or s["sample"] == "a.b")
     and "calibration" not in s["tags"]),
    ("list element", Key("tags").contains("calibration"), lambda s: "calibration" in s["tags"]),
    ("substring of a string", Key("tags").contains("batch 2") & (Key("num_points") > 3),
     lambda s: "batch 2" in s["tags"] and s["num_points"] > 3),
    ("incomplete and broad", ExitStatus("incomplete") & (Key("num_points") > 1),
     lambda s: not s["complete"] and s["num_points"] > 1),
]  # fmt: skip
REGEXES = ["^S-424", "^S-42", "^S-42$", "^S-42?", "^S-42*4", "^s", "^S-424|^T", "^a\\.b",
           "^a.b", "^S-42\U0010ffff", "^[sS]-424", "424", "^S-4[2-5]"]  # fmt: skip


@pytest.fixture(params=[50, 10_000], ids=["few-is-50", "few-is-10000"])
def filled(catalog_uri, request, monkeypatch):
    """Both plans: with the threshold at 50, broad conditions are walked in time order."""
    monkeypatch.setattr(catalog_module, "PLAN_FEW", request.param)
    cat = open_catalog(catalog_uri)
    return cat, _fill(cat, 400)


def test_planned_searches_find_what_the_conditions_say(filled):
    cat, starts = filled
    for label, query, holds in CASES:
        expected = [s["uid"] for s in starts if holds(s)]
        found = cat.search(query)
        assert len(found) == len(expected), label
        assert [s["uid"] for s in found.summaries(limit=20)] == expected[:20], label
        assert list(found) == expected, label
        newest = found.sorted("-time")
        assert [s["uid"] for s in newest.summaries(limit=7)] == expected[::-1][:7], label


def test_anchored_regexes_match_as_python_does(filled):
    cat, starts = filled
    for pattern in REGEXES:
        expected = [s["uid"] for s in starts if re.search(pattern, s["sample"])]
        found = cat.search(Key("sample").regex(pattern))
        assert list(found) == expected, pattern
        assert len(found) == len(expected), pattern
        # pages (on PostgreSQL, the runs a page needs are checked in order, then it stops)
        page = cat.search(Key("sample").regex(pattern) & (Key("num_points") > 2)).sorted("-time")
        newest = [
            s["uid"] for s in starts if re.search(pattern, s["sample"]) and s["num_points"] > 2
        ][::-1]
        assert [s["uid"] for s in page.summaries(limit=5)] == newest[:5], pattern
        assert [s["uid"] for s in page.summaries(offset=4, limit=3)] == newest[4:7], pattern
        if len(newest) > 2:
            assert [s["uid"] for s in page.summaries(limit=3, after=newest[1])] == newest[2:5], (
                pattern
            )


def test_a_narrow_condition_leads_a_broad_one(tmp_path):
    """SQLite's virtual-machine steps for the first page of ``broad AND narrow``: the runs
    of the narrow condition are checked against the broad one, instead of the other way
    round (an unplanned query visits every run of the broad condition)."""
    cat = open_catalog(f"sqlite:///{tmp_path / 'c.sqlite'}")
    _fill(cat, 3000)
    cat.optimize()
    query = (Key("num_points") > 1) & (Key("sample") == "T-1") & (Key("temperature") > 290)
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    def cost(run: Any) -> int:
        steps[0] = 0
        cat.db.raw.set_progress_handler(count, 100)
        try:
            run()
        finally:
            cat.db.raw.set_progress_handler(None, 0)
        return steps[0]

    where, params = query.sql(cat.db.dialect)
    unplanned = cost(lambda: cat.db.raw.execute(
        f"SELECT uid FROM runs WHERE {where} ORDER BY time, uid LIMIT 20", params).fetchall())  # fmt: skip
    found = cat.search(query)
    planned = cost(lambda: found.summaries(limit=20))
    assert planned * 5 < unplanned, (planned, unplanned)
    incomplete = cat.search(ExitStatus("incomplete"))
    where, params = incomplete._where()
    plan = cat.db.query(f"EXPLAIN QUERY PLAN SELECT uid FROM runs WHERE {where} ORDER BY {incomplete._order()}", params)  # fmt: skip
    assert "runs_incomplete" in " ".join(str(r[-1]) for r in plan)
