"""Profiles: an instrument's TOML configuration, loaded into an :class:`Environment` of
devices, plans and subscribers, and the :class:`InstrumentLock` that keeps one plan runner
per instrument.
"""

from ._environment import DEFAULT_CATALOG_URI, Environment, Subscribers, load_profile
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
    "default_lock_dir",
    "find_profile",
    "list_profiles",
    "load_profile",
    "profile_search_path",
    "read_profile",
]
