"""``agent_scan`` from the web form, in headless Chromium against a real ``cielo serve``:
the agent is chosen from the ones the profile offers, its parameters typed as text, and
the queue runs it. The oracles are the server's API and the run in the catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cielo.storage import open_catalog
from cielo.testing import QueueServer

from .conftest import log_in

pytestmark = pytest.mark.slow


def test_run_agent_scan_from_the_form(page: Any, served: QueueServer, screenshots: Path) -> None:
    served.call("/api/queue/clear")
    log_in(page, served)
    form = page.locator("section.plan-form")
    form.get_by_role("combobox", name="Plan").select_option("agent_scan")
    for group, device in (("detectors", "det"), ("motors", "motor")):
        choices = form.get_by_role("group", name=group)
        choices.get_by_role("checkbox", name=device, exact=True).check()
    # Devices as choices filtered by the protocol each parameter needs: every device is
    # Readable (a detector), only what moves is Movable (a motor).
    schema = served.call("/api/plans/allowed")["plans_allowed"]["agent_scan"]
    motors = form.get_by_role("group", name="motors")
    values = "els => els.map(e => e.value)"
    offered = set(motors.locator("input[type=checkbox]").evaluate_all(values))
    assert offered == set(schema["schema"]["properties"]["motors"]["items"]["enum"])
    assert "motor1" in offered and not {"det", "det2", "camera", "beam_current"} & offered
    detectors = form.get_by_role("group", name="detectors").locator("input[type=checkbox]")
    assert {"det", "camera", "motor"} <= set(detectors.evaluate_all(values))
    # The docstring is the help: the plan's, and each parameter's.
    assert form.locator(".plan-doc").inner_text() == schema["description"].replace("``", "")
    target_help = schema["schema"]["properties"]["target_field"]["description"].replace("``", "")
    form.get_by_text(target_help, exact=True).wait_for()
    agent = form.locator("#plan-agent_scan_agent")
    offered = agent.locator("option").evaluate_all("options => options.map(o => o.textContent)")
    assert {"golden_section", "peak_fit", "gp", "uncertainty_map"} <= set(offered)
    agent.select_option("golden_section")
    form.locator("#plan-agent_scan_target_field").fill("det")
    form.get_by_text("Optional parameters").click()
    params = form.locator("#plan-agent_scan_agent_params")
    for key, text in {"low": "-3", "high": "3", "tolerance": "0.06"}.items():
        params.get_by_role("button", name="Add").click()
        params.locator("#plan-agent_scan_agent_params_newKey-key").fill(key)
        params.locator("#plan-agent_scan_agent_params_newKey-key").blur()
        params.locator(f"#plan-agent_scan_agent_params_{key}").fill(text)
    page.screenshot(path=str(screenshots / "agent-scan-form.png"), full_page=True)
    form.get_by_role("button", name="Add to queue").click()
    page.get_by_role("status").filter(has_text="agent_scan added").wait_for()
    (item,) = served.call("/api/queue/get")["items"]
    assert item["kwargs"]["agent"] == "golden_section"
    assert item["kwargs"]["agent_params"] == {"low": "-3", "high": "3", "tolerance": "0.06"}

    page.get_by_role("button", name="Start queue").click()
    served.wait(lambda s: s["items_in_history"] >= 1 and s["manager_state"] == "idle", 120)
    done = served.call("/api/history/get")["items"][-1]
    assert done["result"]["exit_status"] == "completed", done["result"]
    (uid,) = done["result"]["run_uids"]
    with open_catalog(served.env["CIELO_CATALOG"]) as catalog:
        run = catalog[uid]
        assert run.start["agent"] == "golden_section"
        # the form's text, read as JSON by the plan
        assert run.start["agent_params"] == {"low": -3, "high": 3, "tolerance": 0.06}
        xs = list(run["primary"].columns(["motor"])["motor"])
    assert 5 <= len(xs) <= 15 and min(abs(x) for x in xs) < 0.06  # the sim peak, at 0
    assert page.watch.problems == []
