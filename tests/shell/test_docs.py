"""The README's Python recipe and docs/shell.md's examples run, and print in order."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def run_blocks(path: Path) -> None:
    namespace: dict = {"__name__": f"docs_{path.stem}"}
    for i, block in enumerate(BLOCK.findall(path.read_text())):
        exec(compile(block, f"{path.name}[block {i}]", "exec"), namespace)


def test_readme_recipe_prints_the_peak_line_after_the_table(capsys):
    """It subscribed without the feedback group: the peak line landed inside the table."""
    for _ in range(3):  # the order must hold every time, not by luck of the threads
        run_blocks(ROOT / "README.md")
        out = capsys.readouterr().out.splitlines()
        borders = [i for i, line in enumerate(out) if line.startswith("+---")]
        (stats,) = [i for i, line in enumerate(out) if line.startswith("peak stats of det")]
        assert len(borders) == 3 and borders[-1] < stats, out


def test_shell_page_examples_run(capsys):
    run_blocks(ROOT / "docs" / "shell.md")
    assert "success" in capsys.readouterr().out
