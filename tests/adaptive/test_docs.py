"""The ```python blocks of docs/adaptive/*.md run (blocks of a page share a namespace), and
so do the pages' `cielo run` and `cielo agent list` commands."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from cielo.cli import main

DOCS = Path(__file__).parents[2] / "docs" / "adaptive"
PAGES = sorted(DOCS.glob("*.md"))
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)  # one fenced block at a time


@pytest.mark.parametrize("page", [p for p in PAGES if BLOCK.search(p.read_text())],
                         ids=lambda p: p.stem)  # fmt: skip
def test_examples_run(page, tmp_path, monkeypatch, capsys):
    pytest.importorskip("sklearn")
    monkeypatch.setenv("CIELO_STATE_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    for i, block in enumerate(BLOCK.findall(page.read_text())):
        exec(compile(block, f"{page.name}[block {i}]", "exec"), namespace)
    errors = getattr(namespace.get("RE"), "callback_errors", [])
    assert not errors, f"{page.name}: a callback failed: {errors[0]}"


def test_the_run_commands_of_the_pages_work(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CIELO_STATE_DIR", str(tmp_path))
    commands = [line for page in PAGES for lang, block in FENCE.findall(page.read_text())
                for line in block.splitlines() if not lang and line.startswith("cielo run ")]  # fmt: skip
    assert commands
    for command in commands:
        assert main(shlex.split(command)[1:]) == 0, command
    assert main(["agent", "list", "--profile", "sim"]) == 0
    listed = capsys.readouterr().out
    for name in ("golden_section", "peak_fit", "gp", "uncertainty_map"):
        assert name in listed
