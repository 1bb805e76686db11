"""``/api/runs/...`` (the catalog browser's endpoints) against a real ``cielo serve``.

The oracle is the catalog itself, opened here with :mod:`cielo.storage`: what the
server answers must be what the worker stored.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cielo.testing import QueueServer

pytestmark = pytest.mark.slow


def get(served: QueueServer, path: str, **params: Any) -> Any:
    import httpx

    headers = {"Authorization": f"ApiKey {served.key}"}
    return httpx.get(served.url + path, params=params, headers=headers, timeout=30)


def run_plan(served: QueueServer, name: str, *args: Any, **kwargs: Any) -> None:
    item = {"item_type": "plan", "name": name, "args": list(args), "kwargs": kwargs}
    done = served.call("/api/status")["items_in_history"]
    added = served.call("/api/queue/item/add", {"item": item})
    assert added["success"], added["msg"]
    assert served.call("/api/queue/start")["success"]
    served.wait(lambda s: s["items_in_history"] > done and s["manager_state"] == "idle", 90)


@pytest.fixture(scope="module")
def with_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QueueServer]:
    pytest.importorskip("fastapi")
    with QueueServer(tmp_path_factory.mktemp("runs")) as server:
        empty = get(server, "/api/runs/search").json()
        assert empty == {
            "success": True,
            "msg": "",
            "runs": [],
            "total": 0,
            "total_exact": True,
            "offset": 0,
            "limit": 20,
        }
        run_plan(server, "count", detectors=["det"], num=3)
        run_plan(server, "scan", ["det"], "motor", -1, 1, num=5)
        yield server


def catalog(served: QueueServer) -> Any:
    from cielo.storage import open_catalog

    return open_catalog(f"sqlite:///{served.base / 'catalog.sqlite'}", create=False)


def test_search_pages_and_filters(with_runs: QueueServer) -> None:
    with catalog(with_runs) as cat:
        stored = cat.sorted("-time").summaries()
    everything = get(with_runs, "/api/runs/search").json()
    assert everything["total"] == 2 and everything["runs"] == stored
    page = get(with_runs, "/api/runs/search", limit=1, offset=1).json()
    assert page["runs"] == stored[1:] and page["total"] == 2
    scans = get(with_runs, "/api/runs/search", plan="scan").json()
    assert [r["plan_name"] for r in scans["runs"]] == ["scan"]
    by_id = get(with_runs, "/api/runs/search", scan_id=f"{stored[1]['scan_id']}:").json()
    assert by_id["total"] == 2
    assert get(with_runs, "/api/runs/search", status="success").json()["total"] == 2
    future = time.time() + 3600
    assert get(with_runs, "/api/runs/search", since=str(future)).json()["total"] == 0


def test_search_counts_up_to_a_limit(with_runs: QueueServer) -> None:
    """Past ``count_limit`` the total says "more than" (the catalog stops counting)."""
    capped = get(with_runs, "/api/runs/search", count_limit=1, limit=1).json()
    assert (capped["total"], capped["total_exact"], len(capped["runs"])) == (1, False, 1)
    exact = get(with_runs, "/api/runs/search", count_limit=2).json()
    assert (exact["total"], exact["total_exact"]) == (2, True)
    wrong = get(with_runs, "/api/runs/search", count_limit=0)
    assert wrong.status_code == 422 and "count_limit" in wrong.text


def test_pages_continue_after_a_uid(with_runs: QueueServer) -> None:
    with catalog(with_runs) as cat:
        stored = cat.sorted("-time").summaries()
    first = get(with_runs, "/api/runs/search", limit=1).json()
    assert first["runs"] == stored[:1]
    after = get(with_runs, "/api/runs/search", limit=1, after=stored[0]["uid"]).json()
    assert after["runs"] == stored[1:2] and after["total"] == 2
    assert get(with_runs, "/api/runs/search", after=stored[-1]["uid"]).json()["runs"] == []
    both = get(with_runs, "/api/runs/search", offset=1, after=stored[0]["uid"]).json()
    assert both["success"] is False and "not both" in both["msg"]
    unknown = get(with_runs, "/api/runs/search", after="no-such-run").json()
    assert unknown["success"] is False and "'no-such-run'" in unknown["msg"]


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"status": "finished"}, ["'finished'", "success"]),
        ({"scan_id": "x:y"}, ["'x:y'", "A:B"]),
        ({"uid": "ab"}, ["'ab'", "3 characters"]),
        ({"since": "yesterday"}, ["yesterday"]),
    ],
)
def test_bad_search_fields_are_named(
    with_runs: QueueServer, params: dict[str, str], words: list[str]
) -> None:
    reply = get(with_runs, "/api/runs/search", **params).json()
    assert reply["success"] is False
    for word in words:
        assert word in reply["msg"]


def test_limit_out_of_range_is_a_422_naming_it(with_runs: QueueServer) -> None:
    response = get(with_runs, "/api/runs/search", limit=0)
    assert response.status_code == 422 and "limit" in response.json()["msg"]


def test_run_metadata_and_stream_columns(with_runs: QueueServer) -> None:
    with catalog(with_runs) as cat:
        run = cat.search({"plan_name": "scan"})[-1]
        expected = run["primary"].columns(["det", "motor"])
        uid = run.uid
    meta = get(with_runs, f"/api/runs/{uid[:8]}").json()
    assert meta["start"]["uid"] == uid and meta["exit_status"] == "success"
    assert meta["streams"]["primary"]["det"]["scalar"] is True
    table = get(with_runs, f"/api/runs/{uid}/streams/primary").json()
    assert table["seq_num"] == [1, 2, 3, 4, 5]
    assert table["columns"]["det"] == expected["det"].tolist()
    assert table["columns"]["motor"] == pytest.approx([-1, -0.5, 0, 0.5, 1])
    missing = get(with_runs, f"/api/runs/{uid}/streams/baseline2").json()
    assert (
        missing["success"] is False
        and "'baseline2'" in missing["msg"]
        and "primary" in missing["msg"]
    )
    unknown = get(with_runs, "/api/runs/ffffffffff").json()
    assert unknown["success"] is False and "ffffffffff" in unknown["msg"]


def test_export_csv_reads_back(with_runs: QueueServer) -> None:
    assert "csv" in get(with_runs, "/api/runs/suitcases").json()["suitcases"]
    with catalog(with_runs) as cat:
        run = cat.search({"plan_name": "scan"})[-1]
        det = run["primary"].columns(["det"])["det"].tolist()
        uid = run.uid
    response = get(with_runs, f"/api/runs/{uid}/export/csv")
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    assert "attachment" in disposition and ".csv" in disposition
    rows = list(
        csv.DictReader(line for line in io.StringIO(response.text) if not line.startswith("#"))
    )
    assert [float(r["det"]) for r in rows] == pytest.approx(det)


def test_export_in_an_unknown_format_names_the_known(with_runs: QueueServer) -> None:
    reply = get(with_runs, "/api/runs/-1/export/docx").json()
    assert reply["success"] is False and "'docx'" in reply["msg"] and "csv" in reply["msg"]


def test_runs_need_a_key(with_runs: QueueServer, tmp_path: Path) -> None:
    import httpx

    assert httpx.get(with_runs.url + "/api/runs/search", timeout=30).status_code == 401


def test_a_feed_takes_the_key_in_a_subprotocol(with_runs: QueueServer) -> None:
    """As the browser sends it: the key out of the URL, the server choosing ``cielo``."""
    client = pytest.importorskip("websockets.sync.client")
    url = with_runs.url.replace("http://", "ws://") + "/api/status/ws"
    protocols = ["cielo", f"cielo.apikey.{with_runs.key}"]
    with client.connect(url, subprotocols=protocols) as ws:  # type: ignore[arg-type]
        assert ws.subprotocol == "cielo"
        assert json.loads(ws.recv(timeout=10))["manager_state"] == "idle"
    wrong = ["cielo", "cielo.apikey.not-the-key"]
    with pytest.raises(Exception, match="4401|invalid API key"):
        with client.connect(url, subprotocols=wrong) as ws:  # type: ignore[arg-type]
            ws.recv(timeout=10)


PROPOSALS = """
[groups.primary]

[groups.visitors]
allowed_proposals = ["P-1*"]
forbidden_proposals = ["P-13"]
"""


def test_a_group_sees_the_runs_of_its_proposals(tmp_path: Path) -> None:
    """Runs of proposals P-11, P-12, P-13, P-2 and one without: the visitors (P-1*, not
    P-13) see P-11 and P-12 in searches, pages and single-run reads; the primary group sees all."""
    import httpx

    pytest.importorskip("fastapi")
    (tmp_path / "permissions.toml").write_text(PROPOSALS)
    with QueueServer(
        tmp_path, args=["--permissions", str(tmp_path / "permissions.toml")]
    ) as server:
        for proposal in ["P-11", "P-12", "P-13", "P-2", None]:
            md = {"proposal": proposal} if proposal else {}
            run_plan(server, "count", detectors=["det"], md=md)
        reply = server.call(
            "/api/auth/apikey", {"user": "vera", "roles": ["user"], "group": "visitors"}
        )
        visitor = {"Authorization": f"ApiKey {reply['secret']}"}

        def as_visitor(path: str, **params: Any) -> Any:
            return httpx.get(server.url + path, params=params, headers=visitor, timeout=30).json()

        with catalog(server) as cat:
            proposal = {r.uid: r.start.get("proposal") for r in cat.runs()}
        assert len(get(server, "/api/runs/search").json()["runs"]) == 5  # primary: every run
        seen = as_visitor("/api/runs/search")
        assert [proposal[r["uid"]] for r in seen["runs"]] == ["P-12", "P-11"]
        assert seen["total"] == 2
        first = as_visitor("/api/runs/search", limit=1)
        after = as_visitor("/api/runs/search", limit=1, after=first["runs"][0]["uid"])
        assert [proposal[r["uid"]] for r in after["runs"]] == ["P-11"]
        hidden = {p: uid for uid, p in proposal.items() if p in ("P-13", "P-2", None)}
        for name, uid in hidden.items():
            for path in (
                f"/api/runs/{uid}",
                f"/api/runs/{uid}/streams/primary",
                f"/api/runs/{uid}/streams/primary/frames/det",
                f"/api/runs/{uid}/export/csv",
            ):
                refused = as_visitor(path)
                assert refused["success"] is False and "is not shown" in refused["msg"], (
                    name,
                    path,
                )
        assert (
            "forbidden_proposals pattern 'P-13'" in as_visitor(f"/api/runs/{hidden['P-13']}")["msg"]
        )
        shown = next(uid for uid, p in proposal.items() if p == "P-11")
        assert as_visitor(f"/api/runs/{shown}")["start"]["proposal"] == "P-11"
        assert len(as_visitor(f"/api/runs/{shown}/streams/primary")["seq_num"]) == 1
