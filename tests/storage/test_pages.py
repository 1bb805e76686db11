"""Pages of a large catalog continue from the last run seen (keyset pagination), on both
backends: the same order as sorting in Python, no run twice or missed across ties and
missing values, and no OFFSET counted past the runs before a page."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from cielo.storage import Catalog, RunNotFoundError, Uid, open_catalog


def _fill(cat: Catalog, n: int) -> list[dict[str, Any]]:
    """``n`` runs with start and stop only: times tie in threes, every seventh has no scan_id."""
    starts = []
    with cat.writer(batch_size=100_000, max_delay=0, durable=False) as writer:
        for i in range(n):
            start: dict[str, Any] = {"uid": str(uuid.uuid4()), "time": 1e9 + i // 3}
            if i % 7:
                start["scan_id"] = i % 50
            writer("start", start)
            writer("stop", {"uid": str(uuid.uuid4()), "run_start": start["uid"],
                            "time": start["time"] + 1, "exit_status": "success",
                            "num_events": {}})  # fmt: skip
            starts.append(start)
    return starts


def _expected(starts: list[dict[str, Any]], key: str, desc: bool) -> list[str]:
    """The catalog's documented order: the key (missing values first ascending), then uid
    in the same direction."""

    def sort_key(s: dict[str, Any]) -> tuple[Any, ...]:
        value = s.get(key)
        return (value is not None, value if value is not None else 0, s["uid"])

    return [s["uid"] for s in sorted(starts, key=sort_key, reverse=desc)]


@pytest.mark.parametrize("sort", ["time", "-time", "scan_id", "-scan_id"])
def test_pages_after_a_uid_walk_the_whole_order(catalog_uri, sort):
    cat = open_catalog(catalog_uri)
    starts = _fill(cat, 1205)
    ordered = cat.sorted(sort)
    expected = _expected(starts, sort.lstrip("-"), sort.startswith("-"))
    assert list(ordered) == expected  # __iter__: pages of 1000, each after the last
    seen: list[str] = []
    after = None
    while True:
        page = ordered.summaries(limit=97, after=after)
        seen += [s["uid"] for s in page]
        if len(page) < 97:
            break
        after = page[-1]["uid"]
    assert seen == expected
    assert [r.uid for r in ordered.runs(after=expected[599], limit=3)] == expected[600:603]
    assert [r.uid for r in ordered.runs(offset=1001, limit=2)] == expected[1001:1003]

    if sort == "time":
        _slices_match_the_order(cat, starts)


def _slices_match_the_order(cat: Catalog, starts: list[dict[str, Any]]) -> None:
    expected = _expected(starts, "time", False)
    assert [r.uid for r in cat[1190:1200]] == expected[1190:1200]
    assert [r.uid for r in cat[3:6]] == expected[3:6]
    assert cat[7:7] == []
    # from the end (read backwards, the catalog not counted), as a list slices
    size = len(expected)
    for a, b in [
        (-20, -10),
        (-3, None),
        (-1, None),
        (-size - 5, -size + 2),
        (-10, -20),
        (-5, -5),
        (-size - 9, -size - 2),
        (-2, 0),
        (-2, size),
    ]:
        assert [r.uid for r in cat[a:b]] == expected[a:b], (a, b)


def test_a_page_after_an_unknown_uid_names_it(catalog_uri):
    cat = open_catalog(catalog_uri)
    _fill(cat, 3)
    with pytest.raises(
        RunNotFoundError, match="no run with uid 'nope'.*last run of the previous page"
    ):
        cat.summaries(limit=5, after="nope")


def test_pages_count_no_offset_and_prefixes_use_the_index(tmp_path):
    """On SQLite: every statement run while walking 1205 runs in pages, and the plans of a
    page and of a uid prefix (an OFFSET, or a full scan of runs, costs time that grows with
    the catalog)."""
    cat = open_catalog(f"sqlite:///{tmp_path / 'c.sqlite'}")
    starts = _fill(cat, 1205)
    statements: list[str] = []
    cat.db.raw.set_trace_callback(statements.append)
    uids = list(cat)
    page = cat.summaries(limit=20, after=uids[1100])
    cat.db.raw.set_trace_callback(None)
    assert len(uids) == 1205 and [s["uid"] for s in page] == uids[1101:1121]
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert selects and not [s for s in selects if "OFFSET" in s.upper()]

    def plan(query: Catalog, extra: str, params: list[Any]) -> str:
        where, wparams = query._where()
        sql = f"EXPLAIN QUERY PLAN SELECT uid FROM runs WHERE ({where}){extra} ORDER BY {query._order()}"
        return " ".join(str(r[-1]) for r in cat.db.query(sql, [*wparams, *params]))

    after, params = cat._after(cat._position(uids[1100]))
    assert "USING COVERING INDEX runs_time_uid (time>?)" in plan(cat, f" AND ({after})", params)
    prefix = plan(cat.search(Uid(starts[5]["uid"][:6])), "", [])
    assert "SEARCH runs USING" in prefix and "SCAN runs" not in prefix


def test_counts_stop_at_a_cap(catalog_uri):
    """``count(at_most=N)`` answers "N or more" without counting the rest; ``len`` is exact."""
    from cielo.storage import Key, QueryError

    cat = open_catalog(catalog_uri)
    starts = _fill(cat, 300)
    with_id = sum(1 for s in starts if "scan_id" in s)
    assert len(cat) == cat.count() == 300
    assert cat.count(at_most=100) == 100 and cat.count(at_most=1000) == 300
    small = cat.search(Key("scan_id") < 5)  # a column condition: counted over runs
    exact = sum(1 for s in starts if s.get("scan_id", 99) < 5)
    assert small.count(at_most=exact + 1) == exact == len(small)
    assert small.count(at_most=exact - 1) == exact - 1
    assert cat.search(scan_id={"$ne": None}).count(at_most=10_000) == with_id
    with cat.writer() as writer:  # a condition on a key: counted in the index of keys
        for i in range(12):
            uid = str(uuid.uuid4())
            writer("start", {"uid": uid, "time": 2e9 + i, "sample": "S", "tags": ["a", "b"]})
    assert cat.search(sample="S").count(at_most=7) == 7
    assert cat.search(Key("tags").contains("b")).count(at_most=100) == 12
    with pytest.raises(QueryError, match="at_most=-1"):
        cat.count(at_most=-1)
