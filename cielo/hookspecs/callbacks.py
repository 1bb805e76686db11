"""Hook through which plugins offer document consumers (tables, plots, fits)."""

from __future__ import annotations

from collections.abc import Mapping

from cielo.core.plugins import hookspec

from .types import CallbackFactory

__all__ = ["cielo_callbacks"]


@hookspec
def cielo_callbacks() -> Mapping[str, CallbackFactory] | None:
    """Offer callbacks that a profile subscribes by name.

    Fires once per plugin manager, when the registry of contributions is built.

    :returns: a mapping from callback name (``"live_table"``, ``"live_fit"``) to a
        factory called as ``factory(**params)`` with a profile's ``[callbacks.NAME]``
        table; the factory returns ``callback(name, doc)``, which may see many runs one
        after another or interleaved. ``None`` offers nothing. A name offered by two
        plugins is an error that names both.
    """
