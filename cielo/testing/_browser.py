"""Debian's Chromium for browser tests and benchmarks (never a browser Playwright downloads)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["CHROMIUM", "launch_chromium"]

#: ``apt-get install -y chromium``.
CHROMIUM = Path("/usr/bin/chromium")

#: Headless in a container, and nothing that reaches the internet on its own.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
)


def launch_chromium(playwright: Any) -> Any:
    """A headless :data:`CHROMIUM` driven by ``playwright`` (a ``sync_playwright()``)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
