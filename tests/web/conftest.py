"""Fixtures for the web application's tests: a real headless Chromium, driven by Playwright.

The browser is Debian's ``/usr/bin/chromium`` (``apt-get install -y chromium``; Playwright
is installed with ``PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1`` and never downloads one). Without
it the browser tests skip, and fail under ``CI=true``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cielo.testing import CHROMIUM, QueueServer, free_port, launch_chromium, require_server

#: Set to a folder (``docs/web`` to refresh the docs' pictures) to keep the screenshots.
SCREENSHOTS_ENV = "CIELO_WEB_SCREENSHOTS"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_server(
            "playwright is not installed (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 pip install playwright)"
        )
    if not CHROMIUM.exists():
        require_server(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        yield browser
        browser.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where a test saves a screenshot of each page it visits."""
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class PageWatch:
    """What a page reported that a user would call broken: console errors, failed requests."""

    def __init__(self, page: Any) -> None:
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, msg: Any) -> None:
        if msg.type in ("error", "warning"):
            self.problems.append(f"console {msg.type}: {msg.text}")

    def _failed(self, request: Any) -> None:
        # A request cut short by leaving or reloading the page is not a failure a user sees.
        if request.failure != "net::ERR_ABORTED":
            self.problems.append(f"request failed: {request.url}: {request.failure}")

    def _response(self, response: Any) -> None:
        # An API refusal of a wrong key is part of what the tests do; anything else is not.
        if response.status >= 400 and "/api/" not in response.url:
            self.problems.append(f"HTTP {response.status}: {response.url}")


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context and page (tablet-sized) whose problems the test can check."""
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    page.watch = PageWatch(page)
    yield page
    context.close()


class ThreadedServer:
    """An ASGI app served by uvicorn on a free loopback port, in a thread of this process."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"uvicorn did not start on port {self.port}")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QueueServer]:
    """One real ``cielo serve`` (sim profile, environment open) for a test module."""
    pytest.importorskip("fastapi")
    with QueueServer(tmp_path_factory.mktemp("serve")) as server:
        yield server


@pytest.fixture(autouse=True)
def _queue_starts_empty(request: pytest.FixtureRequest) -> None:
    """Each test that uses the module's server starts with an idle manager, an empty queue
    and the queue's default modes, so a test that failed midway cannot leave items or a
    loop mode that the next test would run (one failure in CI once became three)."""
    if "served" not in request.fixturenames:
        return
    served: QueueServer = request.getfixturevalue("served")
    status = served.status()
    if status["re_state"] == "running":  # a test ended in the middle of a plan
        served.call("/api/queue/stop")
        served.call("/api/re/pause", {"option": "immediate"})
        status = served.wait(lambda s: s["re_state"] != "running", 60)
    if status["re_state"] == "paused":
        served.call("/api/re/abort")
    served.call("/api/queue/clear")
    served.call("/api/queue/mode/set", {"mode": {"loop": False, "ignore_failures": False}})
    served.wait(lambda s: s["manager_state"] == "idle" and s["items_in_queue"] == 0, 60)


def key_for(served: QueueServer, user: str, role: str, group: str | None = None) -> str:
    """A new API key of ``user`` with ``role`` (in ``group`` of the permissions file)."""
    asked = {"user": user, "roles": [role], **({"group": group} if group else {})}
    reply = served.call("/api/auth/apikey", asked)
    assert reply["success"], reply.get("msg")
    return str(reply["secret"])


def log_in(page: Any, served: QueueServer, key: str | None = None) -> None:
    """Log in as a user would: type the key (default: the server's) into the password
    field and press Enter."""
    page.goto(served.url + "/")
    page.get_by_label("API key").fill(served.key if key is None else key)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Queue", exact=True).wait_for()


def plan_form(page: Any, served: QueueServer, plan: str, detector: str) -> Any:
    """Log in, choose ``plan`` in the plan form, tick ``detector`` and unfold the optional
    parameters; the form's section."""
    log_in(page, served)
    form = page.locator("section.plan-form")
    form.get_by_role("combobox", name="Plan").select_option(plan)
    form.get_by_role("checkbox", name=detector, exact=True).check()
    form.get_by_text("Optional parameters").click()
    return form


def feed_is_live(page: Any, served: QueueServer, attempts: int = 10) -> None:
    """Wait until the page's documents feed delivers: run one-point counts until the
    page shows one (a fixed wait let a loaded machine start the plan before the feed was
    subscribed, and the page missed the run's first documents)."""
    shown = page.get_by_test_id("live-progress").filter(has_text="1 of 1 points")
    item = {"item_type": "plan", "name": "count", "kwargs": {"detectors": ["det"], "num": 1}}
    for _ in range(attempts):
        added = served.call("/api/queue/item/add", {"item": item})
        assert added["success"], added["msg"]
        started = served.call("/api/queue/start")
        assert started["success"], started["msg"]
        served.wait(lambda s: s["manager_state"] == "idle" and s["items_in_queue"] == 0, 60)
        try:
            shown.wait_for(timeout=5000)
            return
        except Exception:  # the feed was not open yet: the next run tells
            continue
    raise AssertionError(f"the page never showed a run in {attempts} one-point counts")


def wait_until(condition: Any, timeout: float = 30.0) -> None:
    """Poll ``condition()`` (the server's state, read through its API) until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the server never reached the expected state")
        time.sleep(0.05)
