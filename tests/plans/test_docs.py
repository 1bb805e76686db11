"""Every ```python block of docs/plans/*.md runs (blocks of a page share a namespace); every
``cielo ...`` command shown in a shell block runs and succeeds; every TOML block parses."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
DOCS = ROOT / "docs" / "plans"
PAGES = sorted(DOCS.glob("*.md"))
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """``(language, body)`` of each fenced block of a Markdown page, in order."""
    blocks: list[tuple[str, str]] = []
    lang: str | None = None
    body: list[str] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            if lang is None:
                lang, body = line[3:].strip(), []
            else:
                blocks.append((lang, "".join(body)))
                lang = None
        elif lang is not None:
            body.append(line)
    return blocks


def _commands() -> list[tuple[str, str]]:
    """``cielo ...`` lines of the blocks without a language (shell commands)."""
    found = []
    for page in PAGES:
        for lang, block in fenced_blocks(page.read_text()):
            for line in block.replace("\\\n", " ").splitlines():
                if lang == "" and line.startswith("cielo "):
                    found.append((page.stem, line))
    return found


COMMANDS = _commands()


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
    # an example whose callback fails prints a traceback to the reader (the adaptive
    # page's subscriber raised KeyError: 'motor' on a plan without the motor)
    errors = getattr(engine, "callback_errors", [])
    assert not errors, f"{page.name}: a callback failed: {errors[0]}"


def test_the_pages_show_shell_commands():
    assert {"grid_scans", "tools", "xafs"} <= {page for page, _ in COMMANDS}


@pytest.mark.parametrize(
    "command", [c for _, c in COMMANDS], ids=[f"{p}-{i}" for i, (p, _) in enumerate(COMMANDS)]
)
def test_shell_commands_run(command, tmp_path, monkeypatch, capsys):
    """The commands as a user types them in the repository root."""
    from cielo.cli import main

    if "example_beamline" in command:
        pytest.importorskip("cielo_example_beamline")
    monkeypatch.setenv("CIELO_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)  # files a profile writes (e.g. a logbook) land in tmp
    args = [str(ROOT / a) if "/" in a and (ROOT / a).exists() else a for a in shlex.split(command)]
    assert main(args[1:]) == 0, capsys.readouterr().err


def test_toml_blocks_are_valid_profile_tables(env):
    from cielo.plans import SupplementalData

    blocks = [
        tomllib.loads(body)
        for page in PAGES
        for lang, body in fenced_blocks(page.read_text())
        if lang == "toml"
    ]
    assert blocks
    for table in blocks:
        if "supplemental" in table:
            SupplementalData.from_names(env.devices, **table["supplemental"])
