"""File names from templates over run-start metadata, never overwriting an existing file."""

from __future__ import annotations

import os
import re
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._errors import SuitcaseError

__all__ = [
    "DEFAULT_TEMPLATE",
    "check_template",
    "path_inside",
    "render_template",
    "reserve_path",
    "safe_name",
]

#: The default file name (without suffix) of a run's export.
DEFAULT_TEMPLATE = "{scan_id}-{plan_name}-{uid:.8}"

_UNSAFE = re.compile(r"[^A-Za-z0-9._+=@-]+")
_NAME_MAX = 255  # bytes in a file name on every common file system
_NAME_ROOM = _NAME_MAX - 64  # what a template's text may take: fields, "-N", suffixes need room
_FIELD_MAX = 64  # characters a field's value gives a name (longer values are cut)


class _Formatter(string.Formatter):
    def __init__(self, md: Mapping[str, Any]) -> None:
        self.md = md

    def get_value(self, key: int | str, args: Any, kwargs: Any) -> Any:
        if isinstance(key, int) or key not in self.md:
            raise SuitcaseError(
                f"file template field {{{key}}} is not in the run-start document; "
                f"available keys: {', '.join(sorted(self.md))}"
            )
        return self.md[key]

    def format_field(self, value: Any, format_spec: str) -> str:
        return safe_name(super().format_field(value, format_spec))


def safe_name(text: str) -> str:
    """``text`` as one file-name component: no separators, never ``.`` or ``..``
    (characters outside ``A-Za-z0-9._+=@-`` become ``_``; cut to 64 characters)."""
    name = _UNSAFE.sub("_", text).strip("_")[:_FIELD_MAX]
    return "_" if not name.strip(".") else name


def render_template(template: str, start: Mapping[str, Any]) -> str:
    """Fill ``template`` (``str.format`` syntax) from a run-start document.

    Fields reach into the start document (``{scan_id}``, ``{sample}``); missing ones
    default for ``plan_name`` and ``scan_id`` so the default template always works.
    Values are made file-name safe; ``/`` in the template itself makes sub-folders.
    """
    md = {"plan_name": "run", "scan_id": 0, **start}
    try:
        return _Formatter(md).format(template)
    except (ValueError, IndexError) as exc:
        raise SuitcaseError(f"bad file template {template!r}: {exc}") from exc


def check_template(template: str) -> None:
    """Refuse a template that no run-start document could fill (bad braces, a field
    that is not a plain key name), so a profile's mistake shows when it is loaded."""
    if not isinstance(template, str):
        raise SuitcaseError(f"file template must be a string, not {template!r}")
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise SuitcaseError(
            f"bad file template {template!r}: {exc}; write fields as {{key}}, e.g. "
            "'{scan_id}-{plan_name}' (double the braces for a literal one: '{{')"
        ) from exc
    parts = template.replace("\\", "/").split("/")
    if template.startswith(("/", "\\", "~")) or ".." in parts or "." in parts or "" in parts:
        raise SuitcaseError(
            f"bad file template {template!r}: it must name files inside the suitcase's "
            "directory, with '/' only between non-empty folder names (no '.', '..', leading "
            "'/' or '~'); set the folder with directory = ..."
        )
    longest = max(len(part.encode()) for part in _literal(template).split("/"))
    if longest > _NAME_ROOM:
        raise SuitcaseError(
            f"bad file template {template!r}: a file or folder name of {longest} bytes "
            f"leaves no room under the {_NAME_MAX}-byte limit; shorten it (or use '/')"
        )
    for field in fields:
        if not field or field.isdigit():
            raise SuitcaseError(
                f"bad file template {template!r}: every field names a run-start key, "
                "e.g. '{scan_id}-{plan_name}'"
            )


def _literal(template: str) -> str:
    """The template's text outside its fields."""
    return "".join(text for text, *_ in string.Formatter().parse(template))


def reserve_path(directory: str | os.PathLike[str], stem: str, suffix: str) -> Path:
    """Create and return a new empty file ``directory/stem[-N]suffix`` that did not exist.

    The file is created atomically (``open(..., "x")``), so two writers never get the
    same name and nothing is overwritten: ``-1``, ``-2``, ... is appended as needed.
    """
    base = path_inside(directory, stem)
    base.parent.mkdir(parents=True, exist_ok=True)
    for n in range(100_000):
        path = base.with_name(f"{base.name}{'' if n == 0 else f'-{n}'}{suffix}")
        try:
            with open(path, "x"):
                return path
        except FileExistsError:
            continue
    raise SuitcaseError(f"no free file name for {base}{suffix} after 100000 attempts")


def path_inside(directory: str | os.PathLike[str], relative: str) -> Path:
    """``directory / relative``, refused unless it stays inside ``directory`` once resolved
    (``..`` components, absolute names and symbolic links leading out are all caught)."""
    root = Path(directory).expanduser()
    path = root / relative
    real_root = root.resolve()
    if Path(relative).is_absolute() or not path.resolve().is_relative_to(real_root):
        raise SuitcaseError(
            f"refusing to write {str(path)!r}: it is outside the suitcase directory "
            f"{str(real_root)!r}; check the file template and the metadata it uses"
        )
    return path
