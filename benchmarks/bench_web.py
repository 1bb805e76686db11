"""The web application: time to first render of the queue page, and what the browser loads.

Starts a real ``cielo serve --profile sim --open`` on loopback, then opens the queue page
in headless Chromium (``/usr/bin/chromium``, driven by Playwright) with the API key already
in the tab's session, as after a login. "First render" is the page's own clock
(``performance.now()``, from the start of navigation) when the server's state and the
queue are drawn: the queue page as a user first sees it. Each run is a fresh browser
context (empty cache). Run: ``.venv/bin/python benchmarks/bench_web.py [--runs N]
[--items N]`` (``--items`` queued before measuring).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from cielo.testing import QueueServer, launch_chromium

#: True once the state and the queue (its rows, or "empty") are on the page.
_RENDERED = """() => {
  const state = document.querySelector('[data-testid="manager-state"]');
  const queue = document.querySelector('ol.queue-list, section .muted');
  return state && state.textContent !== '…' && queue && !/Loading/.test(queue.textContent)
    ? performance.now() : false;
}"""


#: Bytes the page loaded (its document and every resource), as the browser counts them.
_BYTES = """() => performance.getEntriesByType('navigation').concat(
  performance.getEntriesByType('resource')).reduce((n, e) => n + e.decodedBodySize, 0)"""


def main(argv: list[str] | None = None) -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--items", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, QueueServer(Path(tmp)) as served:
        for i in range(args.items):
            item = {"item_type": "plan", "name": "count", "kwargs": {"detectors": ["det"], "num": i + 1}}
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
    print(f"  bytes loaded by the page (uncompressed): {statistics.median(sizes) / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
