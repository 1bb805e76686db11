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
    """An app with the API routes the login screen asks and the web application, mounted
    as `cielo serve` does."""
    app = fastapi.FastAPI()

    @app.get("/api/status")
    def status() -> dict[str, Any]:
        return {"success": True, "msg": "stand-in"}

    @app.get("/api/auth/schemes")  # what the login screen asks first
    def schemes() -> dict[str, Any]:
        return {"success": True, "msg": "", "schemes": ["apikey"]}

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


def test_assets_go_compressed_as_the_build_compressed_them(client: TestClient) -> None:
    """Brotli to a browser that takes it, else gzip, else the file, with its own type
    (that Chromium decodes the Brotli copies, the browser tests show)."""
    import gzip

    script = max((STATIC_DIR / "assets").glob("index-*.js"), key=lambda p: p.stat().st_size)
    built = script.read_bytes()
    url = f"/assets/{script.name}"
    for accept, coding, stored in [
        ("gzip, deflate, br, zstd", "br", script.with_name(script.name + ".br")),
        ("gzip, deflate", "gzip", script.with_name(script.name + ".gz")),
        ("br;q=0, gzip", "gzip", script.with_name(script.name + ".gz")),
    ]:
        response = client.get(url, headers={"Accept-Encoding": accept})
        assert response.headers["content-encoding"] == coding, accept
        assert response.headers["vary"] == "Accept-Encoding"
        assert "javascript" in response.headers["content-type"]
        assert int(response.headers["content-length"]) == stored.stat().st_size < len(built) / 3
        if coding == "gzip":
            assert gzip.decompress(stored.read_bytes()) == built
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == built


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
    """The application loads from the mount with no console error and no failed request;
    its scripts come Brotli-compressed, and Chromium runs what it decodes."""
    encodings: dict[str, str | None] = {}
    page.on(
        "response",
        lambda r: (
            encodings.__setitem__(r.url.rsplit("/", 1)[-1], r.headers.get("content-encoding"))
            if "/assets/" in r.url
            else None
        ),
    )
    with ThreadedServer(api_app()) as server:
        page.goto(server.url + "/")
        key = page.get_by_label("API key")
        key.wait_for()
        assert key.get_attribute("type") == "password"
        assert page.evaluate("document.activeElement.id") == "api-key"
        icon = page.evaluate("fetch('/favicon.svg').then(r => r.status)")
        assert icon == 200
        page.screenshot(path=str(screenshots / "login.png"))
    scripts = {name: coding for name, coding in encodings.items() if name.endswith(".js")}
    assert scripts and set(scripts.values()) == {"br"}, encodings
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
