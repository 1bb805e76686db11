"""Profiles: an instrument's TOML configuration, loaded into an :class:`Environment` of
devices, plans and subscribers, and the :class:`InstrumentLock` that keeps one plan runner
per instrument.
"""

from typing import Any

from ..paths import default_catalog_uri
from ._environment import Environment, Subscribers, allowed_agents, load_profile
from ._lock import InstrumentBusy, InstrumentLock, LockInfo, default_lock_dir
from ._profile import Profile, find_profile, list_profiles, profile_search_path, read_profile

__all__ = [
    "DEFAULT_CATALOG_URI",
    "Environment",
    "InstrumentBusy",
    "InstrumentLock",
    "LockInfo",
    "Profile",
    "Subscribers",
    "allowed_agents",
    "default_lock_dir",
    "find_profile",
    "list_profiles",
    "load_profile",
    "profile_search_path",
    "read_profile",
]


def __getattr__(name: str) -> Any:
    if name == "DEFAULT_CATALOG_URI":  # where runs go by default, for the platform, when asked
        return default_catalog_uri()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
