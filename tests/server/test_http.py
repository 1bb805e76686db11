"""The HTTP API with a plain HTTP client: refusals name what is wrong and change nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cielo.testing import QueueServer

pytestmark = pytest.mark.slow


@pytest.fixture
def server(served_module: Any) -> Any:
    served_module.request("/api/queue/clear")
    return served_module


def add(server: Any, item: dict[str, Any]) -> dict[str, Any]:
    response = server.request("/api/queue/item/add", {"item": item})
    assert response.status_code == 200
    return dict(response.json())


def plan(name: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    return {"item_type": "plan", "name": name, "args": list(args), "kwargs": kwargs}


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (plan("cuont", ["det"]), "unknown plan 'cuont'; did you mean 'count'?"),
        (plan("count", ["det"], num="3"), 'parameter num: "3"'),
        (plan("count", ["nodet"]), "parameter detectors[0]: unknown Readable device 'nodet'"),
        (
            plan("scan", ["det"], "motr", -1, 1, num=3),
            "unknown Movable device 'motr'; did you mean 'motor'?",
        ),
        (plan("count", ["det"], nmu=3), "no parameter 'nmu'; did you mean 'num'?"),
        (plan("count"), "'detectors' is a required property"),
        (
            plan("count", ["det"], 3, 4, 5),
            "takes 3 positional argument(s) (detectors, num, delay), got 4",
        ),
        ({"item_type": "function", "name": "count"}, "function 'count' is not allowed on this"),
        ({"item_type": "plan", "name": "count", "args": "det"}, "'args' must be a JSON array"),
        ({**plan("count", ["det"]), "code": "import os"}, "unknown item key(s) 'code'"),
    ],
)
def test_invalid_items_are_refused_naming_the_problem(
    server: Any, item: Any, expected: str
) -> None:
    reply = add(server, item)
    assert reply["success"] is False
    assert expected in reply["msg"]
    assert server.status()["items_in_queue"] == 0


def test_valid_items_with_devices_as_names_and_sub_devices_by_dotted_name(server: Any) -> None:
    reply = add(server, plan("count", ["det", "motor.user_readback"], num=2, md={"agent": "a1"}))
    assert reply["success"], reply["msg"]
    assert reply["item"]["args"] == [["det", "motor.user_readback"]]
    assert reply["item"]["user"] == "single-user"


def test_a_batch_with_one_bad_item_adds_nothing_and_says_which(server: Any) -> None:
    items = [plan("count", ["det"]), plan("count", ["det"], num=-1.5), plan("count", ["det"])]
    reply = server.request("/api/queue/item/add/batch", {"items": items}).json()
    assert reply["success"] is False
    assert [r["success"] for r in reply["results"]] == [True, False, True]
    assert "item 1: plan 'count': parameter num" in reply["msg"]
    assert server.status()["items_in_queue"] == 0


def test_a_large_batch_is_atomic_and_its_answer_truthful(server: Any) -> None:
    items = [plan("count", ["det"], num=n % 5 + 1) for n in range(1000)]
    reply = server.request("/api/queue/item/add/batch", {"items": items}).json()
    assert reply["success"] and len(reply["items"]) == 1000
    assert server.status()["items_in_queue"] == 1000


def test_malformed_requests_get_a_clear_4xx(server: Any) -> None:
    response = httpx.post(
        f"{server.url}/api/queue/item/add",
        content=b'{"item": {"name": "count",',
        headers={**server.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["msg"]
    response = server.request("/api/queue/item/add", {"itme": plan("count", ["det"])})
    assert response.status_code == 422
    assert "item: Field required" in response.json()["msg"]
    response = server.request("/api/queue/item/move", {"uid": "x", "pos_dest": "middle"})
    assert response.status_code == 422 and "pos_dest" in response.json()["msg"]


def test_unknown_uids_and_positions_are_refusals(server: Any) -> None:
    for path, body, expected in [
        ("/api/queue/item/remove", {"uid": "nope"}, "no item with uid 'nope'"),
        ("/api/queue/item/move", {"uid": "nope", "pos_dest": "front"}, "no item with uid 'nope'"),
        ("/api/queue/item/remove", {"pos": 3}, "no item at position 3"),
    ]:
        reply = server.request(path, body).json()
        assert reply == {"success": False, "msg": reply["msg"]} and expected in reply["msg"]
    reply = server.request("/api/queue/item/get", {"uid": "nope"}, method="GET").json()
    assert reply["success"] is False


def test_keys_are_required(server: Any) -> None:
    url = f"{server.url}/api/status"
    assert httpx.get(url).status_code == 401
    assert "ApiKey" in httpx.get(url).json()["detail"]
    assert httpx.get(url, headers={"Authorization": "ApiKey wrong"}).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer x"}).status_code == 401
    # How to log in is told without a key: here, API keys alone (no --auth).
    schemes = httpx.get(f"{server.url}/api/auth/schemes").json()
    assert schemes == {"success": True, "msg": "", "schemes": ["apikey"]}


def test_oversize_bodies_are_refused(server: Any) -> None:
    big = b"[" + b"1," * (40 * 1024 * 1024) + b"1]"
    response = httpx.post(
        f"{server.url}/api/queue/item/add",
        content=big,
        headers={**server.headers, "Content-Type": "application/json"},
        timeout=60,
    )
    assert response.status_code == 413 and "limit" in response.json()["msg"]


def test_chunked_bodies_are_held_to_the_limit(tmp_path: Path) -> None:
    """A body without Content-Length (chunked) is refused once it passes the limit set
    with ``cielo serve --max-body``; a chunked body under it goes through."""
    with QueueServer(tmp_path, open=False, args=["--max-body", "64k"]) as served:
        url = f"{served.url}/api/queue/item/add"
        headers = {**served.headers, "Content-Type": "application/json"}

        def chunked(data: bytes, size: int = 16 * 1024) -> Iterator[bytes]:
            yield from (data[i : i + size] for i in range(0, len(data), size))

        item = json.dumps({"item": plan("count", ["det"], num=1)}) + " " * 40_000  # 3 chunks
        sent = httpx.post(url, content=chunked(item.encode()), headers=headers, timeout=60)
        assert sent.request.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in sent.request.headers
        assert sent.status_code == 200 and sent.json()["success"], sent.text

        big = b'{"item": {"item_type": "plan", "name": "count", "args": [' + b"1," * 500_000
        refused = httpx.post(url, content=chunked(big), headers=headers, timeout=60)
        assert refused.status_code == 413
        msg = refused.json()["msg"]
        assert "the chunked body passed" in msg and "the limit is 65536 bytes (64 KiB)" in msg
        assert "cielo serve --max-body BYTES" in msg
        said = httpx.post(url, content=big, headers=headers, timeout=60)  # Content-Length
        assert said.status_code == 413 and f"the body has {len(big)} bytes" in said.json()["msg"]
        assert served.status()["items_in_queue"] == 1  # only the one under the limit


def test_openapi_and_the_web_application_are_published(server: Any) -> None:
    schema = httpx.get(f"{server.url}/openapi.json").json()
    assert "/api/queue/item/add" in schema["paths"] and "/api/status" in schema["paths"]
    page = httpx.get(f"{server.url}/")
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert httpx.get(f"{server.url}/api/no/such/thing", headers=server.headers).status_code == 404


def test_serving_beyond_loopback_without_a_key_is_refused(tmp_path: Any) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CIELO_SERVER_API_KEY"}
    env["CIELO_STATE_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "cielo.cli", "serve", "--host", "0.0.0.0", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "without authentication" in result.stderr and "CIELO_SERVER_API_KEY" in result.stderr


def test_named_plan_lists_save_and_load(server: Any) -> None:
    first = add(server, plan("count", ["det"], num=1))["item"]
    second = add(server, plan("scan", ["det"], "motor", -1, 1, num=3))["item"]
    reply = server.request("/api/queue/list/save", {"name": "morning"}).json()
    assert reply["success"] and reply["size"] == 2
    saved = server.request("/api/queue/list/save", {"name": "one", "uids": [second["item_uid"]]})
    assert saved.json()["size"] == 1
    missing = server.request("/api/queue/list/save", {"name": "x", "uids": ["nope"]}).json()
    assert missing["success"] is False and "'nope'" in missing["msg"]
    names = server.request("/api/queue/list/names", method="GET").json()["names"]
    assert names == ["morning", "one"]

    server.request("/api/queue/clear")
    loaded = server.request("/api/queue/list/load", {"name": "morning"}).json()
    assert loaded["success"] and [i["name"] for i in loaded["items"]] == ["count", "scan"]
    assert loaded["items"][0]["item_uid"] != first["item_uid"]  # fresh uids
    server.request("/api/queue/list/load", {"name": "one", "pos": "front"})
    queued = server.request("/api/queue/get", method="GET").json()["items"]
    assert [i["name"] for i in queued] == ["scan", "count", "scan"]
    gone = server.request("/api/queue/list/load", {"name": "evening"}).json()
    assert gone["success"] is False and "morning" in gone["msg"]  # says what is saved
    assert server.request("/api/queue/list/delete", {"name": "one"}).json()["success"]
    assert server.request("/api/queue/list/names", method="GET").json()["names"] == ["morning"]
