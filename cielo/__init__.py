"""cielo: run experiments at scientific user facilities.

Plans (generators of :class:`Msg`) run on a :class:`RunEngine` against devices and
produce event-model documents; plugins supply devices, plans, callbacks and storage.
"""

from importlib.metadata import PackageNotFoundError, version

from .core import Msg, RunEngine, hookimpl, load_profile
from .storage import open_catalog

try:
    __version__ = version("cielo")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["Msg", "RunEngine", "__version__", "hookimpl", "load_profile", "open_catalog"]
