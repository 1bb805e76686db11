"""A plugin's own plan form (``cielo_plan_forms``): the example beamline's XAFS form, in
headless Chromium against a real ``cielo serve``.

The oracles are the server's API (the item queued, ``/api/plans/check``), the plan's
own rules (:func:`xafs_energies`) and the runs in the catalog.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cielo.testing import QueueServer

from .conftest import log_in

pytestmark = pytest.mark.slow
xafs = pytest.importorskip("cielo_example_beamline.xafs")


def test_the_form_is_offered_with_the_plan(served: QueueServer) -> None:
    plan = served.call("/api/plans/allowed")["plans_allowed"]["xafs_scan"]
    rows = plan["form"]["ui:layout"]
    assert ["element", "edge", "e0"] in rows
    assert {"bounds": "bounds", "between": ["steps", "times"]}.items() <= rows[5][
        "intervals"
    ].items()
    assert plan["form"]["mode"]["ui:widget"] == "radio"
    assert "form" not in served.call("/api/plans/allowed")["plans_allowed"]["count"]


def test_check_runs_the_plans_own_rules(served: QueueServer) -> None:
    item = {"item_type": "plan", "name": "xafs_scan", "args": [["det"], "motor", 0.0]}
    bounds, steps, times = [-2, 0, "1k"], [1, "0.5k"], [0.1, "0.1k"]
    kwargs = {"bounds": bounds, "steps": steps, "times": times, "repeats": 2}
    reply = served.call("/api/plans/check", {"item": {**item, "kwargs": kwargs}})
    points = xafs.xafs_energies(0.0, bounds, steps, times)
    assert reply["summary"]["points"] == len(points) == 5
    assert reply["summary"]["counting_s"] == pytest.approx(2 * sum(t for _, t in points), abs=1e-3)
    bad = served.call(
        "/api/plans/check", {"item": {**item, "kwargs": {**kwargs, "bounds": [0, -2, "1k"]}}}
    )
    assert bad["success"] is False and "parameter bounds: must increase" in bad["msg"]
    assert served.call("/api/status")["items_in_queue"] == 0  # a check queues nothing
    # the schema is checked first, as when an item is added
    unknown = served.call("/api/plans/check", {"item": {**item, "kwargs": {"mode": "x-ray"}}})
    assert unknown["success"] is False and "mode" in unknown["msg"]
    # a plan without a form check is checked by its schema alone
    count = {"item_type": "plan", "name": "count", "kwargs": {"detectors": ["det"]}}
    assert served.call("/api/plans/check", {"item": count})["summary"] == {}


def test_add_the_xafs_plan_through_its_form_and_run_it(
    page: Any, served: QueueServer, screenshots: Path
) -> None:
    served.call("/api/queue/clear")
    log_in(page, served)
    form = page.locator("section.plan-form")
    form.get_by_role("combobox", name="Plan").select_option("xafs_scan")
    form.get_by_role("heading", name="XAFS scan").wait_for()
    form.get_by_label("Element").fill("Cu")
    form.get_by_label("E0 (eV)").fill("0")
    form.get_by_label("Sample").fill("foil")
    form.get_by_label("Preparation").fill("as received")
    form.get_by_label("Comment").fill("drawn by the plugin's form")
    form.get_by_label("Number of scans").fill("2")
    form.get_by_role("radio", name="fluorescence").check()
    form.get_by_role("checkbox", name="det", exact=True).check()
    form.get_by_label("Energy (monochromator)").select_option(
        label="motor (mm)"
    )  # a motor is offered with its units
    # The regions table starts from the plan's defaults (BMM's): 4 regions up to 15k.
    table = form.locator("fieldset.intervals")
    assert table.get_by_label("bounds 5").input_value() == "15k"
    assert table.get_by_label("times 4").input_value() == "0.25k"
    page.screenshot(path=str(screenshots / "xafs-form.png"), full_page=True)
    for _ in range(2):
        table.get_by_role("button", name="Remove last region").click()
    cells = {"bounds 1": "-2", "bounds 2": "0", "bounds 3": "1x", "steps 1": "1", "steps 2": "0.5k"}
    cells |= {"times 1": "0.1", "times 2": "0.1k"}
    for label, text in cells.items():
        table.get_by_label(label, exact=True).fill(text)
    # One invalid cell: the plan's own rule, from the server, shown at the table.
    table.locator(".text-danger").filter(
        has_text="parameter bounds: '1x' is neither a number"
    ).wait_for()
    page.screenshot(path=str(screenshots / "xafs-form-invalid.png"), full_page=True)
    form.get_by_role("button", name="Add to queue").click()
    assert served.call("/api/status")["items_in_queue"] == 0  # refused: nothing queued

    table.get_by_label("bounds 3", exact=True).fill("1k")
    form.locator(".plan-summary").filter(has_text="5 points per scan").wait_for()
    assert table.locator(".text-danger").count() == 0
    form.get_by_role("button", name="Add to queue").click()
    page.get_by_role("status").filter(has_text="xafs_scan added").wait_for()
    [item] = served.call("/api/queue/get")["items"]
    assert item["name"] == "xafs_scan"
    expected = {
        "detectors": ["det"],
        "energy": "motor",
        "e0": 0,
        "bounds": [-2, 0, "1k"],
        "steps": [1, "0.5k"],
        "times": [0.1, "0.1k"],
    }
    expected |= {"repeats": 2, "element": "Cu", "sample": "foil", "mode": "fluorescence"}
    assert expected.items() <= item["kwargs"].items()

    served.call("/api/queue/start")
    served.wait(lambda s: s["items_in_history"] >= 1 and s["manager_state"] == "idle", 60)
    done = served.call("/api/history/get")["items"][-1]
    assert done["result"]["exit_status"] == "completed"
    starts = [
        served.request(f"/api/runs/{uid}", method="GET").json()["start"]
        for uid in done["result"]["run_uids"]
    ]
    assert [s["repeat"] for s in starts] == [1, 2]
    assert {s["mode"] for s in starts} == {"fluorescence"} and starts[0]["element"] == "Cu"
    assert starts[0]["num_points"] == 5
    assert page.watch.problems == []
