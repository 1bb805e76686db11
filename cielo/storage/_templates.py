"""File names from templates over run-start metadata, never overwriting an existing file."""

from __future__ import annotations

import os
import re
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._errors import SuitcaseError

__all__ = ["DEFAULT_TEMPLATE", "check_template", "render_template", "reserve_path"]

#: The default file name (without suffix) of a run's export.
DEFAULT_TEMPLATE = "{scan_id}-{plan_name}-{uid:.8}"

_UNSAFE = re.compile(r"[^A-Za-z0-9._+=@-]+")


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
        text = super().format_field(value, format_spec)
        return _UNSAFE.sub("_", text).strip("_") or "_"  # no separators from values


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
    for field in fields:
        if not field or field.isdigit():
            raise SuitcaseError(
                f"bad file template {template!r}: every field names a run-start key, "
                "e.g. '{scan_id}-{plan_name}'"
            )


def reserve_path(directory: str | os.PathLike[str], stem: str, suffix: str) -> Path:
    """Create and return a new empty file ``directory/stem[-N]suffix`` that did not exist.

    The file is created atomically (``open(..., "x")``), so two writers never get the
    same name and nothing is overwritten: ``-1``, ``-2``, ... is appended as needed.
    """
    base = Path(directory) / stem
    base.parent.mkdir(parents=True, exist_ok=True)
    for n in range(100_000):
        path = base.with_name(f"{base.name}{'' if n == 0 else f'-{n}'}{suffix}")
        try:
            with open(path, "x"):
                return path
        except FileExistsError:
            continue
    raise SuitcaseError(f"no free file name for {base}{suffix} after 100000 attempts")
