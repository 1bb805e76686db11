"""The web application against a real ``cielo serve``, in headless Chromium.

What the browser shows is checked against what the server's API says (the oracle): the
queue's order, the items run, the RunEngine's state.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from cielo.testing import QueueServer

from .conftest import feed_is_live, log_in, plan_form, wait_until

pytestmark = pytest.mark.slow


def queue_names(served: QueueServer) -> list[str]:
    """The queue as the server holds it: each item's detectors, in order."""
    return [",".join(i["kwargs"]["detectors"]) for i in served.call("/api/queue/get")["items"]]


def add_count(served: QueueServer, detector: str, **kwargs: Any) -> None:
    item = {"item_type": "plan", "name": "count", "kwargs": {"detectors": [detector], **kwargs}}
    assert served.call("/api/queue/item/add", {"item": item})["success"]


def test_login_keeps_the_key_for_the_session(
    page: Any, served: QueueServer, screenshots: Path
) -> None:
    sent: list[str | None] = []
    asked: list[str | None] = []  # how to log in: asked with no credentials
    page.on(
        "request",
        lambda r: (
            (asked if r.url.endswith("/api/auth/schemes") else sent).append(
                r.headers.get("authorization")
            )
            if "/api/" in r.url
            else None
        ),
    )
    page.goto(served.url + "/")
    key = page.get_by_label("API key")
    assert key.get_attribute("type") == "password"
    key.fill("not-the-key")
    page.keyboard.press("Enter")
    page.get_by_role("alert").wait_for()
    assert page.get_by_role("heading", name="Queue", exact=True).count() == 0
    page.screenshot(path=str(screenshots / "login-refused.png"))

    key.fill(served.key)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Queue", exact=True).wait_for()
    assert page.evaluate("sessionStorage.getItem('cielo.apiKey')") == served.key
    page.reload()  # still logged in: the key is in sessionStorage
    page.get_by_test_id("manager-state").filter(has_text="idle").wait_for()
    assert asked and set(asked) == {None}
    assert sent[0] == "ApiKey not-the-key"
    assert set(sent[1:]) == {f"ApiKey {served.key}"}

    page.get_by_role("button", name="Log out").click()
    page.get_by_label("API key").wait_for()
    assert page.evaluate("sessionStorage.getItem('cielo.apiKey')") is None
    # The refused key was an API request answered 401; nothing else failed or logged an error.
    assert [p for p in page.watch.problems if "401" not in p] == []


def test_a_server_without_keys_takes_an_empty_key(page: Any, tmp_path: Path) -> None:
    """As in the README's quick start: `cielo serve` on loopback without a key."""
    sent: list[str | None] = []
    page.on("request", lambda r: "/api/" in r.url and sent.append(r.headers.get("authorization")))
    with QueueServer(tmp_path, api_key=False) as anonymous:
        page.goto(anonymous.url + "/")
        page.get_by_label("API key").wait_for()
        page.keyboard.press("Enter")
        page.get_by_test_id("manager-state").filter(has_text="idle").wait_for()
    assert sent and set(sent) == {None}
    assert page.watch.problems == []


def test_a_parameter_s_declared_units_follow_its_name_in_the_form(
    page: Any, served: QueueServer
) -> None:
    """count's ``delay: Annotated[..., Units("s")]`` is labelled "delay (s)"; the value is
    sent as typed (seconds, nothing converted)."""
    served.call("/api/queue/clear")
    form = plan_form(page, served, "count", "det")
    form.get_by_text("delay (s)", exact=True).first.wait_for()
    assert form.get_by_text("num", exact=True).count() == 1  # no units declared: no suffix
    form.locator("#plan-count_delay").fill("0.25")  # the "number" alternative of delay
    form.get_by_role("button", name="Add to queue").click()
    page.get_by_role("status").filter(has_text="count added").wait_for()
    [item] = served.call("/api/queue/get")["items"]
    assert item["kwargs"]["delay"] == 0.25
    served.call("/api/queue/clear")
    assert page.watch.problems == []


def test_a_motor_is_offered_with_its_units(page: Any, served: QueueServer) -> None:
    """The server lists a sim motor's units (``/api/devices/allowed``); the form offers it
    as "motor1 (mm)" wherever a plan takes a motor, and sends its name."""
    allowed = served.call("/api/devices/allowed")["devices_allowed"]
    assert allowed["motor1"]["units"] == "mm" and "units" not in allowed["det"]
    served.call("/api/queue/clear")
    form = plan_form(page, served, "log_scan", "det")
    motor = form.locator("#plan-log_scan_motor")
    labels = motor.locator("option").all_inner_texts()
    assert "motor1 (mm)" in labels and "det" not in labels, labels  # a detector does not move
    motor.select_option(label="motor1 (mm)")
    form.locator("#plan-log_scan_start").fill("1")
    form.locator("#plan-log_scan_stop").fill("2")
    form.locator("#plan-log_scan_num").fill("3")
    form.get_by_role("button", name="Add to queue").click()
    page.get_by_role("status").filter(has_text="log_scan added").wait_for()
    [item] = served.call("/api/queue/get")["items"]
    bound = (
        dict(zip(["detectors", "motor", "start", "stop", "num"], item["args"], strict=False))
        | item["kwargs"]
    )
    assert bound["motor"] == "motor1" and bound["num"] == 3, item
    served.call("/api/queue/clear")
    assert page.watch.problems == []


def test_add_through_the_form_reorder_and_run(
    page: Any, served: QueueServer, screenshots: Path
) -> None:
    form = plan_form(page, served, "count", "det")
    num = form.get_by_role("spinbutton", name="num", exact=True)
    num.fill("2.5")
    form.get_by_role("button", name="Add to queue").click()
    error = page.locator("#plan-count_num__error")
    error.filter(has_text="must be integer").wait_for()
    page.screenshot(path=str(screenshots / "plan-form.png"), full_page=True)
    assert served.call("/api/status")["items_in_queue"] == 0  # refused before submission

    num.fill("3")
    form.get_by_role("button", name="Add to queue").click()
    page.get_by_role("status").filter(has_text="count added").wait_for()
    form.get_by_role("checkbox", name="det", exact=True).uncheck()
    form.get_by_role("checkbox", name="det2", exact=True).check()
    form.get_by_role("button", name="Add to queue").click()
    rows = page.locator("li.queue-item")
    rows.nth(1).wait_for()
    assert queue_names(served) == ["det", "det2"]
    assert served.call("/api/queue/get")["items"][0]["kwargs"]["num"] == 3

    # Keyboard: focus the second row's handle, lift with Space, move up, drop with Space.
    # Each key waits for what it does to show (a loaded machine renders late).
    rows.nth(1).locator(".handle").focus()
    page.keyboard.press("Space")
    page.locator("li.queue-item.dragging").wait_for()
    page.keyboard.press("ArrowUp")
    # Drop only once the lifted row is drawn above and the other row below: the lifted row
    # carries a zero translate from the moment it is lifted, and a drop before the move
    # registers is a drop in place (CI once dropped too early on a loaded machine).
    page.wait_for_function(
        """() => {
            const y = (el) => Number(/translate3d\\([^,]+, ?(-?[\\d.]+)px/.exec(el?.style.transform ?? '')?.[1] ?? 0);
            const rows = [...document.querySelectorAll('li.queue-item')];
            const lifted = rows.find((r) => r.classList.contains('dragging'));
            const other = rows.find((r) => !r.classList.contains('dragging'));
            return y(lifted) < 0 && y(other) > 0;
        }"""
    )
    page.keyboard.press("Space")
    page.locator("li.queue-item.dragging").wait_for(state="detached")
    wait_until(lambda: queue_names(served) == ["det2", "det"])

    # Mouse: drag the second row's handle above the first.
    handle = rows.nth(1).locator(".handle").bounding_box()
    top = rows.nth(0).bounding_box()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(handle["x"] + handle["width"] / 2, top["y"] + 4, steps=12)
    page.mouse.up()
    wait_until(lambda: queue_names(served) == ["det", "det2"])
    rows.first.filter(has_text='"det"').wait_for()

    rows.nth(1).get_by_role("button", name="Duplicate").click()
    wait_until(lambda: queue_names(served) == ["det", "det2", "det2"])
    page.locator("li.queue-item").nth(2).wait_for()
    rows.nth(2).get_by_role("button", name="Remove").click()
    wait_until(lambda: queue_names(served) == ["det", "det2"])
    page.screenshot(path=str(screenshots / "queue.png"), full_page=True)

    page.get_by_role("button", name="Start queue").click()
    served.wait(lambda s: s["items_in_history"] == 2 and s["manager_state"] == "idle", 60)
    page.get_by_role("link", name="History").click()
    table = page.locator("table.history tbody tr")
    table.nth(1).wait_for()
    assert table.locator("td.exit").all_inner_texts() == ["completed", "completed"]
    history = served.call("/api/history/get")["items"]
    shown = table.locator("code.run-uid").evaluate_all("els => els.map(e => e.title)")
    assert shown == [uid for item in reversed(history) for uid in item["result"]["run_uids"]]
    page.screenshot(path=str(screenshots / "history.png"), full_page=True)

    # Each run links to its page in the catalog browser, at an address of its own.
    newest = history[-1]["result"]["run_uids"][0]
    table.first.locator("a.run-link").first.click()
    page.wait_for_url(f"**/runs/{newest}")
    view = page.locator("section.run-view")
    view.get_by_test_id("run-status").filter(has_text="success").wait_for()
    assert newest in view.inner_text()
    page.go_back()
    page.get_by_role("heading", name="History").wait_for()
    page.goto(f"{served.url}/runs/{newest}")  # the address opens the run after a reload too
    view.get_by_test_id("run-status").filter(has_text="success").wait_for()
    view.get_by_role("button", name="Back to the results").click()
    page.wait_for_url("**/runs")
    page.get_by_test_id("runs-range").wait_for()
    assert page.watch.problems == []


def test_edit_an_item_in_its_form_and_set_modes(page: Any, served: QueueServer) -> None:
    log_in(page, served)
    add_count(served, "det", num=2)
    uid = served.call("/api/queue/get")["items"][0]["item_uid"]
    row = page.locator("li.queue-item").first
    row.get_by_role("button", name="Edit").click()
    form = page.locator("section.plan-form")
    form.get_by_role("heading", name="Edit count").wait_for()
    assert form.get_by_role("checkbox", name="det", exact=True).is_checked()
    form.get_by_text("Optional parameters").click()
    num = form.get_by_role("spinbutton", name="num", exact=True)
    assert num.input_value() == "2"
    num.fill("7")
    form.get_by_role("button", name="Save changes").click()
    form.get_by_role("heading", name="Add a plan").wait_for()
    items = served.call("/api/queue/get")["items"]
    assert [(i["item_uid"], i["kwargs"]["num"]) for i in items] == [(uid, 7)]  # same item, changed
    row.filter(has_text="num=7").wait_for()

    modes = page.get_by_role("group", name="Queue modes")
    modes.get_by_label("Loop").check()
    wait_until(lambda: served.call("/api/status")["plan_queue_mode"]["loop"] is True)
    modes.get_by_label("Loop").uncheck()
    wait_until(lambda: served.call("/api/status")["plan_queue_mode"]["loop"] is False)
    served.call("/api/queue/clear")
    assert page.watch.problems == []


def test_history_copy_to_queue_and_clear(page: Any, served: QueueServer) -> None:
    log_in(page, served)
    add_count(served, "det2")
    before = served.call("/api/status")["items_in_history"]
    assert served.call("/api/queue/start")["success"]
    served.wait(lambda s: s["items_in_history"] == before + 1 and s["manager_state"] == "idle", 60)
    page.get_by_role("link", name="History").click()
    first = page.locator("table.history tbody tr").first
    first.filter(has_text="det2").wait_for()
    first.get_by_role("button", name="Copy to queue").click()
    wait_until(lambda: queue_names(served) == ["det2"])
    page.get_by_role("button", name="Clear history").click()
    page.get_by_role("dialog").get_by_role("button", name="Clear history").click()
    page.get_by_text("No item has run yet.").wait_for()
    assert served.call("/api/history/get")["items"] == []
    served.call("/api/queue/clear")
    assert page.watch.problems == []


def test_status_is_pushed_not_polled(page: Any, served: QueueServer) -> None:
    feeds: list[str] = []
    polls: list[float] = []
    pushed: list[float] = []

    def opened(ws: Any) -> None:
        feeds.append(ws.url)
        if ws.url.endswith("/api/status/ws"):
            ws.on("framereceived", lambda _: pushed.append(time.monotonic()))

    page.on("websocket", opened)
    page.on("request", lambda r: r.url.endswith("/api/status") and polls.append(time.monotonic()))
    log_in(page, served)
    for _ in range(600):  # the feed is open and has sent the status (events come in waits)
        if pushed:
            break
        page.wait_for_timeout(50)
    assert served.url.replace("http", "ws") + "/api/status/ws" in feeds
    assert not [url for url in feeds if served.key in url]  # the key is not in any URL
    quiet_since = time.monotonic()
    add_count(served, "det2", num=4)  # another client changes the queue
    page.locator("li.queue-item").filter(has_text="num=4").wait_for()
    page.wait_for_timeout(2000)
    asked = [t for t in polls if t > quiet_since]
    assert len(asked) <= 1, (
        f"the page polled /api/status {len(asked)} times in 2 s with a live feed"
    )
    served.call("/api/queue/clear")
    assert page.watch.problems == []


def test_live_plot_gains_points_as_the_scan_runs(
    page: Any, served: QueueServer, screenshots: Path
) -> None:
    log_in(page, served)
    feed_is_live(page, served)  # the documents feed is open
    add_count(served, "det", num=30, delay=0.1)  # 3 s: the page sees the points arrive
    assert served.call("/api/queue/start")["success"]
    plot = page.locator(".live-plot")
    page.wait_for_function("() => +document.querySelector('.live-plot').dataset.points > 0")
    early = int(plot.get_attribute("data-points"))
    served.wait(lambda s: s["manager_state"] == "idle" and s["items_in_queue"] == 0, 60)
    page.get_by_test_id("live-points").filter(has_text="30").wait_for()
    assert early < 30  # drawn while the scan ran, not only at its end
    section = page.locator("section.live")
    assert "det against point" in section.inner_text()
    assert "success" in section.inner_text()
    plot.locator("canvas").wait_for()  # uPlot is loaded with the first plot
    assert plot.locator("canvas").count() == 1
    page.screenshot(path=str(screenshots / "live-plot.png"), full_page=True)
    assert page.watch.problems == []


def test_pause_resume_and_abort_ask_first(
    page: Any, served: QueueServer, screenshots: Path
) -> None:
    log_in(page, served)
    add_count(served, "det", num=200, delay=0.05)
    page.get_by_role("button", name="Start queue").click()
    page.get_by_test_id("re-state").filter(has_text="running").wait_for()
    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_test_id("re-state").filter(has_text="paused").wait_for()
    assert served.call("/api/status")["re_state"] == "paused"

    page.get_by_role("button", name="Abort").click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    page.screenshot(path=str(screenshots / "confirm-abort.png"))
    page.keyboard.press("Escape")  # cancelled: nothing sent
    dialog.wait_for(state="hidden")
    assert served.call("/api/status")["re_state"] == "paused"

    page.get_by_role("button", name="Resume").click()
    page.get_by_test_id("re-state").filter(has_text="running").wait_for()
    page.get_by_role("button", name="Pause now").click()
    page.get_by_test_id("re-state").filter(has_text="paused").wait_for()
    page.get_by_role("button", name="Abort").click()
    page.get_by_role("dialog").get_by_role("button", name="Abort").click()
    served.wait(lambda s: s["manager_state"] == "idle" and s["re_state"] == "idle")
    last = served.call("/api/history/get")["items"][-1]
    assert last["result"]["exit_status"] == "aborted", last
    page.get_by_role("link", name="History").click()
    page.locator("table.history td.exit").first.filter(has_text="aborted").wait_for()
    served.call("/api/queue/clear")  # an aborted item goes back to the queue's front
    assert page.watch.problems == []


def test_stop_the_queue_stop_and_halt_a_plan_and_ignore_failures(
    page: Any, served: QueueServer
) -> None:
    served.call("/api/queue/clear")
    log_in(page, served)
    modes = page.get_by_role("group", name="Queue modes")
    modes.get_by_label("Ignore failures").check()
    wait_until(lambda: served.call("/api/status")["plan_queue_mode"]["ignore_failures"] is True)
    modes.get_by_label("Ignore failures").uncheck()
    wait_until(lambda: served.call("/api/status")["plan_queue_mode"]["ignore_failures"] is False)

    for _ in range(2):
        add_count(served, "det", num=400, delay=0.05)  # 20 s each: time to act while it runs
    before = served.call("/api/status")["items_in_history"]
    page.get_by_role("button", name="Start queue").click()
    page.get_by_test_id("re-state").filter(has_text="running").wait_for()
    # Stop the queue after this item, change one's mind, then stop it after all.
    page.get_by_role("button", name="Stop queue").click()
    page.get_by_role("button", name="Cancel stop").click()
    page.get_by_role("button", name="Stop queue").wait_for()
    assert served.call("/api/status")["queue_stop_pending"] is False
    page.get_by_role("button", name="Stop queue").click()
    page.get_by_role("button", name="Cancel stop").wait_for()
    assert served.call("/api/status")["queue_stop_pending"] is True

    # Stop the paused plan (it asks first): its run ends as a success, the item 'stopped'.
    page.get_by_role("button", name="Pause now").click()
    page.get_by_test_id("re-state").filter(has_text="paused").wait_for()
    page.get_by_role("button", name="Stop", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.filter(has_text="Stop the paused plan?").wait_for()
    dialog.get_by_role("button", name="Stop", exact=True).click()
    done = served.wait(
        lambda s: s["manager_state"] == "idle" and s["items_in_history"] == before + 1, 60
    )
    assert done["items_in_queue"] == 1 and not done["queue_stop_pending"]  # the queue stopped
    history = served.call("/api/history/get")["items"]
    assert history[-1]["result"]["exit_status"] == "stopped", history[-1]["result"]

    # Halt the next one: nothing cleans up; the item is 'halted'.
    page.get_by_role("button", name="Start queue").click()
    page.get_by_test_id("re-state").filter(has_text="running").wait_for()
    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_test_id("re-state").filter(has_text="paused").wait_for()
    page.get_by_role("button", name="Halt").click()
    page.get_by_role("dialog").get_by_role("button", name="Halt").click()
    halted = served.wait(
        lambda s: s["manager_state"] == "idle" and s["items_in_history"] == before + 2, 60
    )
    assert halted["worker_environment_exists"]  # the environment stays open
    history = served.call("/api/history/get")["items"]
    assert history[-1]["result"]["exit_status"] == "halted", history[-1]["result"]
    page.get_by_role("link", name="History").click()
    exits = page.locator("table.history td.exit")
    exits.first.filter(has_text="halted").wait_for()
    assert exits.nth(1).inner_text() == "stopped"
    served.call("/api/queue/clear")
    assert page.watch.problems == []


def test_environment_close_and_open(page: Any, served: QueueServer, screenshots: Path) -> None:
    log_in(page, served)
    page.get_by_role("link", name="Environment").click()
    state = page.get_by_test_id("env-state")
    state.filter(has_text="open").wait_for()
    page.screenshot(path=str(screenshots / "environment.png"), full_page=True)
    page.get_by_role("button", name="Close").click()
    page.get_by_role("dialog").get_by_role("button", name="Close").click()
    state.filter(has_text="closed").wait_for(timeout=30_000)
    assert served.call("/api/status")["worker_environment_exists"] is False
    page.get_by_role("button", name="Open").click()
    served.wait(lambda s: s["worker_environment_exists"] and s["manager_state"] == "idle", 90)
    state.filter(has_text="open").wait_for()
    assert page.watch.problems == []


def test_the_instrument_lock_holder_is_shown(
    page: Any, served: QueueServer, screenshots: Path
) -> None:
    import os

    from cielo.core import InstrumentLock

    status = served.call("/api/status")
    held = status["instrument_lock"]
    assert held["holder"] == "cielo serve worker (profile sim)"
    assert held["pid"] == status["worker_pid"] and held["instrument"] == "sim"
    log_in(page, served)
    page.get_by_role("link", name="Environment").click()
    shown = page.get_by_test_id("instrument-lock")
    shown.filter(
        has_text=f"held by cielo serve worker (profile sim) (pid {held['pid']},"
    ).wait_for()

    assert served.call("/api/environment/close")["success"]
    served.wait(lambda s: not s["worker_environment_exists"] and s["instrument_lock"] is None, 60)
    shown.filter(has_text="free").wait_for()
    # Another runner takes the instrument: the environment cannot open, and the page says who.
    terminal = "cielo run 'count([det])' (in a terminal)"
    with InstrumentLock("sim", holder=terminal, directory=served.base / "locks"):
        served.call("/api/environment/open")
        served.wait(
            lambda s: s["worker_environment_error"] and s["manager_state"] == "idle"
            and (s["instrument_lock"] or {}).get("pid") == os.getpid(),
            90,
        )  # fmt: skip
        shown.filter(has_text=f"held by {terminal} (pid {os.getpid()},").wait_for()
        page.get_by_test_id("env-error").filter(has_text="instrument 'sim' is in use by").wait_for()
        page.screenshot(path=str(screenshots / "environment-lock.png"), full_page=True)
    assert served.call("/api/environment/open")["success"]
    # the status reads the lock file at most every 0.25 s: wait for the worker's hold to show
    reopened = served.wait(
        lambda s: s["worker_environment_exists"] and s["manager_state"] == "idle"
        and (s["instrument_lock"] or {}).get("pid") == s["worker_pid"],
        90,
    )  # fmt: skip
    assert reopened["instrument_lock"]["holder"] == "cielo serve worker (profile sim)"
    assert page.watch.problems == []


def test_keyboard_only_at_tablet_width(
    browser: Any, served: QueueServer, screenshots: Path
) -> None:
    context = browser.new_context(viewport={"width": 768, "height": 1024})
    page = context.new_page()
    try:
        page.goto(served.url + "/")
        page.get_by_label("API key").wait_for()
        assert page.evaluate("document.activeElement.id") == "api-key"  # focused on arrival
        page.keyboard.type(served.key)
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="Queue", exact=True).wait_for()
        add_count(served, "det")
        page.locator("li.queue-item").first.wait_for()
        page.get_by_role("button", name="Add to queue").wait_for()  # the form is loaded lazily
        reached = set()
        for _ in range(80):
            page.keyboard.press("Tab")
            reached.add(page.evaluate("document.activeElement.textContent.trim()"))
        assert {"History", "Start queue", "Duplicate", "Remove", "Add to queue"} <= reached
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"the page scrolls sideways at 768 px: {width}"
        page.screenshot(path=str(screenshots / "queue-tablet.png"), full_page=True)
        served.call("/api/queue/clear")
    finally:
        context.close()
