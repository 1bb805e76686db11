"""Bundled plugin: catalog backends (sqlite, postgresql) and readers of external data (HDF5, TIFF).

A profile subscribes the catalog writer with ``[catalog] uri = "sqlite:///PATH"``
(``CIELO_CATALOG`` overrides it): the environment opens the catalog through the backend
offered here and subscribes ``catalog.writer()``. The ``catalog`` callback does the
same for a profile that wants options (``[callbacks.catalog] uri = ...``,
``batch_size``, ``max_delay``).
"""

from __future__ import annotations

from collections.abc import Mapping

from cielo import hookimpl
from cielo.hookspecs import CallbackFactory, CatalogOpener, ReaderFactory
from cielo.storage import BUILTIN_READERS

from ._callback import catalog_writer, open_backend

__all__ = [
    "catalog_writer",
    "cielo_callbacks",
    "cielo_catalog_backends",
    "cielo_readers",
    "open_backend",
]


@hookimpl
def cielo_catalog_backends() -> Mapping[str, CatalogOpener]:
    return {"sqlite": open_backend, "postgresql": open_backend, "postgres": open_backend}


@hookimpl
def cielo_readers() -> Mapping[str, ReaderFactory]:
    return dict(BUILTIN_READERS)


@hookimpl
def cielo_callbacks() -> Mapping[str, CallbackFactory]:
    return {"catalog": catalog_writer}
