"""What the page offers follows the caller's role (``/api/auth/whoami``), in headless
Chromium against a real ``cielo serve``: an observer sees no edit or control buttons; a
proposer proposes; a reviewer approves (the item then runs) or rejects with a note.

The oracle is the server's API: what each role may do there, the queue, the history.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cielo.testing import QueueServer

from .conftest import key_for, log_in

pytestmark = pytest.mark.slow


def add(served: QueueServer, detector: str) -> None:
    item = {"item_type": "plan", "name": "count", "kwargs": {"detectors": [detector]}}
    assert served.call("/api/queue/item/add", {"item": item})["success"]


def test_an_observer_sees_no_edit_or_control(
    page: Any, served: QueueServer, screenshots: Path
) -> None:
    add(served, "det")
    log_in(page, served, key_for(served, "olga", "observer"))
    page.get_by_test_id("who").filter(has_text="olga · observer").wait_for()
    page.locator("li.queue-item").first.filter(has_text="det").wait_for()
    page.get_by_test_id("re-state").filter(has_text="idle").wait_for()
    buttons = set(page.get_by_role("button").all_inner_texts())
    for hidden in ("Start queue", "Stop queue", "Pause", "Abort", "Edit", "Duplicate", "Remove"):
        assert hidden not in buttons, f"an observer is offered {hidden!r}"
    assert page.locator(".handle").count() == 0  # no reordering
    assert page.get_by_role("heading", name="Add a plan").count() == 0
    assert page.get_by_label("Loop").is_disabled()
    page.screenshot(path=str(screenshots / "observer.png"), full_page=True)
    page.get_by_role("link", name="History").click()
    page.get_by_role("heading", name="History").wait_for()
    assert page.get_by_role("button", name="Clear history").count() == 0
    page.get_by_role("link", name="Environment").click()
    page.get_by_test_id("env-state").filter(has_text="open").wait_for()
    assert page.get_by_role("group", name="Environment controls").count() == 0
    served.call("/api/queue/clear")
    assert page.watch.problems == []


def test_a_proposal_approved_in_the_page_runs(
    browser: Any, served: QueueServer, screenshots: Path
) -> None:
    from .conftest import PageWatch

    proposer, reviewer = key_for(served, "pia", "proposer"), key_for(served, "rex", "reviewer")
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    try:
        page = context.new_page()
        watch = PageWatch(page)
        log_in(page, served, proposer)
        form = page.locator("section.plan-form")
        form.get_by_role("heading", name="Propose a plan").wait_for()
        form.get_by_role("combobox", name="Plan").select_option("count")
        form.get_by_role("checkbox", name="det2", exact=True).check()
        form.get_by_role("button", name="Propose").click()
        page.get_by_role("status").filter(has_text="count proposed for review").wait_for()
        proposed = served.call("/api/proposals/get")["items"]
        assert [(p["user"], p["kwargs"]["detectors"]) for p in proposed] == [("pia", ["det2"])]
        assert served.call("/api/queue/get")["items"] == []  # proposed, not queued
        mine = page.locator("li.proposal").first
        mine.get_by_role("button", name="Withdraw").wait_for()  # their own: no Approve
        assert mine.get_by_role("button", name="Approve").count() == 0
        assert not watch.problems
        page.close()

        page = context.new_page()
        watch = PageWatch(page)
        log_in(page, served, reviewer)
        row = page.locator("li.proposal").filter(has_text="det2")
        row.get_by_role("button", name="Approve").wait_for()
        page.screenshot(path=str(screenshots / "proposals.png"), full_page=True)
        row.get_by_label("Note on count").fill("fine")
        row.get_by_role("button", name="Approve").click()
        page.locator("li.queue-item").filter(has_text="det2").wait_for()
        assert served.call("/api/proposals/get")["items"] == []
        queued = served.call("/api/queue/get")["items"]
        assert [i["kwargs"]["detectors"] for i in queued] == [["det2"]]
        assert queued[0]["review"]["by"] == "rex" and queued[0]["review"]["note"] == "fine"
        # The reviewer has no control of the queue; the admin starts it and the item runs.
        assert page.get_by_role("button", name="Start queue").count() == 0
        before = served.call("/api/status")["items_in_history"]
        assert served.call("/api/queue/start")["success"]
        served.wait(lambda s: s["items_in_history"] == before + 1 and s["manager_state"] == "idle")
        last = served.call("/api/history/get")["items"][-1]
        assert (
            last["kwargs"]["detectors"] == ["det2"] and last["result"]["exit_status"] == "completed"
        )
        assert last["result"]["run_uids"]

        # A second proposal, rejected with a note: it goes to history as rejected.
        item = {"item_type": "plan", "name": "count", "kwargs": {"detectors": ["det"]}}
        import httpx

        reply = httpx.post(
            served.url + "/api/proposals/add",
            json={"item": item},
            headers={"Authorization": f"ApiKey {proposer}"},
            timeout=30,
        ).json()
        assert reply["success"], reply
        row = page.locator("li.proposal").filter(has_text='"det"')
        row.get_by_label("Note on count").fill("det is being serviced")
        row.get_by_role("button", name="Reject").click()
        page.get_by_text("No item is waiting for review.").wait_for()
        last = served.call("/api/history/get")["items"][-1]
        assert last["result"]["exit_status"] == "rejected"
        assert "det is being serviced" in last["result"]["msg"]
        assert not watch.problems
    finally:
        context.close()
