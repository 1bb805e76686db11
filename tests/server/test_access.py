"""Access control against a real server: API keys with roles (created, expiring,
revoked, stored hashed), own-item editing, group permissions from a file (filtered
listings, refusals naming the rule, reload), and review mode; each on a server whose
queue and keys are in SQLite, and on one whose are in a real redis-server."""

from __future__ import annotations

import json
import pathlib
import sqlite3
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cielo.testing import QueueServer

pytestmark = pytest.mark.slow

PERMISSIONS = """
[groups.primary]
allowed_plans = ["*"]
allowed_devices = ["*"]

[groups.students]
allowed_plans = ["count", "scan"]
forbidden_devices = ["motor"]
"""


def plan(name: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    return {"item_type": "plan", "name": name, "args": list(args), "kwargs": kwargs}


class As:
    """Requests to ``server`` with one key."""

    def __init__(self, server: QueueServer, key: str | None) -> None:
        self.server = server
        self.headers = {"Authorization": f"ApiKey {key}"} if key else {}

    def __call__(self, path: str, body: Any = None, method: str = "POST") -> httpx.Response:
        return httpx.request(
            method, self.server.url + path, json=body or {}, headers=self.headers, timeout=30
        )

    def ok(self, path: str, body: Any = None, method: str = "POST") -> dict[str, Any]:
        response = self(path, body, method)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        assert data.get("success", True), data
        return data


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[QueueServer]:
    """One server per queue store: the queue and the keys in SQLite, or in Redis."""
    base = tmp_path_factory.mktemp("access")
    (base / "permissions.toml").write_text(PERMISSIONS)
    store = None
    if request.param == "redis":
        port = request.getfixturevalue("redis_server").port
        store = f"redis://127.0.0.1:{port}/0?prefix=access:{uuid.uuid4().hex}"
    served = QueueServer(
        base, open=False, store=store, args=["--permissions", str(base / "permissions.toml")]
    )
    try:
        yield served.start()
    finally:
        served.stop()


@pytest.fixture(scope="module")
def admin(server: QueueServer) -> As:
    return As(server, server.key)


def new_key(admin: As, user: str, *roles: str, **extra: Any) -> As:
    reply = admin.ok("/api/auth/apikey", {"user": user, "roles": list(roles), **extra})
    return As(admin.server, reply["secret"])


@pytest.fixture(autouse=True)
def empty_queue(admin: As) -> None:
    admin.ok("/api/queue/clear")
    for item in admin.ok("/api/proposals/get", method="GET")["items"]:
        admin.ok("/api/proposals/remove", {"uid": item["item_uid"]})


def test_whoami_names_the_caller_roles_and_scopes(admin: As) -> None:
    me = admin.ok("/api/auth/whoami", method="GET")
    assert me == {"user": "single-user", "roles": ["admin"], "scopes": me["scopes"]}
    assert {"write:review", "admin:keys", "read:status"} <= set(me["scopes"])
    observer = new_key(admin, "olga", "observer")
    assert observer.ok("/api/auth/whoami", method="GET") == {
        "user": "olga",
        "roles": ["observer"],
        "scopes": ["read:console", "read:history", "read:queue", "read:resources", "read:status"],
    }


def test_keys_are_stored_hashed_and_shown_once(admin: As, server: QueueServer) -> None:
    reply = admin.ok("/api/auth/apikey", {"user": "uma", "roles": ["user"], "note": "beamtime"})
    secret, key = reply["secret"], reply["key"]
    assert len(secret) == 64 and key["id"] == secret[:8] and key["user"] == "uma"
    if server.store.startswith("redis://"):  # a hash beside the queue's keys
        import redis

        prefix = server.store.split("prefix=")[1]
        with redis.Redis.from_url(server.store.split("?")[0], decode_responses=True) as db:
            stored = json.dumps(db.hgetall(f"{prefix}:apikeys"))
    else:
        with sqlite3.connect(server.base / "queue.sqlite") as db:  # beside the queue store
            stored = json.dumps(db.execute("SELECT * FROM api_keys").fetchall())
    assert "uma" in stored and secret not in stored and secret[8:] not in stored
    listed = admin.ok("/api/auth/apikeys", method="GET")["keys"]
    assert key["id"] in [k["id"] for k in listed]
    assert all("secret" not in k and "hash" not in k for k in listed)


def test_an_observer_reads_but_cannot_edit_or_control(admin: As) -> None:
    observer = new_key(admin, "olga", "observer")
    assert observer.ok("/api/status", method="GET")["manager_state"] == "idle"
    refused = observer("/api/queue/item/add", {"item": plan("count", ["det"])})
    assert refused.status_code == 403
    assert "'olga' (role observer) lacks scope(s) ['write:queue:edit']" in refused.json()["detail"]
    assert observer("/api/queue/start").status_code == 403
    assert observer("/api/environment/open").status_code == 403
    assert admin.ok("/api/status", method="GET")["items_in_queue"] == 0


def test_websockets_need_a_key_with_the_scope(admin: As, server: QueueServer) -> None:
    import websockets.sync.client as ws

    observer = new_key(admin, "olga", "observer")
    url = server.url.replace("http", "ws") + "/api/status/ws"
    with ws.connect(url, additional_headers=observer.headers) as sock:
        assert json.loads(sock.recv(timeout=10))["manager_state"] == "idle"
    with ws.connect(url) as sock, pytest.raises(Exception, match="4401|not authenticated"):
        sock.recv(timeout=10)
    with ws.connect(url + "?api_key=0123456789abcdef") as sock:
        with pytest.raises(Exception, match="invalid API key"):
            sock.recv(timeout=10)


def test_an_expired_or_revoked_key_is_refused(admin: As) -> None:
    brief = new_key(admin, "tim", "observer", expires_in=1.0)
    assert brief("/api/status", method="GET").status_code == 200
    time.sleep(1.5)
    expired = brief("/api/status", method="GET")
    assert expired.status_code == 401 and "expired at" in expired.json()["detail"]
    reply = admin.ok("/api/auth/apikey", {"user": "rita", "roles": ["observer"]})
    rita = As(admin.server, reply["secret"])
    assert rita("/api/status", method="GET").status_code == 200
    revoked = admin(f"/api/auth/apikey?first_eight={reply['key']['id']}", method="DELETE")
    assert revoked.json()["success"], revoked.text
    assert rita("/api/status", method="GET").status_code == 401


def test_keys_give_no_more_than_their_creator_holds(admin: As) -> None:
    user = new_key(admin, "uma", "user")
    mine = user.ok("/api/auth/apikey", {"roles": ["observer"]})
    assert mine["key"]["user"] == "uma"
    escalate = user("/api/auth/apikey", {"roles": ["admin"]}).json()
    assert escalate["success"] is False and "cannot give scope(s)" in escalate["msg"]
    other = user("/api/auth/apikey", {"user": "eve", "roles": ["observer"]}).json()
    assert other["success"] is False and "lacks scope(s) ['admin:keys']" in other["msg"]
    group = user("/api/auth/apikey", {"roles": ["observer"], "group": "students"}).json()
    assert group["success"] is False and "admin:keys" in group["msg"]
    unknown = admin("/api/auth/apikey", {"user": "x", "roles": ["observer"], "group": "nogroup"})
    assert "group 'nogroup' is not in the permissions file" in unknown.json()["msg"]
    bad_role = admin("/api/auth/apikey", {"user": "x", "roles": ["superuser"]}).json()
    assert bad_role["success"] is False and "unknown role(s) ['superuser']" in bad_role["msg"]


def test_users_edit_only_their_own_items(admin: As) -> None:
    alice, bob = new_key(admin, "alice", "user"), new_key(admin, "bob", "user")
    item = alice.ok("/api/queue/item/add", {"item": plan("count", ["det"])})["item"]
    assert item["user"] == "alice"
    refused = bob("/api/queue/item/remove", {"uid": item["item_uid"]}).json()
    assert refused["success"] is False
    assert "submitted by 'alice'; 'bob' may edit only their own items" in refused["msg"]
    update = bob("/api/queue/item/update", {"item": {**item, "kwargs": {"num": 2}}}).json()
    assert update["success"] is False and "submitted by 'alice'" in update["msg"]
    batch = bob("/api/queue/item/remove/batch", {"uids": [item["item_uid"]]}).json()
    assert batch["success"] is False
    assert bob("/api/queue/clear").status_code == 403  # clearing removes others' items
    assert admin.ok("/api/status", method="GET")["items_in_queue"] == 1
    alice.ok("/api/queue/item/update", {"item": {**item, "kwargs": {"num": 2}}})
    admin.ok("/api/queue/item/remove", {"uid": item["item_uid"]})  # an admin may


def test_group_permissions_filter_listings_and_refuse_naming_the_rule(admin: As) -> None:
    student = new_key(admin, "sam", "user", group="students")
    plans = student.ok("/api/plans/allowed", method="GET")["plans_allowed"]
    assert sorted(plans) == ["count", "scan"]
    devices = student.ok("/api/devices/allowed", method="GET")["devices_allowed"]
    assert "det" in devices and "motor" not in devices and "motor.user_readback" not in devices
    assert "motor" in admin.ok("/api/devices/allowed", method="GET")["devices_allowed"]
    refused = student("/api/queue/item/add", {"item": plan("rel_scan", ["det"], "motor", -1, 1, 3)})
    assert "plan 'rel_scan' is not allowed to group 'students'" in refused.json()["msg"]
    refused = student(
        "/api/queue/item/add", {"item": plan("count", ["det", "motor.user_readback"])}
    )
    msg = refused.json()["msg"]
    assert "device 'motor.user_readback' is forbidden to group 'students'" in msg
    assert "(forbidden_devices pattern 'motor')" in msg
    batch = [plan("count", ["det"]), plan("scan", ["det"], "motor", -1, 1, num=3)]
    reply = student("/api/queue/item/add/batch", {"items": batch}).json()
    assert reply["success"] is False and [r["success"] for r in reply["results"]] == [True, False]
    assert admin.ok("/api/status", method="GET")["items_in_queue"] == 0
    student.ok("/api/queue/item/add", {"item": plan("count", ["det"], num=2)})


def test_permissions_reload_keeps_the_old_rules_when_the_file_is_bad(
    admin: As, server: QueueServer
) -> None:
    path = pathlib.Path(admin.ok("/api/permissions/get", method="GET")["path"])
    student = new_key(admin, "sam", "user", group="students")
    before = admin.ok("/api/status", method="GET")["plans_allowed_uid"]
    try:
        path.write_text(PERMISSIONS.replace('"scan"]', '"sacn"]'))
        reply = admin("/api/permissions/reload").json()
        assert reply["success"] is False
        assert "[groups.students] allowed_plans: 'sacn' names nothing" in reply["msg"]
        assert "did you mean 'scan'?" in reply["msg"]
        path.write_text(PERMISSIONS + "\n[groups.other]\nallowed_plan = ['count']\n")
        reply = admin("/api/permissions/reload").json()
        assert "[groups.other]: unknown key(s) ['allowed_plan']" in reply["msg"]
        assert sorted(student.ok("/api/plans/allowed", method="GET")["plans_allowed"]) == [
            "count",
            "scan",
        ]
        path.write_text(PERMISSIONS.replace('"count", "scan"', '"count"'))
        assert admin.ok("/api/permissions/reload")["groups"] == ["primary", "students"]
        assert list(student.ok("/api/plans/allowed", method="GET")["plans_allowed"]) == ["count"]
        assert admin.ok("/api/status", method="GET")["plans_allowed_uid"] != before
        user = new_key(admin, "uma", "user")
        assert user("/api/permissions/reload").status_code == 403
    finally:
        path.write_text(PERMISSIONS)
        admin.ok("/api/permissions/reload")


def test_review_mode_proposals_are_approved_or_rejected_by_another(admin: As) -> None:
    agent = new_key(admin, "agent-1", "proposer")
    reviewer = new_key(admin, "rev", "reviewer")
    both = new_key(admin, "pat", "proposer", "reviewer")
    assert agent("/api/queue/item/add", {"item": plan("count", ["det"])}).status_code == 403
    bad = agent("/api/proposals/add", {"item": plan("count", ["nodet"])}).json()
    assert bad["success"] is False and "unknown Readable device 'nodet'" in bad["msg"]
    first = agent.ok("/api/proposals/add", {"item": plan("count", ["det"], num=2)})["item"]
    second = agent.ok("/api/proposals/add", {"item": plan("count", ["det"], num=5)})["item"]
    own = both.ok("/api/proposals/add", {"item": plan("count", ["det"])})["item"]
    assert [p["item_uid"] for p in reviewer.ok("/api/proposals/get", method="GET")["items"]] == [
        first["item_uid"],
        second["item_uid"],
        own["item_uid"],
    ]
    assert agent("/api/proposals/approve", {"uid": first["item_uid"]}).status_code == 403
    selfish = both("/api/proposals/approve", {"uid": own["item_uid"]}).json()
    assert selfish["success"] is False and "cannot review it" in selfish["msg"]

    approved = reviewer.ok(
        "/api/proposals/approve", {"uid": first["item_uid"], "note": "looks fine"}
    )["item"]
    assert approved["user"] == "agent-1"
    assert approved["review"]["decision"] == "approved" and approved["review"]["by"] == "rev"
    queued = admin.ok("/api/queue/get", method="GET")["items"]
    assert [(i["item_uid"], i["review"]["note"]) for i in queued] == [
        (first["item_uid"], "looks fine")
    ]

    reviewer.ok("/api/proposals/reject", {"uid": second["item_uid"], "note": "too long"})
    history = admin.ok("/api/history/get", method="GET")["items"]
    rejected = [h for h in history if h["item_uid"] == second["item_uid"]]
    assert len(rejected) == 1
    assert rejected[0]["result"]["exit_status"] == "rejected"
    assert rejected[0]["result"]["msg"] == "rejected by rev: too long"
    left = reviewer.ok("/api/proposals/get", method="GET")["items"]
    assert [p["item_uid"] for p in left] == [own["item_uid"]]
    missing = reviewer("/api/proposals/approve", {"uid": second["item_uid"]}).json()
    assert missing["success"] is False and "no proposed item" in missing["msg"]


def test_a_bad_permissions_file_stops_the_server_at_start(tmp_path: pathlib.Path) -> None:
    (tmp_path / "perm.toml").write_text("[groups.x]\nforbidden_devices = 'motor'\n")
    served = QueueServer(tmp_path, open=False, args=["--permissions", str(tmp_path / "perm.toml")])
    with pytest.raises(RuntimeError) as failed:
        served.start()
    served.stop()
    assert "[groups.x] forbidden_devices must be a list of names or glob patterns" in str(
        failed.value
    )
