"""Every ```python block of docs/storage/*.md runs (blocks of a page share a namespace)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[2] / "docs" / "storage"
PAGES = sorted(DOCS.glob("*.md"))
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def test_pages_exist():
    assert {p.stem for p in PAGES} >= {"index", "catalog", "suitcases", "readers", "backends"}


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_examples_run(page, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CIELO_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("CIELO_CATALOG", f"sqlite:///{tmp_path / 'docs.sqlite'}")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    for i, block in enumerate(BLOCK.findall(page.read_text())):
        exec(compile(block, f"{page.name}[block {i}]", "exec"), namespace)
