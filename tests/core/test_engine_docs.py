"""The Python examples in docs/engine run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs" / "engine"
PAGES = sorted(DOCS.glob("*.md"))
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def test_pages_exist():
    assert {p.name for p in PAGES} >= {
        "index.md",
        "pause-resume.md",
        "suspenders.md",
        "subscribing.md",
        "commands.md",
        "testing.md",
    }


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_examples_run(page):
    blocks = BLOCK.findall(page.read_text())
    assert blocks, f"{page.name} has no Python example"
    for i, block in enumerate(blocks):
        namespace: dict = {"__name__": f"docs_engine_{page.stem}_{i}"}
        exec(compile(block, f"{page.name}[block {i}]", "exec"), namespace)
