"""Run-start metadata is matched alike on both backends (PostgreSQL reads it as JSONB with
rows for numbers only, SQLite from rows of every value): types, nesting, dotted names,
list elements, substrings, string ranges, regular expressions, NaN and infinity."""

from __future__ import annotations

import math
import uuid
from typing import Any

import pytest

from cielo.storage import Key, open_catalog

STARTS: dict[str, dict[str, Any]] = {
    "a": {"sample": "S-4240", "temperature": 300, "flag": True, "note": None,
          "tags": ["powder", "S-9"], "proposal": {"id": 7, "pi": "chen"}, "a.b": "dotted",
          "purpose": "lot_42 alignment", "count": 1},
    "b": {"sample": "S-5", "temperature": 300.5, "flag": False, "note": "x",
          "tags": ["crystal"], "proposal": {"id": 8, "pi": "hale"}, "a": {"b": "nested"},
          "purpose": "powder check", "count": True, "limit": math.inf},
    "c": {"sample": "T-424", "temperature": math.nan, "tags": [], "proposal": {"id": 9},
          "purpose": "S-424 reference", "weights": [1.5, math.nan]},
}  # fmt: skip


@pytest.fixture
def cat(catalog_uri):
    cat = open_catalog(catalog_uri)
    with cat.writer() as writer:
        for i, (name, md) in enumerate(STARTS.items()):
            uid = str(uuid.uuid4())
            writer("start", {"uid": uid, "time": 1e9 + i, "scan_id": i, "name": name, **md})
    yield cat
    cat.close()


def names(cat, query) -> list[str]:
    return [r.start["name"] for r in cat.search(query).runs()]


CASES = [
    (Key("sample") == "S-4240", ["a"]),
    (Key("temperature") == 300.0, ["a"]),  # an integer equals the same float
    (Key("temperature") == 300.5, ["b"]),
    (Key("count") == 1, ["a"]),  # a boolean is not a number
    (Key("count") == True, ["b"]),  # noqa: E712
    (Key("flag") == False, ["b"]),  # noqa: E712
    (Key("note") == None, ["a"]),  # noqa: E711
    (Key("note") != "x", ["a", "c"]),  # also runs without the key
    (Key("proposal.pi") == "hale", ["b"]),
    (Key("a.b") == "dotted", ["a"]),  # a name with a dot
    (Key("a.b") == "nested", ["b"]),  # or nested keys
    (Key("tags").contains("powder"), ["a"]),
    (Key("tags") == "powder", []),  # a list element is not the value
    (Key("purpose").contains("check"), ["b"]),  # a substring of a string
    (Key("purpose").contains("lot_4"), ["a"]),  # LIKE's wildcards are literal
    (Key("sample") > "S-5", ["c"]),  # strings compare byte by byte
    (Key("sample") <= "S-5", ["a", "b"]),
    (Key("flag") > False, ["a"]),
    (Key("temperature") > 300, ["b"]),  # NaN matches no comparison
    (Key("temperature") == math.nan, []),
    (Key("limit") > 1e308, ["b"]),
    (Key("limit") == math.inf, ["b"]),
    (Key("weights").contains(1.5), ["c"]),
    (Key("sample").regex("^S-424"), ["a"]),
    (Key("sample").regex("424$"), ["c"]),
    (Key("sample").regex("^S-[^5]"), ["a"]),
    (Key("tags").regex("^S-"), ["a"]),  # list elements too
    (Key("proposal.pi").regex("^h"), ["b"]),
    (Key("purpose").regex("S-424 "), ["c"]),
    (Key("sample").regex("S-424$"), []),
    (Key("sample").regex("(?i)^s-5"), ["b"]),
    (Key("proposal.id") >= 8, ["b", "c"]),
    ((Key("proposal.id") >= 8) & Key("tags").contains("crystal"), ["b"]),
]


@pytest.mark.parametrize("query, expected", CASES, ids=[repr(q) for q, _ in CASES])
def test_metadata_matches_alike_on_both_backends(cat, query, expected):
    assert names(cat, query) == expected
    assert len(cat.search(query)) == len(expected)


def test_full_text_leaves_out_the_uid(cat):
    run = cat.search(name="a").runs().__next__()
    assert names(cat, "alignment") == ["a"]
    assert len(cat.search(run.uid.split("-")[0])) == 0  # found by uid through Uid instead
    assert cat[run.uid[:8]].uid == run.uid
