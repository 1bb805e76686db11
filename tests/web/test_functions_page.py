"""Functions and instructions in the queue page, in headless Chromium against a real
``cielo serve`` whose profile allows functions (``[functions] allow``) and whose
permissions file narrows them per group.

A user adds a function with its parameters to the queue, runs one now and reads its
result, adds a queue stop; the queue shows function and instruction items as such; an
observer sees them but no form; a group sees only the functions its rules allow. The
oracle is the server's API (the queue, the history) and the file a function wrote.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cielo.testing import QueueServer

from .conftest import key_for, log_in

pytestmark = pytest.mark.slow

TOOLS = Path(__file__).parents[1] / "server" / "served_functions"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QueueServer]:
    """``cielo serve`` on tools.toml, which allows the functions of beamline_tools.py,
    with permissions.toml (the default group may not use forbidden_reset; visitors only
    add_numbers); it replaces the sim server of tests/web/conftest.py here."""
    pytest.importorskip("fastapi")
    base = tmp_path_factory.mktemp("functions-page")
    permissions = ["--permissions", str(TOOLS / "permissions.toml")]
    with QueueServer(
        base, str(TOOLS / "tools.toml"), args=permissions, pythonpath=[TOOLS]
    ) as server:
        yield server


def options(form: Any) -> list[str]:
    return list(form.get_by_role("combobox", name="Function").locator("option").all_inner_texts())


def test_a_function_runs_now_and_is_queued_with_a_queue_stop(
    page: Any, served: QueueServer, screenshots: Path, tmp_path: Path
) -> None:
    served.call("/api/history/clear")
    log_in(page, served, key_for(served, "uma", "user"))
    form = page.locator("section.function-form")
    form.get_by_role("heading", name="Functions").wait_for()
    assert options(form) == ["add_numbers", "explode", "opaque", "write_note"]  # no forbidden_*

    # run one now that raises: its error and traceback shown
    result = form.get_by_test_id("function-result")
    form.get_by_role("combobox", name="Function").select_option("explode")
    form.get_by_label("reason*").fill("from the page")
    form.get_by_role("button", name="Run now").click()
    result.filter(has_text="explode failed: RuntimeError: exploded: from the page").wait_for()
    form.get_by_text("Traceback", exact=True).click()
    assert "raise RuntimeError" in form.locator(".function-result pre").inner_text()

    # run one now: its parameters from its signature, its return value shown
    form.get_by_role("combobox", name="Function").select_option("add_numbers")
    form.get_by_label("a*").fill("40")
    form.get_by_label("b", exact=True).fill("2")
    form.get_by_role("button", name="Run now").click()
    result.filter(has_text="add_numbers returned 42").wait_for()
    ran = served.call("/api/history/get")["items"]
    assert [(h["name"], h["result"]["exit_status"]) for h in ran] == [
        ("explode", "failed"),
        ("add_numbers", "completed"),
    ]
    assert ran[1]["result"]["return_value"] == 42.0

    # queue one, then a queue stop, then a plan (added through the API)
    note = tmp_path / "page-note.txt"
    form.get_by_role("combobox", name="Function").select_option("write_note")
    form.get_by_label("path*").fill(str(note))
    form.get_by_label("text*").fill("from the page")
    form.get_by_role("button", name="Add function to queue").click()
    page.get_by_role("status").filter(
        has_text="write_note added to the back of the queue"
    ).wait_for()
    page.get_by_role("button", name="Add queue stop").click()
    plan = {"item_type": "plan", "name": "count", "kwargs": {"detectors": ["det"]}}
    assert served.call("/api/queue/item/add", {"item": plan})["success"]

    queued = served.call("/api/queue/get")["items"]
    assert [(i["item_type"], i["name"]) for i in queued] == [
        ("function", "write_note"),
        ("instruction", "queue_stop"),
        ("plan", "count"),
    ]
    assert queued[0]["kwargs"] == {"path": str(note), "text": "from the page"}
    rows = page.locator("li.queue-item")
    rows.nth(2).filter(has_text="count").wait_for()
    assert "function" in rows.nth(0).inner_text() and "write_note" in rows.nth(0).inner_text()
    stop = rows.nth(1).inner_text()
    assert "Queue stop" in stop and "the queue stops when it reaches this item" in stop
    page.screenshot(path=str(screenshots / "queue-functions.png"), full_page=True)

    page.get_by_role("button", name="Start queue").click()
    served.wait(lambda s: s["manager_state"] == "idle" and s["items_in_queue"] == 1, 60)
    assert note.read_text() == "from the page"
    assert [i["name"] for i in served.call("/api/queue/get")["items"]] == ["count"]
    page.get_by_role("link", name="History").click()
    history = page.locator("table.history")
    history.filter(has_text="returned 42").wait_for()
    history.filter(has_text="Queue stop").wait_for()
    served.call("/api/queue/clear")
    assert page.watch.problems == []


def test_an_observer_sees_functions_and_instructions_but_no_form(
    page: Any, served: QueueServer
) -> None:
    items = [
        {"item_type": "function", "name": "add_numbers", "args": [1], "kwargs": {"b": 2}},
        {"item_type": "instruction", "name": "queue_stop"},
    ]
    assert served.call("/api/queue/item/add/batch", {"items": items})["success"]
    log_in(page, served, key_for(served, "otto", "observer"))
    rows = page.locator("li.queue-item")
    rows.nth(1).filter(has_text="Queue stop").wait_for()
    assert "add_numbers" in rows.nth(0).inner_text() and "b=2" in rows.nth(0).inner_text()
    assert page.get_by_role("heading", name="Functions").count() == 0
    assert page.get_by_role("button", name="Add queue stop").count() == 0
    served.call("/api/queue/clear")
    assert page.watch.problems == []


def test_a_group_sees_only_the_functions_its_rules_allow(page: Any, served: QueueServer) -> None:
    log_in(page, served, key_for(served, "vic", "user", group="visitors"))
    form = page.locator("section.function-form")
    form.get_by_role("heading", name="Functions").wait_for()
    assert options(form) == ["add_numbers"]
    form.get_by_label("a*").fill("1")
    form.get_by_role("button", name="Run now").click()
    form.get_by_test_id("function-result").filter(has_text="add_numbers returned 2").wait_for()
    assert page.watch.problems == []
