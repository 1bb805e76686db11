"""The web application: time to first render of the queue page, what the browser loads,
the latency from an event in the worker to its point drawn, and a long fast stream.

Starts a real ``cielo serve --profile sim --open`` on loopback, then opens the queue page
in headless Chromium (``/usr/bin/chromium``, driven by Playwright) with the API key already
in the tab's session, as after a login. "First render" is the page's own clock
(``performance.now()``, from the start of navigation) when the server's state and the
queue are drawn: the queue page as a user first sees it. Each run is a fresh browser
context (empty cache). Run: ``.venv/bin/python benchmarks/bench_web.py [--runs N]
[--items N]`` (``--items`` queued before measuring).

``--latency N``: a count of N points (``--period`` s apart) runs while the queue page is
open; for each point, the time from the event's own timestamp (taken in the worker when
the detector was read; same machine, same clock) to the first animation frame after the
plot's point count reached it (the frame that paints it). ``--soak S``: a count at
``--soak-rate`` points/s for S seconds; the page's JS heap before and after, the frames
longer than 50 ms, and how far the plot's point count lags the run at its end.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path
from typing import Any

from cielo.testing import QueueServer, launch_chromium

#: True once the state and the queue (its rows, or "empty") are on the page.
_RENDERED = """() => {
  const state = document.querySelector('[data-testid="manager-state"]');
  const queue = document.querySelector('ol.queue-list, section .muted');
  return state && state.textContent !== '…' && queue && !/Loading/.test(queue.textContent)
    ? performance.now() : false;
}"""


#: Bytes the page loaded (its document and every resource), as the browser counts them:
#: [decoded, as sent (compressed)].
_BYTES = """() => performance.getEntriesByType('navigation').concat(
  performance.getEntriesByType('resource')).reduce(
    ([d, e], r) => [d + r.decodedBodySize, e + r.encodedBodySize], [0, 0])"""


def first_bundle() -> list[tuple[str, int, int, int]]:
    """The files ``index.html`` loads before anything is drawn (its script and styles):
    name, bytes, Brotli bytes, gzip bytes (as built: they do not depend on the load)."""
    import re

    from cielo.web import STATIC_DIR

    index = (STATIC_DIR / "index.html").read_text()
    out = []
    for name in re.findall(r'(?:src|href)="/(assets/[^"]+)"', index):
        path = STATIC_DIR / name
        packed = [path.with_name(path.name + suffix) for suffix in (".br", ".gz")]
        br, gz = (p.stat().st_size if p.exists() else 0 for p in packed)
        out.append((name, path.stat().st_size, br, gz))
    return out


#: In the page: the wall time of each change of the live plot's point count, stamped at
#: the next animation frame (when the new points are painted).
_WATCH_DRAWS = """() => {
  window.__draws = [];
  const plot = document.querySelector('.live-plot');
  new MutationObserver(() => {
    const n = +plot.dataset.points;
    requestAnimationFrame(() => window.__draws.push([n, Date.now() / 1000]));
  }).observe(plot, { attributes: true, attributeFilter: ['data-points'] });
}"""

#: In the page: frames (gaps between animation frames) and the JS heap.
_WATCH_FRAMES = """() => {
  window.__frames = { long: 0, count: 0, worst: 0 };
  let last = performance.now();
  const tick = (t) => {
    const gap = t - last; last = t;
    window.__frames.count++;
    if (gap > 50) window.__frames.long++;
    window.__frames.worst = Math.max(window.__frames.worst, gap);
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""


def _page(browser: Any, served: QueueServer) -> Any:
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    context.add_init_script(f"sessionStorage.setItem('cielo.apiKey', {served.key!r})")
    page = context.new_page()
    page.goto(served.url + "/")
    page.wait_for_function(_RENDERED, polling="raf")
    page.wait_for_timeout(1500)  # the documents feed is open
    return page


def _count(served: QueueServer, num: int, period: float) -> str:
    """Run a count of ``num`` points ``period`` s apart; the run's uid once it ended."""
    before = served.call("/api/status")["items_in_history"]
    kwargs = {"detectors": ["det"], "num": num, "delay": period}
    item = {"item_type": "plan", "name": "count", "kwargs": kwargs}
    assert served.call("/api/queue/item/add", {"item": item})["success"]
    assert served.call("/api/queue/start")["success"]
    served.wait(lambda s: s["items_in_history"] > before and s["manager_state"] == "idle", 3600)
    result = served.call("/api/history/get")["items"][-1]["result"]
    if result["exit_status"] != "completed":
        print(f"  (the count ended {result['exit_status']}: {result['msg']})")
    return str(result["run_uids"][0])


def _event_times(served: QueueServer, uid: str) -> list[float]:
    from cielo.storage import open_catalog

    with open_catalog(f"sqlite:///{served.base / 'catalog.sqlite'}", create=False) as cat:
        return [float(t) for t in cat[uid]["primary"].columns([])["time"]]


def latency(browser: Any, served: QueueServer, num: int, period: float) -> None:
    page = _page(browser, served)
    page.evaluate(_WATCH_DRAWS)
    uid = _count(served, num, period)
    page.wait_for_function(f"() => +document.querySelector('.live-plot').dataset.points >= {num}")
    page.wait_for_timeout(200)
    draws = sorted(page.evaluate("window.__draws"))
    times = _event_times(served, uid)
    lags = []
    for seq, emitted in enumerate(times, start=1):
        drawn = min((t for n, t in draws if n >= seq), default=None)
        if drawn is not None:
            lags.append((drawn - emitted) * 1000)
    lags.sort()
    q = lambda f: lags[min(len(lags) - 1, int(f * len(lags)))]  # noqa: E731
    print(
        f"event to pixel, count of {num} points {period * 1000:.0f} ms apart ({len(lags)} drawn):"
    )
    print(
        f"  p50 {q(0.5):.0f} ms, p95 {q(0.95):.0f} ms, max {lags[-1]:.0f} ms   target p50 <= 100 ms"
    )
    page.context.close()


def soak(browser: Any, served: QueueServer, seconds: float, rate: float) -> None:
    import time

    page = _page(browser, served)
    closed: list[str] = []
    page.on(
        "websocket",
        lambda ws: ws.on("close", lambda _: closed.append(ws.url.rsplit("/api/", 1)[-1])),
    )
    page.reload()  # the feeds again, now watched
    page.wait_for_function(_RENDERED, polling="raf")
    page.wait_for_timeout(1500)
    heap = "() => performance.memory.usedJSHeapSize / 1048576"
    page.evaluate(_WATCH_FRAMES)
    before = page.evaluate(heap)
    num = int(seconds * rate)
    points = "+document.querySelector('.live-plot').dataset.points"
    t0 = time.monotonic()
    uid = _count(served, num, 1.0 / rate)
    took = time.monotonic() - t0
    shown_at_end = int(page.evaluate(points))
    events = len(_event_times(served, uid))
    if shown_at_end >= events:
        caught_up = "kept up"
    else:
        try:
            page.wait_for_function(f"() => {points} >= {events}", timeout=30_000)
            caught_up = f"all drawn {time.monotonic() - t0 - took:.2f} s after the run's end"
        except Exception:
            caught_up = f"{int(page.evaluate(points))} drawn 30 s later"
    page.wait_for_timeout(500)
    after = page.evaluate(heap)
    frames = page.evaluate("window.__frames")
    print(
        f"soak: count of {num} points at {rate:.0f}/s asked; the run took {took:.1f} s "
        f"({events / took:.0f} points/s):"
    )
    print(f"  plot at the run's end: {shown_at_end} of {events} points; {caught_up}")
    print(f"  feeds closed during the run: {closed or 'none'}")
    print(f"  JS heap {before:.1f} MiB before, {after:.1f} MiB after")
    print(
        f"  frames: {frames['count']} ({frames['count'] / took:.0f}/s), "
        f"{frames['long']} longer than 50 ms, worst {frames['worst']:.0f} ms"
    )
    page.context.close()


def main(argv: list[str] | None = None) -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument(
        "--latency", type=int, default=0, metavar="N", help="points of the latency count"
    )
    parser.add_argument("--period", type=float, default=0.02, help="seconds between its points")
    parser.add_argument("--soak", type=float, default=0, metavar="S", help="seconds of the soak")
    parser.add_argument("--soak-rate", type=float, default=1000.0, help="points per second")
    args = parser.parse_args(argv)
    if args.latency or args.soak:
        with tempfile.TemporaryDirectory() as tmp, QueueServer(Path(tmp)) as served:
            with sync_playwright() as pw:
                browser = launch_chromium(pw)
                if args.latency:
                    latency(browser, served, args.latency, args.period)
                if args.soak:
                    soak(browser, served, args.soak, args.soak_rate)
                browser.close()
        return
    with tempfile.TemporaryDirectory() as tmp, QueueServer(Path(tmp)) as served:
        for i in range(args.items):
            item = {
                "item_type": "plan",
                "name": "count",
                "kwargs": {"detectors": ["det"], "num": i + 1},
            }
            assert served.call("/api/queue/item/add", {"item": item})["success"]
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            times, sizes = [], []
            for _ in range(args.runs):
                context = browser.new_context(viewport={"width": 1024, "height": 768})
                context.add_init_script(f"sessionStorage.setItem('cielo.apiKey', {served.key!r})")
                page = context.new_page()
                page.goto(served.url + "/")
                times.append(page.wait_for_function(_RENDERED, polling="raf").json_value())
                page.wait_for_selector("section.plan-form")  # the lazily loaded part too
                sizes.append(page.evaluate(_BYTES))
                context.close()
            browser.close()
    print(f"queue page, {args.items} items queued, {args.runs} fresh contexts on loopback:")
    print(
        f"  first render: median {statistics.median(times):.0f} ms "
        f"(min {min(times):.0f}, max {max(times):.0f})   target <= 1000 ms"
    )
    decoded = statistics.median(d for d, _ in sizes) / 1024
    sent = statistics.median(e for _, e in sizes) / 1024
    print(f"  bytes loaded by the page: {decoded:.0f} KiB decoded, {sent:.0f} KiB as sent")
    for name, raw, br, gz in first_bundle():
        print(
            f"  first bundle {name}: {raw / 1024:.1f} KiB, br {br / 1024:.1f}, gzip {gz / 1024:.1f}"
        )


if __name__ == "__main__":
    main()
