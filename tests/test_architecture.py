"""The package's layers and boundaries hold (DESIGN.md section 4).

import-linter checks the contracts in pyproject.toml; the private-import rule below keeps
each package's ``_private`` modules its own, apart from the uses listed with a reason.
"""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "cielo"

#: Private modules imported from outside their package today, each to be made public or
#: moved (issue 15). A new entry needs a reason; removing one is always welcome.
KNOWN_PRIVATE_IMPORTS: dict[tuple[str, str], str] = {
    ("cielo.cli._catalog", "cielo.storage._query"): "query parser to be made public",
    ("cielo.plugins.suitcases._archives", "cielo.storage._archive"): "archive base to be public",
}


def test_import_contracts_are_kept() -> None:
    pytest.importorskip("importlinter")
    lint = pathlib.Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache", str(ROOT / "pyproject.toml")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    report = result.stdout.partition("Broken contracts")[2] or result.stdout
    assert result.returncode == 0, "an import breaks a contract:\n" + report[-4000:]


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _private_imports() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in PACKAGE.rglob("*.py"):
        module = _module_name(path)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or node.module is None:
                continue
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, node.module])
            else:
                target = node.module
            if not target.startswith("cielo."):
                continue
            parts = target.split(".")
            for i, part in enumerate(parts):
                if part.startswith("_") and not part.startswith("__"):
                    owner = ".".join(parts[:i])
                    if not (module == owner or module.startswith(owner + ".")):
                        found.add((module, ".".join(parts[: i + 1])))
                    break
    return found


def test_no_private_module_is_imported_from_another_package() -> None:
    new = sorted(_private_imports() - KNOWN_PRIVATE_IMPORTS.keys())
    assert not new, (
        "private modules imported from outside their package (import the package's public "
        f"name instead, or export one): {new}"
    )
