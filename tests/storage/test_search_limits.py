"""A search never hangs a catalog and bad queries get errors, not tracebacks (issue 10)."""

from __future__ import annotations

import json
import sys
import time

import pytest

from cielo.cli import main
from cielo.storage import Key, QueryError, open_catalog, parse_query

EVIL = "a" * 28 + "!"  # (a+)+$ backtracks for minutes in Python's re on this


@pytest.fixture
def cat(catalog_uri, make_run):
    catalog = open_catalog(catalog_uri)
    with catalog.writer() as writer:
        for scan_id, k in enumerate([EVIL, "aaa!", "b"], 1):
            for name, doc in make_run(1, scan_id=scan_id, md={"k": k}):
                writer(name, doc)
    yield catalog
    catalog.close()


def test_a_catastrophic_regex_answers_at_once(cat):
    t = time.perf_counter()
    assert len(cat.search(Key("k").regex("(a+)+$"))) == 0
    assert time.perf_counter() - t < 5  # before: over 30 s on SQLite
    assert len(cat.search(Key("k").regex("^(a+)+!$"))) == 2


def test_a_search_is_stopped_after_its_time_limit(cat):
    cat.db.search_timeout = 0.5
    endless = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c"
    )
    t = time.perf_counter()
    with pytest.raises(QueryError, match=r"longer than 0.5 s"):
        cat.db.search(endless)
    assert time.perf_counter() - t < 10
    assert len(cat) == 3  # the catalog is still usable


def test_regex_search_on_sqlite_needs_re2(tmp_path, make_run, monkeypatch):
    from cielo.storage import _database

    with open_catalog(f"sqlite:///{tmp_path / 'c.sqlite'}") as cat:
        with pytest.raises(QueryError, match="backreferences"):
            len(cat.search(Key("k").regex(r"(a)\1")))
        _database._compiled.cache_clear()
        monkeypatch.setitem(sys.modules, "re2", None)  # as if google-re2 were not installed
        with pytest.raises(QueryError, match="needs google-re2"):
            len(cat.search(Key("k").regex("x")))
        _database._compiled.cache_clear()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"$and": 5}, "$and takes a list of queries"),
        ({"$or": [1]}, "$or takes a list of queries"),
        ({"$not": "x"}, "$not takes a query"),
        ({1: 2}, "query keys are strings"),
    ],
)
def test_malformed_queries_are_refused_with_the_fix(query, message):
    with pytest.raises(QueryError) as info:
        parse_query(query)
    assert message in str(info.value)


def test_big_numbers_and_deep_nesting(cat):
    assert len(cat.search({"scan_id": 10**400})) == 0
    assert len(cat.search({"scan_id": {"$lt": 10**30}})) == 3
    assert len(cat.search({"k": {"$lt": 10**400}})) == 0
    deep: dict = {}
    for _ in range(100):
        deep = {"$not": deep}
    with pytest.raises(QueryError, match="nests"):
        parse_query(deep)
    with pytest.raises(KeyError, match="no run with scan_id"):
        cat[10**30]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--query", '{"$and": 5}'], "$and takes a list"),
        (["--query", "{" * 5000], "not JSON"),
        (["--query", '{"$not":' * 3000 + "{}" + "}" * 3000], "nests too deeply"),
        (["--query", "not json"], "is not JSON"),
        (["--scan-id", "1e23"], "give N or A:B with integers"),
    ],
)
def test_cli_search_errors_are_one_line(cat, capsys, args, message):
    assert main(["catalog", "search", "--uri", cat.uri, *args]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_cli_search_with_huge_numbers_and_no_match(cat, capsys):
    uri = cat.uri
    for args in (["--query", json.dumps({"scan_id": 10**400})], ["--scan-id", "9" * 30]):
        assert main(["catalog", "search", "--uri", uri, *args]) == 0
        assert capsys.readouterr().out.strip() == "no runs matched"
    assert main(["catalog", "search", "--uri", uri, "sample"]) == 0
    assert "not key names" in capsys.readouterr().out
    assert main(["catalog", "search", "--uri", uri, "--where", "k ~= (a+)+$", "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "no runs matched" in captured.err


def test_catalog_help_has_no_markup(capsys):
    with pytest.raises(SystemExit):
        main(["catalog", "--help"])
    assert "``" not in capsys.readouterr().out
