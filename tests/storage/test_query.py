"""Searching the catalog, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from cielo.storage import (
    CatalogError,
    ExitStatus,
    FullText,
    Key,
    PlanName,
    QueryError,
    ScanID,
    TimeRange,
    Uid,
    open_catalog,
)

SAMPLES = [
    # scan_id, plan, sample, temperature, tags, exit_status, operator
    (1, "scan", "Si powder", 300, ["powder", "calibration"], "success", "alice"),
    (2, "count", "LaB6", 80, ["calibration"], "success", "bob"),
    (3, "scan", "Si wafer", 310.5, ["thin film"], "abort", "alice"),
    (4, "grid_scan", "Fe3O4", 10, ["magnetic", "powder"], "fail", "carol"),
    (5, "scan", "unknown", 295, [], None, "bob"),  # no stop document: incomplete
]


@pytest.fixture
def cat(catalog_uri, make_run):
    catalog = open_catalog(catalog_uri)
    with catalog.writer() as writer:
        for scan_id, plan, sample, temperature, tags, status, operator in SAMPLES:
            md = {
                "sample": sample,
                "temperature": temperature,
                "tags": tags,
                "operator": operator,
                "proposal": {"id": 1000 + scan_id, "title": f"study {sample}"},
                "cooled": temperature < 100,
            }
            docs = make_run(
                2, scan_id=scan_id, plan_name=plan, md=md, t0=1_700_000_000.0 + 3600 * scan_id,
                stop=status is not None, exit_status=status or "success",
            )  # fmt: skip
            for name, doc in docs:
                writer(name, doc)
    return catalog


def scans(catalog):
    return [s["scan_id"] for s in catalog.summaries()]


def test_equality_and_comparisons(cat):
    assert scans(cat.search(Key("operator") == "alice")) == [1, 3]
    assert scans(cat.search(operator="bob")) == [2, 5]
    assert scans(cat.search(Key("temperature") > 300)) == [3]
    assert scans(cat.search(Key("temperature") >= 300)) == [1, 3]
    assert scans(cat.search(Key("temperature") < 100)) == [2, 4]
    assert scans(cat.search(Key("temperature") <= 295)) == [2, 4, 5]
    assert scans(cat.search(Key("operator") != "alice")) == [2, 4, 5]
    assert scans(cat.search(Key("sample") > "M")) == [1, 3, 5]
    assert scans(cat.search(Key("cooled") == True)) == [2, 4]  # noqa: E712
    assert scans(cat.search(Key("proposal.id") == 1002)) == [2]


def test_contains_in_and_regex(cat):
    assert scans(cat.search(Key("tags").contains("powder"))) == [1, 4]
    assert scans(cat.search(Key("sample").contains("Si"))) == [1, 3]
    assert scans(cat.search(Key("operator").in_(["bob", "carol"]))) == [2, 4, 5]
    assert scans(cat.search(Key("sample").regex(r"^Si\s"))) == [1, 3]
    assert scans(cat.search(Key("sample").regex(r"[0-9]$"))) == [2, 4]
    uid = cat[3].uid  # a uid prefix as `cielo catalog search --uid` asks for it
    assert scans(cat.search({"uid": {"$regex": "^" + re.escape(uid[:9])}})) == [3]
    assert scans(cat.search(Uid(uid[:9]))) == [3]


def test_scan_ids_time_plan_and_exit_status(cat):
    assert scans(cat.search(ScanID(any_of=[2, 4]))) == [2, 4]
    assert scans(cat.search(ScanID(3))) == [3]
    with pytest.raises(
        QueryError, match=r"ScanID\(2, 4\) is ambiguous.*start=2, stop=4.*any_of=\[2, 4\]"
    ):
        ScanID(2, 4)
    assert scans(cat.search(ScanID(start=2, stop=4))) == [2, 3, 4]
    t0 = 1_700_000_000.0
    assert scans(cat.search(TimeRange(since=t0 + 3600 * 2, until=t0 + 3600 * 4))) == [2, 3]
    since = dt.datetime.fromtimestamp(t0 + 3600 * 4)
    assert scans(cat.search(TimeRange(since=since.isoformat()))) == [4, 5]
    assert scans(cat.search(PlanName("scan"))) == [1, 3, 5]
    assert scans(cat.search(ExitStatus("abort"))) == [3]
    assert scans(cat.search(ExitStatus("incomplete"))) == [5]
    assert cat.search(ExitStatus("incomplete")).summaries()[0]["exit_status"] == "incomplete"
    assert cat[5].stop is None and cat[5].exit_status == "incomplete"


def test_full_text(cat):
    assert scans(cat.search(FullText("powder"))) == [1, 4]
    assert scans(cat.search("study wafer")) == [3]
    assert scans(cat.search("alice calibration")) == [1]
    assert scans(cat.search("nothing-like-this")) == []
    assert scans(cat.search("thin_film")) == [3]  # the words of "thin film", not a phrase


def test_keys_never_stored_match_nothing(cat):
    assert scans(cat.search(Key("nowhere") == 3)) == []
    assert scans(cat.search(Key("sample") == 3)) == []  # stored as text, asked as a number
    assert scans(cat.search(Key("nowhere").contains("x") | (Key("operator") == "carol"))) == [4]
    assert scans(cat.search(Key("nowhere") != 3)) == [1, 2, 3, 4, 5]


def test_queries_compose(cat):
    powder = cat.search(Key("tags").contains("powder"))
    assert scans(powder.search(operator="alice")) == [1]
    assert scans(cat.search((Key("operator") == "alice") | (Key("temperature") < 50))) == [1, 3, 4]
    assert scans(cat.search(~PlanName("scan"))) == [2, 4]
    assert len(powder) == 2
    assert powder[-1]["primary"].read().shape[0] == 2


def test_mongo_style_queries(cat):
    assert scans(cat.search({"scan_id": {"$gte": 2, "$lt": 5}, "plan_name": "scan"})) == [3]
    assert scans(cat.search({"$or": [{"operator": "carol"}, {"sample": {"$regex": "^La"}}]})) == [
        2,
        4,
    ]
    assert scans(cat.search({"tags": {"$contains": "calibration"}, "$text": "bob"})) == [2]
    assert scans(
        cat.search({"operator": {"$in": ["alice"]}, "$not": {"exit_status": "abort"}})
    ) == [1]
    with pytest.raises(QueryError, match=r"unknown operator '\$near'"):
        cat.search({"x": {"$near": 1}})
    with pytest.raises(QueryError, match="cannot compare metadata key 'x'"):
        cat.search({"x": {"$gt": [1]}}).summaries()


def test_sorted_and_paginated(cat):
    assert scans(cat.sorted("-time")) == [5, 4, 3, 2, 1]
    assert scans(cat.sorted("plan_name", "-scan_id")) == [2, 4, 5, 3, 1]
    assert [s["scan_id"] for s in cat.sorted("-scan_id").summaries(offset=1, limit=2)] == [4, 3]
    assert [r.start["scan_id"] for r in cat.runs(offset=3)] == [4, 5]
    assert [r.start["scan_id"] for r in cat[1:3]] == [2, 3]
    with pytest.raises(QueryError, match="cannot sort by 'sample'"):
        cat.sorted("sample")


def test_summaries_have_the_cli_fields(cat):
    summary = cat.summaries(limit=1)[0]
    assert set(summary) >= {"uid", "scan_id", "plan_name", "time", "exit_status"}
    assert summary["num_events"] == 4  # two primary, two baseline


def test_bad_query_values_are_refused_with_the_fix(cat):
    with pytest.raises(QueryError, match=r"\$in for 'operator' needs a list of values, not 3"):
        cat.search({"operator": {"$in": 3}})
    with pytest.raises(QueryError, match=r"regex for 'sample' is not valid \('\('"):
        cat.search(Key("sample").regex("("))
    with pytest.raises(QueryError, match="exit status 'bogus'.*success, abort, fail, incomplete"):
        cat.search(ExitStatus("bogus"))
    with pytest.raises(QueryError, match="full-text query '-- !' has no words"):
        cat.search("-- !").summaries()  # the same on both backends


def test_a_failing_query_leaves_the_catalog_usable(cat):
    query = Key("sample").regex("(?P<name>Si) wafer")  # Python's syntax, not PostgreSQL's
    try:
        found = scans(cat.search(query))
    except CatalogError as exc:  # PostgreSQL refuses the pattern and says why
        assert "regular expression" in str(exc)
    else:
        assert found == [3]
    assert len(cat) == 5 and scans(cat.search(operator="bob")) == [2, 5]
