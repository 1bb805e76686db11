"""Kinds: which readings of a device go into ``read()``, ``read_configuration()`` and ``hints``."""

from __future__ import annotations

import enum

__all__ = ["Kind", "as_kind"]


class Kind(enum.IntFlag):
    """The role of a signal inside its device (the same bits as ophyd's ``Kind``).

    * ``hinted``: read with ``read()`` and suggested for plots and tables (``hints``);
    * ``normal``: read with ``read()``;
    * ``config``: read with ``read_configuration()`` (once per descriptor);
    * ``omitted``: never read automatically, still reachable as an attribute.
    """

    omitted = 0b000
    normal = 0b001
    config = 0b010
    hinted = 0b101


def as_kind(kind: Kind | str | int) -> Kind:
    """``Kind`` from a ``Kind``, its name (``"hinted"``) or its bits."""
    if isinstance(kind, Kind):
        return kind
    if isinstance(kind, str):
        try:
            return Kind[kind.strip().lower()]
        except KeyError:
            names = ", ".join(k.name for k in Kind if k.name)
            raise ValueError(f"unknown kind {kind!r}; use one of {names}") from None
    return Kind(kind)
