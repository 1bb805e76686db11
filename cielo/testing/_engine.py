"""A fresh RunEngine for tests: in-memory metadata, no Ctrl-C handler, closed afterwards."""

from __future__ import annotations

from typing import Any

__all__ = ["make_run_engine"]


def make_run_engine(**kwargs: Any) -> Any:
    """A :class:`~cielo.RunEngine` for a test: ``scan_id_file=None`` (nothing written to the
    home directory) and ``handle_sigint=False`` (Ctrl-C stops pytest, not the plan) unless
    given; close it (or use it as a context manager) when done."""
    from cielo.core import RunEngine

    kwargs.setdefault("scan_id_file", None)
    kwargs.setdefault("handle_sigint", False)
    return RunEngine(**kwargs)
