"""Spreadsheet upload, the asyncio client and the newer ``cielo queue`` verbs (move,
propose/approve/reject, keys, whoami, watch, upload) against a real ``cielo serve``."""

from __future__ import annotations

import asyncio
import json
import pathlib
from typing import Any

import pytest

from cielo.server import AsyncQueueClient, QueueClient, QueueError

from .test_cli import queue

pytestmark = pytest.mark.slow

SHEET = [
    ["plan", "detectors", "args", "num", "md"],
    ["count", "det, det2", "", "3", '{"sample": "Fe"}'],
    ["scan", "det", "motor, -1, 1.5", "5", ""],
    ["count", "det", "", "", ""],
]


@pytest.fixture
def server(served_module: Any) -> Any:
    served_module.request("/api/queue/clear")
    return served_module


def client(server: Any) -> QueueClient:
    return QueueClient(server.url, api_key=server.key)


def write_csv(path: pathlib.Path, rows: list[list[Any]]) -> pathlib.Path:
    import csv

    with path.open("w", newline="") as out:
        csv.writer(out).writerows(rows)
    return path


def test_a_csv_adds_one_item_per_row(server: Any, tmp_path: pathlib.Path) -> None:
    with client(server) as c:
        added = c.upload(write_csv(tmp_path / "plans.csv", SHEET))
        queued = c.queue()["items"]
    assert [(i["name"], i["args"], i["kwargs"]) for i in queued] == [
        ("count", [], {"detectors": ["det", "det2"], "num": 3, "md": {"sample": "Fe"}}),
        ("scan", [["det"], "motor", -1, 1.5], {"num": 5}),
        ("count", [], {"detectors": ["det"]}),
    ]
    assert [i["item_uid"] for i in added] == [i["item_uid"] for i in queued]


def test_an_xlsx_is_read_with_openpyxl(server: Any, tmp_path: pathlib.Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    for row in [["plan", "detectors", "num", "delay"], ["count", "det", 2, 0.1]]:
        book.active.append(row)
    book.save(tmp_path / "plans.xlsx")
    with client(server) as c:
        (item,) = c.upload(tmp_path / "plans.xlsx")
    assert item["kwargs"] == {"detectors": ["det"], "num": 2, "delay": 0.1}


def test_a_sheet_with_bad_rows_adds_nothing_and_names_each_row(
    server: Any, tmp_path: pathlib.Path
) -> None:
    rows = [*SHEET, ["cuont", "det", "", "", ""], ["count", "nodet", "", "2", ""]]
    reply = server.request(
        "/api/queue/upload/spreadsheet",
        None,
    )  # no file: a clear 422
    assert reply.status_code == 422 and "spreadsheet" in reply.json()["msg"]
    with client(server) as c:
        with pytest.raises(QueueError) as refused:
            c.upload(write_csv(tmp_path / "bad.csv", rows))
        assert c.status()["items_in_queue"] == 0
    msg = str(refused.value)
    assert msg.startswith("2 of 5 items refused, none added")
    assert "row 5: unknown plan 'cuont'; did you mean 'count'?" in msg
    assert "row 6: plan 'count': parameter detectors[0]: unknown Readable device 'nodet'" in msg
    with client(server) as c, pytest.raises(QueueError, match="must name the columns"):
        c.upload(write_csv(tmp_path / "nohead.csv", [["count", "det"]]))
    (tmp_path / "plans.txt").write_text("plan\ncount\n")
    with client(server) as c, pytest.raises(QueueError, match=r"upload a \.csv or \.xlsx"):
        c.upload(tmp_path / "plans.txt")
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    with client(server) as c, pytest.raises(QueueError, match="not a readable xlsx"):
        c.upload(tmp_path / "broken.xlsx")


def test_the_asyncio_client_adds_runs_and_waits_on_pushed_status(server: Any) -> None:
    server.open_environment()

    async def session() -> tuple[list[str], dict[str, Any]]:
        async with AsyncQueueClient(server.url, api_key=server.key) as c:
            me = await c.whoami()
            assert me["user"] == "single-user"
            item = await c.add({"item_type": "plan", "name": "count", "args": [["det"]]})
            names: list[str] = []

            async def documents() -> None:
                async for message in c.watch("documents"):
                    names.append(message["name"])
                    if message["name"] == "stop":
                        return

            watching = asyncio.ensure_future(documents())
            await asyncio.sleep(0.5)  # subscribed before the run starts
            await c.start()
            await asyncio.wait_for(watching, 60)
            status = await c.wait(
                lambda s: s["items_in_queue"] == 0 and s["manager_state"] == "idle", timeout=60
            )
            assert (await c.history())[-1]["item_uid"] == item["item_uid"]
            with pytest.raises(QueueError, match="unknown plan"):
                await c.add({"item_type": "plan", "name": "nope"})
            return names, status

    names, status = asyncio.run(session())
    assert names[0] == "start" and "event" in names and names[-1] == "stop"
    assert status["manager_state"] == "idle"


def test_cli_move(server: Any, tmp_path: pathlib.Path) -> None:
    first = queue(server, "add", "count([det], num=1)").stdout.strip()
    second = queue(server, "add", "count([det], num=2)").stdout.strip()
    moved = queue(server, "move", second, "--pos", "front")
    assert moved.returncode == 0 and "to position 0" in moved.stdout, moved.stderr
    with client(server) as c:
        assert [i["item_uid"] for i in c.queue()["items"]] == [second, first]
    assert queue(server, "move", first, "--before", second).returncode == 0
    bad = queue(server, "move", first, "--pos", "middle")
    assert bad.returncode != 0 and "'middle' is not an index" in bad.stderr


def test_cli_review_and_keys(server: Any) -> None:

    made = queue(server, "key", "create", "--role", "proposer", "--user", "agent-7", "--note", "ai")
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert "shown only once" in made.stderr
    who = queue(server, "whoami", key=secret).stdout
    assert "user    agent-7" in who and "roles   proposer" in who
    proposed = queue(server, "propose", "count([det], num=4)", key=secret)
    assert proposed.returncode == 0, proposed.stderr
    uid = proposed.stdout.strip()
    refused = queue(server, "add", "count([det])", key=secret)
    assert refused.returncode == 1 and "lacks scope(s) ['write:queue:edit']" in refused.stderr
    assert uid in queue(server, "proposals").stdout
    approved = queue(server, "approve", uid, "--note", "ok")
    assert approved.returncode == 0 and "approved count" in approved.stdout
    listed = queue(server, "key", "list").stdout
    key_id = secret[:8]
    assert key_id in listed and "agent-7" in listed and secret not in listed
    as_json = json.loads(queue(server, "key", "list", "--json").stdout)
    assert key_id in [k["id"] for k in as_json] and secret not in json.dumps(as_json)
    second = queue(server, "propose", "count([det], num=5)", key=secret).stdout.strip()
    rejected = queue(server, "reject", second, "--note", "no")
    assert rejected.returncode == 0 and "rejected count" in rejected.stdout
    assert queue(server, "key", "revoke", key_id).returncode == 0
    gone = queue(server, "whoami", key=secret)
    assert gone.returncode == 1 and "invalid API key" in gone.stderr


def test_cli_watch_and_upload(server: Any, tmp_path: pathlib.Path) -> None:
    watched = queue(server, "watch", "--count", "1")
    assert watched.returncode == 0 and "queue 0" in watched.stdout

    sheet = write_csv(
        tmp_path / "two.csv", [["plan", "detectors"], ["count", "det"], ["count", "det2"]]
    )
    uploaded = queue(server, "upload", str(sheet))
    assert uploaded.returncode == 0 and "added 2 items" in uploaded.stderr
    assert "queue 2" in queue(server, "watch", "--count", "1").stdout
