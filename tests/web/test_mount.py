"""mount_web serves the built application at / beside an API, in a real browser too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

fastapi = pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from cielo.web import STATIC_DIR, mount_web  # noqa: E402

from .conftest import ThreadedServer  # noqa: E402


def api_app(static_dir: Path = STATIC_DIR) -> Any:
    """An app with one API route and the web application, mounted as `cielo serve` does."""
    app = fastapi.FastAPI()

    @app.get("/api/status")
    def status() -> dict[str, Any]:
        return {"success": True, "msg": "stand-in"}

    mount_web(app, static_dir)
    return app


@pytest.fixture
def client() -> TestClient:
    return TestClient(api_app())


def test_index_and_client_routes_answer_the_application(client: TestClient) -> None:
    index = (STATIC_DIR / "index.html").read_text()
    for path in ["/", "/history", "/environment", "/no/such/page"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.text == index, path
        assert response.headers["cache-control"] == "no-cache"


def test_built_files_are_served_with_their_type(client: TestClient) -> None:
    favicon = client.get("/favicon.svg")
    assert favicon.status_code == 200
    assert favicon.headers["content-type"] == "image/svg+xml"
    scripts = sorted((STATIC_DIR / "assets").glob("*.js"))
    assert scripts
    script = client.get(f"/assets/{scripts[0].name}")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "immutable" in script.headers["cache-control"]


def test_api_paths_are_the_api_s(client: TestClient) -> None:
    assert client.get("/api/status").json() == {"success": True, "msg": "stand-in"}
    assert client.get("/api/queue/nothing").status_code == 404
    assert client.post("/api/queue/nothing", json={}).status_code == 404
    assert client.post("/api/status", json={}).status_code == 405  # the API's own answer
    assert client.post("/history", json={}).status_code == 404


def test_no_file_outside_the_build_is_served(client: TestClient) -> None:
    index = (STATIC_DIR / "index.html").read_text()
    for path in ["/../_mount.py", "/%2e%2e/_mount.py", "/assets/../../__init__.py"]:
        response = client.get(path)
        assert response.text == index or response.status_code == 404, path
        assert "mount_web" not in response.text


def test_a_missing_build_names_the_command_that_builds_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"scripts/build_web\.sh"):
        mount_web(fastapi.FastAPI(), tmp_path)


def test_login_screen_in_chromium(page: Any, screenshots: Path) -> None:
    """The application loads from the mount with no console error and no failed request."""
    with ThreadedServer(api_app()) as server:
        page.goto(server.url + "/")
        key = page.get_by_label("API key")
        key.wait_for()
        assert key.get_attribute("type") == "password"
        assert page.evaluate("document.activeElement.id") == "api-key"
        icon = page.evaluate("fetch('/favicon.svg').then(r => r.status)")
        assert icon == 200
        page.screenshot(path=str(screenshots / "login.png"))
    assert page.watch.problems == []


def test_routes_added_after_the_mount_still_answer() -> None:
    app = fastapi.FastAPI()
    mount_web(app)

    @app.get("/api/late")
    def late() -> dict[str, bool]:
        return {"success": True}

    client = TestClient(app)
    assert client.get("/api/late").json() == {"success": True}
    assert client.get("/").text == (STATIC_DIR / "index.html").read_text()
