"""The one pluggy marker pair for cielo: ``hookspec`` for the core, ``hookimpl`` for plugins."""

from __future__ import annotations

import pluggy

__all__ = ["PROJECT_NAME", "hookspec", "hookimpl"]

PROJECT_NAME = "cielo"

#: Marks a hook specification (used only in :mod:`cielo.hookspecs`).
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
#: Marks a hook implementation; plugins write ``from cielo import hookimpl``.
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
