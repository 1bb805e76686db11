"""Hook through which plugins ship profiles (TOML files found by name)."""

from __future__ import annotations

import os
from collections.abc import Iterable

from cielo.core.plugins import hookspec

__all__ = ["cielo_profile_dirs"]


@hookspec
def cielo_profile_dirs() -> Iterable[str | os.PathLike[str]] | None:
    """Offer directories of profiles (``NAME.toml`` files) that ship with a plugin.

    Fires whenever profiles are listed or found by name (``cielo profiles``,
    ``load_profile("NAME")``). They are searched after ``CIELO_PROFILE_PATH`` and the
    user's profile directory, so a user's file of the same name wins, and before the
    profiles bundled with cielo; among plugins, the first registered wins.

    :returns: directories, each holding profiles; ``None`` offers none. A directory that
        does not exist is skipped.
    """
