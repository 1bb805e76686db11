"""The catalog writer as a profile callback (``[callbacks.catalog]``) and the backend opener."""

from __future__ import annotations

from typing import Any

from cielo.storage import CatalogWriter, open_catalog

__all__ = ["catalog_writer", "open_backend"]


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
        else ``catalog.sqlite`` in the user data directory (:func:`cielo.core.paths.data_dir`).
    :param batch_size: events per transaction. :param max_delay: seconds before commit.
    """
    return _OwningWriter(open_catalog(uri), batch_size=batch_size, max_delay=max_delay)
