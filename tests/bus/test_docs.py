"""Every ```python block of docs/bus/*.md runs against the session's redis-server
(blocks of a page share a namespace)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[2] / "docs" / "bus"
PAGES = sorted(DOCS.glob("*.md"))
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_examples_run(page, redis_server, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CIELO_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("CIELO_CATALOG", f"sqlite:///{tmp_path / 'docs.sqlite'}")
    monkeypatch.setenv("CIELO_REDIS", f"redis://127.0.0.1:{redis_server.port}")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    blocks = BLOCK.findall(page.read_text())
    assert blocks
    for i, block in enumerate(blocks):
        exec(compile(block, f"{page.name}[block {i}]", "exec"), namespace)
    out = capsys.readouterr().out
    assert "'start', 'descriptor', 'event'" in out  # the group member's print
    assert "success" in out  # the remote live table's footer
