"""Bundled plugin: catalog backends (sqlite, postgresql) and readers of external data (HDF5, TIFF).

A profile subscribes the catalog writer with ``[catalog] uri = "sqlite:///PATH"``
(``CIELO_CATALOG`` overrides it): the environment opens the catalog through the backend
offered here and subscribes ``catalog.writer()``. The ``catalog`` callback does the
same for a profile that wants options (``[callbacks.catalog] uri = ...``,
``batch_size``, ``max_delay``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cielo import hookimpl
from cielo.storage import BUILTIN_READERS, CatalogWriter, open_catalog

__all__ = [
    "catalog_writer",
    "cielo_callbacks",
    "cielo_catalog_backends",
    "cielo_readers",
    "open_backend",
]


def open_backend(uri: str, **options: Any) -> Any:
    """Open a SQLite or PostgreSQL catalog (``opener(uri, **options)`` of the hook)."""
    return open_catalog(uri, **options)


class _OwningWriter(CatalogWriter):
    """A writer that closes the catalog it opened."""

    def close(self) -> None:
        super().close()
        self.catalog.close()


def catalog_writer(
    uri: str | None = None, *, batch_size: int = 5000, max_delay: float = 0.5
) -> CatalogWriter:
    """A document callback storing every run in the catalog at ``uri``.

    :param uri: ``sqlite:///PATH`` or ``postgresql://...``; default ``$CIELO_CATALOG``,
        else ``${XDG_DATA_HOME:-~/.local/share}/cielo/catalog.sqlite``.
    :param batch_size: events per transaction. :param max_delay: seconds before commit.
    """
    return _OwningWriter(open_catalog(uri), batch_size=batch_size, max_delay=max_delay)


@hookimpl
def cielo_catalog_backends() -> Mapping[str, Any]:
    return {"sqlite": open_backend, "postgresql": open_backend, "postgres": open_backend}


@hookimpl
def cielo_readers() -> Mapping[str, Any]:
    return dict(BUILTIN_READERS)


@hookimpl
def cielo_callbacks() -> Mapping[str, Any]:
    return {"catalog": catalog_writer}
