"""The Python examples in docs/devices (except the EPICS page) run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs" / "devices"
PAGES = sorted(p for p in DOCS.glob("*.md") if p.name != "epics.md")
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def test_pages_exist():
    assert {p.name for p in PAGES} >= {"index.md", "declaring.md", "sim.md"}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_examples_run(page):
    for i, block in enumerate(BLOCK.findall(page.read_text())):
        namespace: dict = {"__name__": f"docs_{page.stem}_{i}"}
        exec(compile(block, f"{page.name}[block {i}]", "exec"), namespace)
