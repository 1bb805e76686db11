"""The catalog browser in headless Chromium against a real ``cielo serve``: search, pages,
open a run, plot a stream, download it through a suitcase and read the file back.

The oracle is the catalog the worker wrote, opened here with :mod:`cielo.storage`.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from cielo.testing import QueueServer

from .conftest import log_in

pytestmark = pytest.mark.slow


def queue_and_run(served: QueueServer, items: list[dict[str, Any]]) -> None:
    done = served.call("/api/status")["items_in_history"]
    for item in items:
        added = served.call("/api/queue/item/add", {"item": {"item_type": "plan", **item}})
        assert added["success"], added["msg"]
    assert served.call("/api/queue/start")["success"]
    served.wait(
        lambda s: s["items_in_history"] == done + len(items) and s["manager_state"] == "idle", 120
    )


def test_search_page_open_plot_and_download(
    page: Any, served: QueueServer, screenshots: Path
) -> None:
    from datetime import datetime, timedelta

    began = datetime.now()  # the browser's clock and time zone are this machine's
    count = {"name": "count", "kwargs": {"detectors": ["det2"], "num": 1}}
    scan = {"name": "scan", "args": [["det"], "motor", -1, 1], "kwargs": {"num": 5}}
    quartz = {**count, "kwargs": {**count["kwargs"], "md": {"sample": "quartz crystal"}}}
    queue_and_run(served, [count] * 19 + [quartz, scan])

    log_in(page, served)
    searches: list[str] = []
    page.on("request", lambda r: "/api/runs/search" in r.url and searches.append(r.url))
    page.get_by_role("link", name="Catalog").click()
    found = page.get_by_test_id("runs-range")
    found.filter(has_text="1–20 of 21").wait_for()
    rows = page.locator("table.runs tbody tr")
    assert rows.count() == 20
    assert rows.first.locator("td").nth(1).inner_text() == "scan"  # newest first
    twentieth = rows.nth(19).get_attribute("data-uid")
    page.screenshot(path=str(screenshots / "catalog.png"), full_page=True)
    page.get_by_role("button", name="Next").click()
    found.filter(has_text="21–21 of 21").wait_for()
    assert rows.count() == 1 and rows.first.locator("td").nth(1).inner_text() == "count"
    # the next page continues after the last run shown (keyset), not at an offset
    assert any(f"after={twentieth}" in url for url in searches)
    assert not any("offset=" in url for url in searches)
    page.get_by_role("button", name="Previous").click()
    found.filter(has_text="1–20 of 21").wait_for()
    page.get_by_role("button", name="Next").click()
    found.filter(has_text="21–21 of 21").wait_for()

    search = page.get_by_role("form", name="Search runs")
    # By a word of the metadata, by status, by time range (datetime-local, in local time).
    search.get_by_label("Text").fill("quartz")
    search.get_by_role("button", name="Search").click()
    found.filter(has_text="1–1 of 1").wait_for()
    assert rows.first.locator("td").nth(1).inner_text() == "count"
    search.get_by_label("Text").fill("")
    search.get_by_label("Status").select_option("abort")
    search.get_by_role("button", name="Search").click()
    page.get_by_text("No runs matched.").wait_for()
    search.get_by_label("Status").select_option("success")
    minute = "%Y-%m-%dT%H:%M"
    search.get_by_label("Since").fill((began - timedelta(minutes=2)).strftime(minute))
    search.get_by_role("button", name="Search").click()
    found.filter(has_text="1–20 of 21").wait_for()
    search.get_by_label("Since").fill((datetime.now() + timedelta(minutes=2)).strftime(minute))
    search.get_by_role("button", name="Search").click()
    page.get_by_text("No runs matched.").wait_for()
    search.get_by_label("Since").fill("")
    search.get_by_label("Until").fill((began - timedelta(minutes=2)).strftime(minute))
    search.get_by_role("button", name="Search").click()
    page.get_by_text("No runs matched.").wait_for()
    search.get_by_label("Until").fill("")
    search.get_by_label("Status").select_option("")

    search.get_by_label("Scan id").fill("x")
    search.get_by_role("button", name="Search").click()
    page.get_by_role("alert").filter(has_text="'x'").wait_for()  # the server's words
    search.get_by_label("Scan id").fill("")
    search.get_by_label("Plan").fill("scan")
    search.get_by_label("Plan").press("Enter")
    found.filter(has_text="1–1 of 1").wait_for()
    rows.first.get_by_role("button").click()

    from cielo.storage import open_catalog

    with open_catalog(f"sqlite:///{served.base / 'catalog.sqlite'}", create=False) as cat:
        run = cat.search({"plan_name": "scan"})[-1]
        det = run["primary"].columns(["det"])["det"].tolist()
        uid = run.uid
    view = page.locator("section.run-view")
    view.get_by_test_id("run-status").filter(has_text="success").wait_for()
    assert uid in view.inner_text()
    page.wait_for_function("() => document.querySelector('.run-plot')?.dataset.points === '5'")
    assert view.locator(".run-plot canvas").count() == 1
    assert view.locator("table.stream-table tbody tr").count() == 5
    shown = view.locator("table.stream-table tbody tr td:nth-child(2)").all_inner_texts()
    header = view.locator("table.stream-table thead th").all_inner_texts()
    assert header[1] == "det" and [float(v) for v in shown] == pytest.approx(det)
    page.screenshot(path=str(screenshots / "run.png"), full_page=True)

    # Every installed suitcase is offered (the server's list), and each writes the run.
    offered = view.get_by_label("Format").locator("option").all_inner_texts()
    suitcases = served.request("/api/runs/suitcases", method="GET").json()["suitcases"]
    assert offered == suitcases and {"csv", "jsonl"} <= set(offered)
    view.get_by_label("Format").select_option("jsonl")
    with page.expect_download() as waiting:
        view.get_by_role("button", name="Download").click()
    names = [json.loads(line)[0] for line in Path(waiting.value.path()).read_text().splitlines()]
    assert names[0] == "start" and names[-1] == "stop" and "descriptor" in names

    view.get_by_label("Format").select_option("csv")
    with page.expect_download() as waiting:
        view.get_by_role("button", name="Download").click()
    download = waiting.value
    saved = Path(download.path())
    assert download.suggested_filename.endswith(".csv")
    lines = [line for line in saved.read_text().splitlines() if not line.startswith("#")]
    assert [float(r["det"]) for r in csv.DictReader(lines)] == pytest.approx(det)

    view.get_by_role("button", name="Back to the results").click()
    found.filter(has_text="1–1 of 1").wait_for()
    assert page.watch.problems == []
