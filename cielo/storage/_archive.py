"""Read document archives (JSON lines, msgpack) and replay documents into callbacks."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from ._documents import jsonable
from ._errors import CatalogError

__all__ = ["iter_documents", "msgpack_default", "replay"]

Document = dict[str, Any]


def msgpack_default(value: Any) -> Any:
    """``msgpack.packb`` ``default=``: numpy values become lists and numbers."""
    return jsonable(value)


def _pair(item: Any, path: Path, where: str) -> tuple[str, Document]:
    if isinstance(item, dict) and "name" in item and "doc" in item:
        return item["name"], item["doc"]
    if isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str):
        return item[0], item[1]
    raise CatalogError(
        f"{path}: {where} is not a document ([name, doc] or {{'name':..., 'doc':...}}): "
        f"{str(item)[:80]}"
    )


def iter_documents(path: str | os.PathLike[str]) -> Iterator[tuple[str, Document]]:
    """Yield ``(name, doc)`` from a ``.jsonl`` or ``.msgpack`` archive, in file order."""
    path = Path(path)
    if not path.exists():
        raise CatalogError(f"no such archive: {path}")
    if path.suffix in (".msgpack", ".mpk"):
        import msgpack

        with open(path, "rb") as f:
            for i, item in enumerate(msgpack.Unpacker(f, raw=False, strict_map_key=False)):
                yield _pair(item, path, f"object {i}")
        return
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise CatalogError(f"{path}:{lineno}: not JSON ({exc})") from exc
            yield _pair(item, path, f"line {lineno}")


def replay(
    documents: Iterable[tuple[str, Document]] | str | os.PathLike[str],
    *callbacks: Callable[[str, Document], Any],
) -> int:
    """Feed documents (pairs, or an archive's path) to callbacks in order; return the count."""
    if isinstance(documents, (str, os.PathLike)):
        documents = iter_documents(documents)
    n = 0
    for name, doc in documents:
        for callback in callbacks:
            callback(name, doc)
        n += 1
    return n
