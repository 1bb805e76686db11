"""The short way through the HTTP stack (``FastRoutes``) answers exactly as FastAPI does:
the same requests, good and bad, sent to the server's app and to the same app without
it (each with its own real SQLite store and the sim profile's plans) get the same status
codes and the same answers, refusals and messages included."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cielo.server import Settings, build_app
from cielo.server.api import ROUTERS, FastRoutes, plain_routes

KEY = "fast-routes-key"
ITEM = {"item_type": "plan", "name": "count", "args": [["det"]], "kwargs": {"num": 1}}
UID = "00000000-0000-0000-0000-000000000001"
JSON = {"Content-Type": "application/json"}

#: (method, path, body bytes or JSON, headers) -- the key is added unless headers say
REQUESTS: list[tuple[str, str, Any, dict[str, str]]] = [
    ("GET", "/api/status", {}, {}),
    ("GET", "/api/status", None, {}),  # no body at all
    ("POST", "/api/queue/item/add", {"item": {**ITEM, "item_uid": UID}}, {}),
    ("POST", "/api/queue/item/add", {"item": {**ITEM, "name": "cout"}}, {}),
    ("POST", "/api/queue/item/add", {"item": {**ITEM, "kwargs": {"num": "x"}}}, {}),
    ("POST", "/api/queue/item/add", {"item": ITEM, "pos": "middle"}, {}),
    ("POST", "/api/queue/item/add", {"item": ITEM, "colour": 1}, {}),
    ("POST", "/api/queue/item/add", None, {}),
    ("POST", "/api/queue/item/add", b'{"item": ', JSON),
    ("POST", "/api/queue/item/add", b'{"item": {}}', {"Content-Type": "text/plain"}),
    ("POST", "/api/queue/item/add", b'{"item": {}}', {"Content-Type": ""}),
    ("POST", "/api/queue/item/add", b"\xff\xfe", JSON),
    ("POST", "/api/queue/item/add", {"item": ITEM}, {"Authorization": ""}),
    ("POST", "/api/queue/item/add", {"item": ITEM}, {"Authorization": "ApiKey wrong"}),
    ("POST", "/api/queue/item/add", {"item": ITEM}, {"Authorization": "Bearer x"}),
    ("GET", "/api/queue/item/get", {"uid": UID}, {}),
    ("GET", "/api/queue/item/get", {"uid": "no-such-uid"}, {}),
    ("GET", "/api/queue/item/get", {"pos": 7}, {}),
    ("POST", "/api/queue/item/move", {"uid": UID}, {}),
    ("POST", "/api/queue/item/move", {"uid": UID, "pos_dest": "front"}, {}),
    ("POST", "/api/queue/start", {}, {}),  # the environment is closed: refused
    ("GET", "/api/queue/get", {}, {}),
    ("GET", "/api/history/get", {}, {}),
    ("POST", "/api/queue/clear", {}, {}),
    ("GET", "/api/queue/get", {}, {}),
]

#: fields that differ between two servers whatever the path (times, fresh uids)
_VOLATILE = {"time", "status_uid", "run_list_uid", "worker_standby_pid", "instrument_lock"}


@pytest.fixture
def clients(tmp_path: pathlib.Path) -> Iterator[tuple[TestClient, TestClient]]:
    apps = []
    for name in ("fast", "fastapi"):
        settings = Settings(
            profile="sim",
            run_dir=tmp_path / name,
            api_keys={KEY: "single-user"},
            prestart=False,
        )
        app = build_app(settings)
        if name == "fastapi":
            assert isinstance(app.fast_routes, FastRoutes)
            app.fast_routes = None  # every request through FastAPI
        apps.append(app)
    with TestClient(apps[0]) as fast, TestClient(apps[1]) as plain:
        yield fast, plain


def _answer(client: TestClient, method: str, path: str, body: Any, headers: dict[str, str]):
    headers = {"Authorization": f"ApiKey {KEY}", **headers}
    headers = {k: v for k, v in headers.items() if v}
    if isinstance(body, bytes):
        response = client.request(method, path, content=body, headers=headers)
    elif body is None:
        response = client.request(method, path, headers=headers)
    else:
        response = client.request(method, path, json=body, headers=headers)
    data = response.json()
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k not in _VOLATILE}
        for key in ("item", "running_item"):
            if isinstance(data.get(key), dict) and data[key].get("item_uid") != UID:
                data[key] = {k: v for k, v in data[key].items() if k != "item_uid"}
        if isinstance(data.get("items"), list):
            data["items"] = [
                {k: v for k, v in it.items() if k != "item_uid"} for it in data["items"]
            ]
    return response.status_code, data


def test_every_answer_is_the_one_fastapi_gives(clients: tuple[TestClient, TestClient]) -> None:
    fast, plain = clients
    for method, path, body, headers in REQUESTS:
        ours = _answer(fast, method, path, body, headers)
        theirs = _answer(plain, method, path, body, headers)
        assert ours == theirs, (method, path, body, headers)


def test_the_plain_routes_are_found_from_the_routers() -> None:
    routes = plain_routes(r for router in ROUTERS for r in router.routes)
    for hot in (
        ("GET", "/api/status"),
        ("POST", "/api/queue/item/add"),
        ("POST", "/api/queue/item/move"),
        ("GET", "/api/queue/item/get"),
        ("GET", "/api/queue/get"),
    ):
        assert hot in routes
    # routes that read the request itself or a path parameter stay with FastAPI
    assert ("POST", "/api/auth/apikey") not in routes
    assert not any("{" in path for _, path in routes)
