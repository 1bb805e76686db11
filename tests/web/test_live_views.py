"""The live views of the queue page in headless Chromium against a real ``cielo serve``:
the running item's progress and ETA, the live table, a grid scan's heat map, adding an
item before or after a queued one, and reloading the environment.

Oracles: the catalog the worker wrote (values, their order) and the server's own API
(the queue's order).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from cielo.testing import QueueServer

from .conftest import feed_is_live, log_in

pytestmark = pytest.mark.slow


def add(served: QueueServer, name: str, *args: Any, **kwargs: Any) -> None:
    item = {"item_type": "plan", "name": name, "args": list(args), "kwargs": kwargs}
    added = served.call("/api/queue/item/add", {"item": item})
    assert added["success"], added["msg"]


def latest_run(served: QueueServer) -> Any:
    from cielo.storage import open_catalog

    cat = open_catalog(f"sqlite:///{served.base / 'catalog.sqlite'}", create=False)
    return cat, cat[-1]


def test_progress_eta_and_live_table(page: Any, served: QueueServer, screenshots: Path) -> None:
    log_in(page, served)
    feed_is_live(page, served)
    add(served, "count", detectors=["det", "det2"], num=40, delay=0.1)
    started = served.call("/api/queue/start")
    assert started["success"], started["msg"]
    progress = page.get_by_role("progressbar", name="Points done")
    page.wait_for_function(
        "() => { const p = document.querySelector('progress'); return p && p.value >= 5; }"
    )
    assert progress.get_attribute("max") == "40"
    eta = page.get_by_test_id("live-eta").inner_text()
    seconds = float(re.match(r"([\d.]+) s", eta)[1])  # type: ignore[index]
    done = int(float(progress.evaluate("p => p.value")))
    assert done < 40
    # About 0.1 s per point remains; generous bounds for a loaded machine.
    assert 0.05 * (40 - done) <= seconds <= 1.0 * (40 - done) + 5, (eta, done)
    page.screenshot(path=str(screenshots / "live-progress.png"), full_page=True)
    served.wait(lambda s: s["manager_state"] == "idle" and s["items_in_queue"] == 0, 60)
    page.get_by_test_id("live-progress").filter(has_text="40 of 40 points").wait_for()
    assert page.get_by_test_id("live-eta").count() == 0  # no ETA once the run has ended

    cat, run = latest_run(served)
    with cat:
        data = run["primary"].columns(["det", "det2"])
    table = page.get_by_role("table", name="Last points")
    header = table.locator("thead th").all_inner_texts()
    body = table.locator("tbody tr")
    assert body.count() == 8
    last = body.last.locator("td").all_inner_texts()
    assert last[0] == "40"
    for key in ("det", "det2"):
        shown = float(last[header.index(key)])
        assert shown == pytest.approx(data[key][-1], rel=1e-5)
    assert page.watch.problems == []


def test_a_page_opened_mid_scan_draws_the_scan_so_far(page: Any, served: QueueServer) -> None:
    import time

    add(served, "count", detectors=["det"], num=80, delay=0.1)  # 8 s
    started = served.call("/api/queue/start")
    assert started["success"], started["msg"]
    served.wait(lambda s: s["re_state"] == "running", 30)
    time.sleep(2.0)  # well into the scan before the page exists
    log_in(page, served)
    # The points measured before the page opened are drawn at once (the feed sends the
    # latest run so far first), then the rest as they come.
    page.wait_for_function("() => +document.querySelector('.live-plot').dataset.points >= 10")
    early = int(page.locator(".live-plot").get_attribute("data-points"))
    assert early < 80
    done = served.wait(lambda s: s["manager_state"] == "idle" and s["items_in_queue"] == 0, 60)
    page.get_by_test_id("live-progress").filter(has_text="80 of 80 points").wait_for()
    scan_id = served.call("/api/history/get")["items"][-1]["result"]["scan_ids"][0]
    assert f"count #{scan_id}" in page.locator("section.live").inner_text()
    assert done["items_in_history"] >= 1
    # A page opened after the run ended shows that run (the latest), whole.
    page.reload()
    page.get_by_test_id("live-progress").filter(has_text="80 of 80 points").wait_for()
    assert "success" in page.locator("section.live").inner_text()
    assert page.watch.problems == []


def test_grid_scan_heat_map(page: Any, served: QueueServer, screenshots: Path) -> None:
    log_in(page, served)
    feed_is_live(page, served)
    add(served, "grid_scan", ["det2"], "motor1", -2, 2, 5, "motor2", -2, 2, 7)
    started = served.call("/api/queue/start")
    assert started["success"], started["msg"]
    served.wait(lambda s: s["manager_state"] == "idle" and s["items_in_queue"] == 0, 60)
    heat = page.get_by_role("img", name=re.compile("Heat map of det2"))
    heat.wait_for()
    page.wait_for_function("() => document.querySelector('canvas.heatmap').dataset.cells === '35'")
    # The colour of each cell's centre, as luminance, in row-major order.
    luminance = heat.evaluate(
        """c => {
          const rows = +c.dataset.rows, cols = +c.dataset.cols, out = [];
          const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) {
            const at = 4 * (((r + 0.5) * c.height / rows | 0) * c.width + ((k + 0.5) * c.width / cols | 0));
            out.push(0.2126 * px[at] + 0.7152 * px[at + 1] + 0.0722 * px[at + 2]);
          }
          return out;
        }"""
    )
    cat, run = latest_run(served)
    with cat:
        det = list(run["primary"].columns(["det2"])["det2"])
    assert len(luminance) == len(det) == 35 and len(set(det)) > 5  # a peak on the grid
    # Brighter is larger: the brightest and the darkest cells are the largest and smallest values.
    assert luminance.index(max(luminance)) == det.index(max(det))
    assert luminance.index(min(luminance)) == det.index(min(det))
    order = sorted(range(35), key=lambda i: det[i])
    assert [luminance[i] for i in order] == sorted(luminance)  # monotonic colour scale
    page.screenshot(path=str(screenshots / "live-heatmap.png"), full_page=True)
    assert page.watch.problems == []


def test_peak_statistics_when_the_run_ends(
    page: Any, served: QueueServer, screenshots: Path
) -> None:
    from cielo.callbacks import compute_peak_stats

    log_in(page, served)
    feed_is_live(page, served)
    add(served, "scan", ["det"], "motor", -5, 5, num=41)
    started = served.call("/api/queue/start")
    assert started["success"], started["msg"]
    served.wait(lambda s: s["manager_state"] == "idle" and s["items_in_queue"] == 0, 60)
    page.locator("dl.peak-stats[data-n='41']").wait_for()
    cat, run = latest_run(served)
    with cat:
        data = run["primary"].columns(["motor", "det"])
    expected = compute_peak_stats(data["motor"], data["det"])
    assert expected.bracketed  # the sim peak (centre 0, sigma 1) inside -5..5

    def shown(name: str) -> float:
        return float(page.get_by_test_id(f"peak-{name}").inner_text().split()[0])

    assert shown("cen") == pytest.approx(expected.cen, rel=1e-4, abs=1e-6)
    assert shown("com") == pytest.approx(expected.com, rel=1e-4, abs=1e-6)
    assert shown("fwhm") == pytest.approx(expected.fwhm, rel=1e-4)
    assert shown("max") == pytest.approx(expected.max[1], rel=1e-4)
    at = page.get_by_test_id("peak-max").inner_text().split(" at motor = ")[1]
    assert float(at) == pytest.approx(expected.max[0], rel=1e-4, abs=1e-9)
    page.screenshot(path=str(screenshots / "live-peak.png"), full_page=True)
    path = f"/api/runs/{run.uid}/streams/primary/peak_stats"
    wrong = served.request(f"{path}?x=motor&y=nope", method="GET").json()
    assert wrong["success"] is False
    assert "stream 'primary' has no scalar data key 'nope'; give one of: seq_num, " in wrong["msg"]

    # A scan that does not cover the peak says why instead of a centre.
    add(served, "scan", ["det"], "motor", 1, 4, num=7)
    started = served.call("/api/queue/start")
    assert started["success"], started["msg"]
    served.wait(lambda s: s["manager_state"] == "idle" and s["items_in_queue"] == 0, 60)
    page.locator("dl.peak-stats[data-n='7']").wait_for()
    note = page.get_by_test_id("peak-note").inner_text()
    assert note == "not bracketed: the maximum is at the low end of the scan"
    assert page.get_by_test_id("peak-cen").count() == 0
    assert page.watch.problems == []


def test_add_before_and_after_a_queued_item(page: Any, served: QueueServer) -> None:
    served.call("/api/queue/clear")
    add(served, "count", detectors=["det"])
    add(served, "count", detectors=["det2"])
    first, second = (i["item_uid"] for i in served.call("/api/queue/get")["items"])
    log_in(page, served)
    page.locator("li.queue-item").nth(1).wait_for()
    form = page.locator("section.plan-form")
    form.get_by_role("combobox", name="Plan").select_option("count")
    form.get_by_role("checkbox", name="motor", exact=True).check()
    position = form.get_by_role("combobox", name="Position")
    position.select_option(f"after:{first}")
    form.get_by_role("button", name="Add to queue").click()
    page.get_by_role("status").filter(has_text="count added after item 1").wait_for()
    position.select_option(f"before:{first}")
    form.get_by_role("checkbox", name="motor", exact=True).uncheck()
    form.get_by_role("checkbox", name="motor1", exact=True).check()
    form.get_by_role("button", name="Add to queue").click()
    page.get_by_role("status").filter(has_text="count added before item 1").wait_for()
    items = served.call("/api/queue/get")["items"]
    assert [i["kwargs"]["detectors"] for i in items] == [["motor1"], ["det"], ["motor"], ["det2"]]
    assert items[1]["item_uid"] == first and items[3]["item_uid"] == second
    served.call("/api/queue/clear")
    assert page.watch.problems == []


def test_environment_reload_restarts_the_worker_and_keeps_the_queue(
    page: Any, served: QueueServer, screenshots: Path
) -> None:
    served.call("/api/queue/clear")
    add(served, "count", detectors=["det"])
    before = served.call("/api/status")
    log_in(page, served)
    page.get_by_role("link", name="Environment").click()
    page.get_by_test_id("worker-pid").filter(has_text=str(before["worker_pid"])).wait_for()
    assert page.get_by_test_id("lock").inner_text() == "not locked"
    page.get_by_role("button", name="Reload").click()
    page.get_by_role("dialog").get_by_role("button", name="Reload").click()
    page.get_by_role("status").filter(has_text="every queued item fits").wait_for(timeout=90_000)
    after = served.wait(lambda s: s["worker_environment_exists"] and s["manager_state"] == "idle")
    assert after["worker_pid"] != before["worker_pid"]  # a new worker read the profile again
    page.get_by_test_id("worker-pid").filter(has_text=str(after["worker_pid"])).wait_for()
    assert [i["kwargs"] for i in served.call("/api/queue/get")["items"]] == [{"detectors": ["det"]}]
    page.screenshot(path=str(screenshots / "environment.png"), full_page=True)
    served.call("/api/queue/clear")
    assert page.watch.problems == []
