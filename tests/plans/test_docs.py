"""Every ```python block of docs/plans/*.md runs (blocks of a page share a namespace)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[2] / "docs" / "plans"
PAGES = sorted(DOCS.glob("*.md"))
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def test_every_family_has_a_page():
    names = {p.stem for p in PAGES}
    assert {
        "step_scans",
        "grid_scans",
        "spiral_scans",
        "adaptive",
        "fly",
        "stubs",
        "preprocessors",
        "trajectories",
        "tools",
        "xafs",
    } <= names


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_examples_run(page, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CIELO_STATE_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    if page.stem == "xafs":
        pytest.importorskip("cielo_example_beamline")
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    try:
        for i, block in enumerate(BLOCK.findall(page.read_text())):
            code = compile(block, f"{page.name}[block {i}]", "exec")
            exec(code, namespace)
    finally:
        engine = namespace.get("RE")
        if engine is not None and hasattr(engine, "close"):
            engine.close()
