"""Every ```python block of docs/devices/epics.md runs against the demo IOC (one namespace)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).parents[3] / "docs" / "devices" / "epics.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


@pytest.mark.epics
def test_examples_run(ioc, capsys):
    blocks = BLOCK.findall(PAGE.read_text())
    assert len(blocks) >= 4
    namespace: dict = {"__name__": "docs_epics"}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{PAGE.name}[block {i}]", "exec"), namespace)
    out = capsys.readouterr().out
    assert "outside the soft limits [-10, 10] mm (LLM/HLM of CIELO:m1)" in out
    assert "9 of 18 signals did not connect within 1 s:\n  ghost\n" in out
    assert "user_readback  ca://NOPE:m9:RBV: timed out" in out
