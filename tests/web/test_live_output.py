"""What a run shows while it goes on, in headless Chromium against a real ``cielo serve``:
an area detector's image drawn from the frame endpoint, the console's lines (the worker's
one line per run start and end, and a plan's own print), and a plan's form check that
follows its plugin through an environment reload.

Oracles: the catalog the worker wrote (the frames, read back through the run's own
stream documents and HDF5 file), the history's run uids, and the plugin's source.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cielo.testing import QueueServer

from .conftest import feed_is_live, log_in, plan_form
from .test_live_views import add, latest_run

pytestmark = pytest.mark.slow

#: A plugin installed the way any plugin is (a distribution with a ``cielo.plugins``
#: entry point on the path): ``shout`` prints, and its form check caps ``times`` at MOST.
PLUGIN = '''
"""shout(detectors, message, times): print the message, then count once."""
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from cielo import hookimpl
from cielo.core import PlanParameterError, Range
from cielo.core.protocols import Readable
from cielo.hookspecs import PlanForm
from cielo.plans import MsgGenerator
from cielo.plugins.scans import count

MOST = 3


def shout(
    detectors: Sequence[Readable], message: str = "hello", times: Annotated[int, Range(ge=1, le=5)] = 1
) -> MsgGenerator:
    """Print ``message`` ``times`` times, then count once."""
    for i in range(times):
        print(f"shout {i + 1} of {times}: {message}", flush=True)
    yield from count(detectors)


def check(detectors: Any = (), message: str = "hello", times: int = 1) -> dict[str, str]:
    if times > MOST:
        raise PlanParameterError(f"shout: parameter times: {times} is more than {MOST}")
    return {"text": f"{times} line(s) of at most {MOST}"}


@hookimpl
def cielo_plans() -> Mapping[str, object]:
    return {"shout": shout}


@hookimpl
def cielo_plan_forms() -> Mapping[str, PlanForm]:
    return {"shout": PlanForm(ui={"ui:title": "Shout"}, check=check)}
'''


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QueueServer]:
    """``cielo serve`` on the sim profile with the ``shout`` plugin installed."""
    pytest.importorskip("fastapi")
    base = tmp_path_factory.mktemp("output")
    site = base / "site"
    info = site / "cielo_test_shout-1.0.dist-info"
    info.mkdir(parents=True)
    (site / "cielo_test_shout.py").write_text(PLUGIN)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: cielo-test-shout\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[cielo.plugins]\nshout = cielo_test_shout\n")
    server = QueueServer(base)
    path = server.env.get("PYTHONPATH")
    server.env["PYTHONPATH"] = str(site) + (f":{path}" if path else "")
    server.env["PYTHONDONTWRITEBYTECODE"] = "1"  # an edit is read again, whatever its mtime
    server.site = site  # type: ignore[attr-defined]
    with server:
        yield server


def _colour(t: float) -> tuple[int, ...]:
    """raster.ts's colour scale (dark blue, teal, yellow), as the page computes it."""
    stops = [(13, 8, 135), (33, 145, 140), (253, 231, 37)]
    x = min(1.0, max(0.0, t)) * (len(stops) - 1)
    i = min(len(stops) - 2, math.floor(x))
    f = x - i
    return tuple(
        math.floor(a + f * (b - a) + 0.5) for a, b in zip(stops[i], stops[i + 1], strict=True)
    )


def _expected_pixels(frame: Any) -> list[tuple[int, ...]]:
    """The colour of each pixel of ``frame`` as drawFrame draws it (256 steps between the
    frame's smallest and largest value)."""
    lo, hi = float(frame.min()), float(frame.max())
    scale = 255 / (hi - lo) if hi > lo else 0.0
    return [_colour(math.floor((float(v) - lo) * scale + 0.5) / 255) for v in frame.ravel()]


def _canvas_pixels(canvas: Any) -> list[tuple[int, ...]]:
    flat = canvas.evaluate(
        "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)"
    )
    return [tuple(flat[i : i + 3]) for i in range(0, len(flat), 4)]


def _frame_of(served: QueueServer, uid: str, seq: int) -> Any:
    """Frame ``seq`` of the camera as the endpoint sends it, checked against the catalog."""
    import numpy as np

    response = served.request(
        f"/api/runs/{uid}/streams/primary/frames/camera?seq_num={seq}", method="GET"
    )
    assert response.headers["content-type"] == "application/octet-stream", response.text
    shape = [int(n) for n in response.headers["x-cielo-shape"].split(",")]
    sent = np.frombuffer(response.content, dtype=response.headers["x-cielo-dtype"])
    sent = sent.reshape(shape)
    assert int(response.headers["x-cielo-seq-num"]) == seq
    cat, _ = latest_run(served)
    with cat:
        stored = cat[uid]["primary"].columns(["camera"], first=seq, last=seq)["camera"][0]
    assert sent.dtype == stored.dtype and np.array_equal(sent, stored)
    return stored[-1] if stored.ndim == 3 else stored  # the image plane


def test_area_detector_images_are_drawn_as_frames_arrive(
    page: Any, served: QueueServer, screenshots: Path
) -> None:
    log_in(page, served)
    feed_is_live(page, served)
    asked: list[tuple[str, float]] = []  # frame requests: ("start" | "end", time)
    frames = re.compile(r"/api/runs/[^/]+/streams/primary/frames/camera")
    page.on(
        "request",
        lambda r: asked.append(("start", time.monotonic())) if frames.search(r.url) else None,
    )
    page.on(
        "requestfinished",
        lambda r: asked.append(("end", time.monotonic())) if frames.search(r.url) else None,
    )
    num = 200  # as fast as the camera goes: far more frames than the page asks for
    add(served, "count", detectors=["camera"], num=num)
    started = served.call("/api/queue/start")
    assert started["success"], started["msg"]
    image = page.get_by_role("img", name="Image camera")
    image.wait_for()
    served.wait(lambda s: s["manager_state"] == "idle" and s["items_in_queue"] == 0, 120)
    # The last frame is drawn once the worker has stored it.
    page.wait_for_function(
        f"() => document.querySelector('canvas.frame').dataset.seq === '{num}'", timeout=20_000
    )
    uid = served.call("/api/history/get")["items"][-1]["result"]["run_uids"][0]
    frame = _frame_of(served, uid, num)
    assert image.evaluate("c => [c.width, c.height]") == [frame.shape[1], frame.shape[0]]
    assert _canvas_pixels(image) == _expected_pixels(frame)
    page.screenshot(path=str(screenshots / "live-image.png"), full_page=True)
    # Decimated: one request at a time, at most one per MIN_GAP_MS (150 ms) while the
    # run went on, fewer than the frames (however long a loaded machine took).
    starts = [t for kind, t in asked if kind == "start"]
    assert 1 <= len(starts) < num, len(starts)
    assert len(starts) <= (starts[-1] - starts[0]) / 0.15 + 2, (len(starts), starts[-1] - starts[0])
    in_flight = 0
    for kind, _ in sorted(asked, key=lambda a: a[1]):
        in_flight += 1 if kind == "start" else -1
        assert in_flight <= 1, asked
    assert page.watch.problems == []


def test_a_stored_run_s_frames_in_the_catalog_page(page: Any, served: QueueServer) -> None:
    add(served, "count", detectors=["camera"], num=3)
    started = served.call("/api/queue/start")
    assert started["success"], started["msg"]
    served.wait(lambda s: s["manager_state"] == "idle" and s["items_in_queue"] == 0, 60)
    result = served.call("/api/history/get")["items"][-1]["result"]
    uid, scan_id = result["run_uids"][0], result["scan_ids"][0]
    log_in(page, served)
    page.get_by_role("link", name="Catalog").click()
    page.get_by_role("button", name=f"Open #{scan_id}").click()
    image = page.get_by_role("img", name="Image camera")
    page.wait_for_function("() => document.querySelector('canvas.frame')?.dataset.seq === '3'")
    page.get_by_label("Frame").fill("2")
    page.wait_for_function("() => document.querySelector('canvas.frame').dataset.seq === '2'")
    assert _canvas_pixels(image) == _expected_pixels(_frame_of(served, uid, 2))
    missing = served.request(
        f"/api/runs/{uid}/streams/primary/frames/camera?seq_num=4", method="GET"
    ).json()
    assert missing["success"] is False and missing["stored"] == 3
    assert "no event 4 stored yet" in missing["msg"]
    assert page.watch.problems == []


def test_console_shows_the_run_lines_and_the_plan_s_print(
    page: Any, served: QueueServer, screenshots: Path
) -> None:
    log_in(page, served)
    page.get_by_role("heading", name="Console").wait_for()
    add(served, "shout", detectors=["det"], message="from the plan", times=2)
    started = served.call("/api/queue/start")
    assert started["success"], started["msg"]
    served.wait(lambda s: s["manager_state"] == "idle" and s["items_in_queue"] == 0, 60)
    result = served.call("/api/history/get")["items"][-1]["result"]
    assert result["exit_status"] == "completed", result["msg"]
    uid, scan_id = result["run_uids"][0], result["scan_ids"][0]
    with latest_run(served)[0] as cat:
        inner = cat[uid].start["plan_name"]  # the run's own: shout's inner count
    assert inner == "count"
    console = page.get_by_label("Console output")
    ended = f"run {uid} ended: success; shout (count), scan {scan_id}; events: 1 primary"
    console.filter(has_text=ended).wait_for()
    lines = console.inner_text().splitlines()
    texts = [re.sub(r"^\S+ \S+ INFO cielo\.worker: ", "", line) for line in lines]
    printed = ["shout 1 of 2: from the plan", "shout 2 of 2: from the plan"]
    # The plan prints before it opens its run, once: the worker's check of the item (the
    # plan driven without hardware, as `cielo run` does) prints nothing.
    started = f"run {uid} started: shout (count), scan {scan_id}"
    assert texts[-4:] == [*printed, started, ended], lines
    assert sum("from the plan" in t for t in texts) == 2, lines
    page.screenshot(path=str(screenshots / "console.png"), full_page=True)
    assert page.watch.problems == []


def test_a_number_s_limits_are_shown_and_checked_before_submission(
    page: Any, served: QueueServer
) -> None:
    """``times: Annotated[int, Range(ge=1, le=5)]``: the limits are the field's help and
    are checked as it is typed; the plan's own rule (at most 3) comes from the server,
    at the field, before anything is queued."""
    served.call("/api/queue/clear")
    form = plan_form(page, served, "shout", "det")
    times = form.get_by_role("spinbutton", name="times", exact=True)
    form.get_by_text("Limits: 1 ≤ value ≤ 5.").wait_for()
    assert times.get_attribute("max") == "5" and times.get_attribute("min") == "1"
    errors = page.locator("#plan-shout_times__error")
    times.fill("9")
    errors.filter(has_text="must be <= 5").wait_for()
    times.fill("4")  # within the limits, beyond the plan's own rule: the server says so
    errors.filter(has_text="shout: parameter times: 4 is more than 3").wait_for()
    form.get_by_role("button", name="Add to queue").click()
    errors.filter(has_text="4 is more than 3").wait_for()
    assert served.call("/api/status")["items_in_queue"] == 0  # refused before submission
    times.fill("2")
    form.locator(".plan-summary").filter(has_text="2 line(s) of at most 3").wait_for()
    assert errors.count() == 0 or errors.inner_text() == ""
    form.get_by_role("button", name="Add to queue").click()
    page.get_by_role("status").filter(has_text="shout added").wait_for()
    [item] = served.call("/api/queue/get")["items"]
    assert item["kwargs"]["times"] == 2
    served.call("/api/queue/clear")
    assert page.watch.problems == []


def test_the_form_check_follows_a_reloaded_plugin(served: QueueServer) -> None:
    def check(times: int) -> dict[str, Any]:
        item = {
            "item_type": "plan",
            "name": "shout",
            "kwargs": {"detectors": ["det"], "times": times},
        }
        return served.call("/api/plans/check", {"item": item})

    assert check(3)["summary"] == {"text": "3 line(s) of at most 3"}
    assert "4 is more than 3" in check(4)["msg"]
    plugin = served.site / "cielo_test_shout.py"  # type: ignore[attr-defined]
    plugin.write_text(plugin.read_text().replace("MOST = 3", "MOST = 1  # edited"))
    reloaded = served.call("/api/environment/reload", {})
    assert reloaded["success"], reloaded["msg"]
    served.wait(lambda s: s["worker_environment_state"] == "idle", 90)
    refused = check(3)
    assert (
        refused["success"] is False and "shout: parameter times: 3 is more than 1" in refused["msg"]
    )
    assert check(1)["summary"] == {"text": "1 line(s) of at most 1"}
