"""cielo: run experiments at scientific user facilities.

Plans (generators of :class:`Msg`) run on a :class:`RunEngine` against devices and
produce event-model documents; plugins supply devices, plans, callbacks and storage.
"""

from typing import Any

from .core import Msg, RunEngine, hookimpl, load_profile
from .storage import open_catalog

__all__ = [
    "Msg",
    "RunEngine",
    "__version__",
    "hookimpl",
    "load_profile",
    "open_catalog",
    "session",
]


def __getattr__(name: str) -> Any:
    # ``session`` (the interactive setup) is imported on first use, keeping ``import cielo`` cheap
    if name == "session":
        from .shell import session

        return session
    # ``__version__`` is looked up on first use: importlib.metadata costs ~35 ms at import.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("cielo")
        except PackageNotFoundError:  # a source tree that is not installed
            return "0.0.0+unknown"
    raise AttributeError(f"module 'cielo' has no attribute {name!r}")
