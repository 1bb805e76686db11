"""Authenticators from plugins and API keys shared by managers, against real servers:
``cielo serve --auth htpasswd:file=...`` checks HTTP Basic credentials against a file
written by Apache's own ``htpasswd -B``; keys created on one manager are honoured (and
their revocation refused at once) by another manager on the same SQLite file or Redis."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cielo.testing import QueueServer

pytestmark = pytest.mark.slow


def basic(user: str, password: str) -> httpx.BasicAuth:
    return httpx.BasicAuth(user, password)


def get(server: QueueServer, path: str, auth: Any = None, key: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"ApiKey {key}"} if key else {}
    return httpx.get(server.url + path, auth=auth, headers=headers, timeout=30)


def htpasswd(path: pathlib.Path, user: str, password: str) -> None:
    """Add ``user`` with Apache's ``htpasswd -B`` (bcrypt): an outside writer of the file."""
    tool = shutil.which("htpasswd")
    if tool is None:  # Debian's apache2-utils; scripts/test.sh installs it
        if os.environ.get("CI"):
            pytest.fail("htpasswd (apache2-utils) is not installed")
        pytest.skip("htpasswd (apache2-utils) is not installed")
    create = [] if path.exists() else ["-c"]
    subprocess.run([tool, "-B", "-b", *create, str(path), user, password], check=True)


@pytest.fixture(scope="module")
def users(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("users") / "users.htpasswd"
    htpasswd(path, "alice", "wonder land")
    htpasswd(path, "rita", "r3view")
    lines = path.read_text().splitlines()  # rita's roles in the third field
    path.write_text(
        "\n".join(
            line + ":reviewer+observer" if line.startswith("rita:") else line for line in lines
        )
        + "\n"
    )
    return path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, users: pathlib.Path) -> Iterator[QueueServer]:
    server = QueueServer(
        tmp_path_factory.mktemp("auth"), open=False, args=["--auth", f"htpasswd:file={users}"]
    )
    try:
        yield server.start()
    finally:
        server.stop()


def test_basic_credentials_from_an_htpasswd_file_get_their_roles(served: QueueServer) -> None:
    alice = get(served, "/api/auth/whoami", basic("alice", "wonder land"))
    assert alice.status_code == 200, alice.text
    assert alice.json()["user"] == "alice" and alice.json()["roles"] == ["user"]
    rita = get(served, "/api/auth/whoami", basic("rita", "r3view")).json()
    assert rita["roles"] == ["reviewer", "observer"] and "write:review" in rita["scopes"]
    assert "write:queue:edit" not in rita["scopes"]
    added = httpx.post(
        served.url + "/api/queue/item/add",
        json={"item": {"item_type": "plan", "name": "count", "args": [["det"]]}},
        auth=basic("alice", "wonder land"),
        timeout=30,
    ).json()
    assert added["success"] and added["item"]["user"] == "alice"
    refused = httpx.post(
        served.url + "/api/queue/item/add",
        json={"item": {"item_type": "plan", "name": "count", "args": [["det"]]}},
        auth=basic("rita", "r3view"),
        timeout=30,
    )
    assert refused.status_code == 403 and "write:queue:edit" in refused.text


def test_wrong_or_malformed_basic_credentials_are_refused(served: QueueServer) -> None:
    wrong = get(served, "/api/status", basic("alice", "wonderland"))
    assert wrong.status_code == 401
    assert "wrong user name or password for 'alice'" in wrong.json()["detail"]
    assert "wonderland" not in wrong.text
    assert get(served, "/api/status", basic("mallory", "x")).status_code == 401
    garbled = httpx.get(
        served.url + "/api/status", headers={"Authorization": "Basic !!!"}, timeout=30
    )
    assert garbled.status_code == 401 and "base64 of 'user:password'" in garbled.text
    assert get(served, "/api/status").status_code == 401  # nothing at all: not anonymous
    assert get(served, "/api/status", key=served.key).status_code == 200  # keys still work


def test_a_user_added_to_the_file_is_let_in_without_a_restart(
    served: QueueServer, users: pathlib.Path
) -> None:
    assert get(served, "/api/status", basic("bob", "builder")).status_code == 401
    time.sleep(0.01)  # a new modification time
    htpasswd(users, "bob", "builder")
    assert get(served, "/api/auth/whoami", basic("bob", "builder")).json()["user"] == "bob"
    assert get(served, "/api/status", basic("alice", "wonder land")).status_code == 200


def test_an_unknown_authenticator_or_bad_file_stops_the_server(tmp_path: pathlib.Path) -> None:
    (tmp_path / "md5.htpasswd").write_text("carol:$apr1$abc$def\n")
    for spec, says in [
        ("htpaswd:file=x", "no authenticator 'htpaswd' (did you mean 'htpasswd'?)"),
        (f"htpasswd:file={tmp_path / 'md5.htpasswd'}", "not a bcrypt hash; write it with"),
        ("htpasswd:file", "option 'file' is not KEY=VALUE"),
    ]:
        server = QueueServer(tmp_path, open=False, args=["--auth", spec])
        with pytest.raises(RuntimeError) as failed:
            server.start()
        server.stop()
        assert says in str(failed.value)


# -- keys shared by managers ------------------------------------------------------------------


def _shared_pair(tmp_path: pathlib.Path, store: str) -> tuple[QueueServer, QueueServer]:
    one = QueueServer(tmp_path / "one", open=False, store=store)
    two = QueueServer(tmp_path / "two", open=False, store=store)
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    return one, two


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_keys_are_shared_by_managers_of_one_store(
    tmp_path: pathlib.Path, request: pytest.FixtureRequest, backend: str
) -> None:
    if backend == "redis":
        import uuid

        port = request.getfixturevalue("redis_server").port
        store = f"redis://127.0.0.1:{port}/0?prefix=test:{uuid.uuid4().hex}"
    else:
        store = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    one, two = _shared_pair(tmp_path, store)
    try:
        one.start()
        two.start()
        made = httpx.post(
            one.url + "/api/auth/apikey",
            json={"user": "uma", "roles": ["user"]},
            headers=one.headers,
            timeout=30,
        ).json()
        secret, key_id = made["secret"], made["key"]["id"]
        assert get(two, "/api/auth/whoami", key=secret).json()["user"] == "uma"
        listed = httpx.get(two.url + "/api/auth/apikeys", headers=two.headers, timeout=30)
        assert key_id in [k["id"] for k in listed.json()["keys"]]
        revoked = httpx.delete(
            two.url + "/api/auth/apikey",
            params={"first_eight": key_id},
            headers=two.headers,
            timeout=30,
        )
        assert revoked.json()["success"], revoked.text
        refused = get(one, "/api/status", key=secret)
        assert refused.status_code == 401 and "invalid API key" in refused.text
    finally:
        one.stop()
        two.stop()


def test_keys_of_an_older_keys_json_are_imported(tmp_path: pathlib.Path) -> None:
    import hashlib

    secret = "ab" * 32
    info = {
        "id": secret[:8],
        "user": "old",
        "group": "primary",
        "roles": ["observer"],
        "scopes": ["read:status"],
        "created": 1.0,
        "expires": None,
        "note": "",
    }
    state = tmp_path / "state" / "server" / "sim"
    state.mkdir(parents=True)
    digest = hashlib.sha256(secret.encode()).hexdigest()
    (state / "keys.json").write_text(json.dumps({"keys": {digest: info}}))
    server = QueueServer(tmp_path, open=False)
    try:
        server.start()
        assert get(server, "/api/auth/whoami", key=secret).json()["user"] == "old"
        assert not (state / "keys.json").exists() and (state / "keys.json.imported").exists()
    finally:
        server.stop()
