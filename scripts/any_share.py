"""Share of annotated function parameters typed ``Any``, per package (issue 15's figure).

Usage: ``python scripts/any_share.py [DIR ...]`` (default: ``cielo`` and ``cielo/core``).
A parameter counts as ``Any`` when its annotation is exactly ``Any`` (``typing.Any``);
``*args: Any`` and ``**kwargs: Any`` count too. ``self``/``cls`` and unannotated
parameters are left out. The second figure counts annotations that mention ``Any``
anywhere (``dict[str, Any]``, ``Callable[..., Any]``).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def _is_any(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # "Any" as a string
        node = ast.parse(node.value, mode="eval").body
    return (isinstance(node, ast.Name) and node.id == "Any") or (
        isinstance(node, ast.Attribute) and node.attr == "Any"
    )


def _mentions_any(node: ast.expr) -> bool:
    return any(_is_any(n) for n in ast.walk(node) if isinstance(n, ast.expr))


def count(root: Path) -> tuple[int, int, int]:
    """(annotated parameters, exactly Any, mentioning Any) under ``root``."""
    total = exact = mentions = 0
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            a = node.args
            params = [*a.posonlyargs, *a.args, *a.kwonlyargs]
            params += [p for p in (a.vararg, a.kwarg) if p is not None]
            for p in params:
                if p.annotation is None or p.arg in ("self", "cls"):
                    continue
                total += 1
                exact += _is_any(p.annotation)
                mentions += _mentions_any(p.annotation)
    return total, exact, mentions


def main(argv: list[str]) -> int:
    for name in argv or ["cielo", "cielo/core"]:
        total, exact, mentions = count(Path(name))
        print(
            f"{name}: {total} annotated parameters, {exact} Any ({exact / total:.0%}), "
            f"{mentions} mention Any ({mentions / total:.0%})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
