"""Functions a test profile allows the queue server to run (tests/server/test_functions.py)."""

from __future__ import annotations

import pathlib
from typing import Any


def add_numbers(a: float, b: float = 1.0) -> float:
    """Add two numbers."""
    return a + b


def write_note(path: str, text: str) -> str:
    """Write ``text`` to ``path`` (so a test sees the function ran in the worker)."""
    pathlib.Path(path).write_text(text)
    return text


def opaque() -> Any:
    """Return something JSON cannot encode."""
    return {1, 2}


def explode(reason: str) -> None:
    """Raise with ``reason``."""
    raise RuntimeError(f"exploded: {reason}")


def forbidden_reset() -> str:
    """A function the test permissions forbid."""
    return "reset"
