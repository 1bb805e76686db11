"""Logging in through the server's authenticators, in headless Chromium against a real
``cielo serve``: a user name and password checked against a real htpasswd file
(``htpasswd -B``, Debian's apache2-utils), and a bearer token signed by an OpenID issuer
on loopback. Each login makes the browser a short-lived API key of the user's roles;
logging out revokes it.

The oracles are the server's API (``/api/auth/apikeys``, ``/api/auth/whoami``) and what
the server refuses.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cielo.testing import OidcIssuer, QueueServer

pytestmark = pytest.mark.slow


def keys_of(served: QueueServer, user: str) -> list[dict[str, Any]]:
    reply = served.request("/api/auth/apikeys", method="GET").json()
    assert reply["success"], reply
    return [k for k in reply["keys"] if k["user"] == user]


@pytest.fixture(scope="module")
def issuer() -> Iterator[OidcIssuer]:
    pytest.importorskip("jwt")
    server = OidcIssuer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, issuer: OidcIssuer) -> Iterator[QueueServer]:
    """``cielo serve`` with an htpasswd file (alice: user; rita: reviewer) and OIDC."""
    pytest.importorskip("fastapi")
    if shutil.which("htpasswd") is None:
        pytest.skip("htpasswd is missing (apt-get install -y apache2-utils)")
    base = tmp_path_factory.mktemp("login")
    users = base / "users"
    for user, password, create in (("alice", "wonder land", "-c"), ("rita", "r3view", "")):
        command = [
            "htpasswd",
            "-B",
            "-b",
            *([create] if create else []),
            str(users),
            user,
            password,
        ]
        subprocess.run(command, check=True, capture_output=True)
    lines = users.read_text().splitlines()
    users.write_text(
        "\n".join(f"{line}:reviewer" if line.startswith("rita:") else line for line in lines) + "\n"
    )
    args = ["--auth", f"htpasswd:file={users},role=user"]
    args += ["--auth", f"oidc:issuer={issuer.url},audience=cielo,roles=staff:admin"]
    with QueueServer(base, args=args) as server:
        yield server


def test_the_server_names_its_login_schemes(served: QueueServer) -> None:
    reply = httpx.get(served.url + "/api/auth/schemes", timeout=30).json()  # no key needed
    assert reply == {"success": True, "msg": "", "schemes": ["apikey", "basic", "bearer"]}


def test_log_in_with_a_password(page: Any, served: QueueServer, screenshots: Path) -> None:
    page.goto(served.url + "/")
    form = page.get_by_role("form", name="User login")
    form.get_by_label("User name").fill("alice")
    form.get_by_label("Password").fill("not her password")
    page.screenshot(path=str(screenshots / "login-password.png"))
    form.get_by_label("Password").press("Enter")
    # The server's own words, at the form.
    page.get_by_role("alert").filter(has_text="wrong user name or password for 'alice'").wait_for()
    assert page.get_by_role("heading", name="Queue", exact=True).count() == 0
    assert keys_of(served, "alice") == []

    form.get_by_label("Password").fill("wonder land")
    form.get_by_role("button", name="Log in with password").click()
    page.get_by_test_id("who").filter(has_text="alice · user").wait_for()
    key = page.evaluate("sessionStorage.getItem('cielo.apiKey')")
    [made] = keys_of(served, "alice")
    assert key.startswith(made["id"]) and made["roles"] == ["user"]
    assert 0 < made["expires"] - time.time() <= 12 * 3600 + 60  # short-lived: a working day
    # What the page does, it does with that key, as alice: her item is hers.
    form = page.locator("section.plan-form")
    form.get_by_role("checkbox", name="det", exact=True).check()
    form.get_by_role("button", name="Add to queue").click()
    page.get_by_role("status").filter(has_text="count added").wait_for()
    assert [i["user"] for i in served.call("/api/queue/get")["items"]] == ["alice"]
    served.call("/api/queue/clear")

    page.get_by_role("button", name="Log out").click()
    page.get_by_label("API key").wait_for()
    for _ in range(100):  # the page revokes the key as it logs out
        if not keys_of(served, "alice"):
            break
        time.sleep(0.05)
    assert keys_of(served, "alice") == []
    refused = httpx.get(
        served.url + "/api/status", headers={"Authorization": f"ApiKey {key}"}, timeout=30
    )
    assert refused.status_code == 401
    assert [p for p in page.watch.problems if "401" not in p] == []


def test_a_password_user_s_role_shapes_the_page(page: Any, served: QueueServer) -> None:
    page.goto(served.url + "/")
    form = page.get_by_role("form", name="User login")
    form.get_by_label("User name").fill("rita")
    form.get_by_label("Password").fill("r3view")
    form.get_by_label("Password").press("Enter")
    page.get_by_test_id("who").filter(has_text="rita · reviewer").wait_for()
    page.get_by_role("heading", name="Proposals").wait_for()
    assert page.get_by_role("button", name="Start queue").count() == 0
    assert page.get_by_role("heading", name="Add a plan").count() == 0
    assert page.watch.problems == []


def test_log_in_with_a_token(page: Any, served: QueueServer, issuer: OidcIssuer) -> None:
    page.goto(served.url + "/")
    form = page.get_by_role("form", name="Single sign-on login")
    late = issuer.token(preferred_username="tom", roles=["staff"], exp=int(time.time()) - 120)
    form.get_by_label("Token").fill(late)
    form.get_by_role("button", name="Log in with token").click()
    page.get_by_role("alert").filter(has_text="the bearer token has expired").wait_for()

    form.get_by_label("Token").fill(issuer.token(preferred_username="tom", roles=["staff"]))
    form.get_by_label("Token").press("Enter")
    page.get_by_test_id("who").filter(has_text="tom · admin").wait_for()
    [made] = keys_of(served, "tom")
    assert made["roles"] == ["admin"]
    # The live feeds run on the key (a websocket cannot carry the token): the status is pushed.
    page.get_by_test_id("manager-state").filter(has_text="idle").wait_for()
    assert [p for p in page.watch.problems if "401" not in p] == []


def test_the_api_key_field_still_logs_in(page: Any, served: QueueServer) -> None:
    """Beside the other ways, the key typed into the password field, with Enter."""
    page.goto(served.url + "/")
    assert page.evaluate("document.activeElement.id") == "api-key"
    page.keyboard.type(served.key)
    page.keyboard.press("Enter")
    page.get_by_test_id("who").filter(has_text="single-user · admin").wait_for()
    assert page.evaluate("sessionStorage.getItem('cielo.keyMinted')") is None
    page.get_by_role("button", name="Log out").click()
    page.get_by_label("API key").wait_for()
    assert served.call("/api/status")["manager_state"] == "idle"  # the server key stays
    assert page.watch.problems == []
