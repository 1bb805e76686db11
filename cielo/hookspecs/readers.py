"""Hook through which plugins offer readers of external data (HDF5, TIFF, ...)."""

from __future__ import annotations

from collections.abc import Mapping

from cielo.core.plugins import hookspec

from .types import ReaderFactory

__all__ = ["cielo_readers"]


@hookspec
def cielo_readers() -> Mapping[str, ReaderFactory] | None:
    """Offer readers for data stored outside the documents.

    Fires once per plugin manager, when the registry of contributions is built.

    :returns: a mapping from a ``mimetype`` of stream_resource documents
        (``"application/x-hdf5"``, ``"multipart/related;type=image/tiff"``) or a
        ``spec`` of resource documents (``"AD_HDF5"``) to a factory called as
        ``factory(resource_doc, root_map=...)``; the reader it returns gives arrays for
        datum/stream_datum slices. ``None`` offers nothing. A key offered by two
        plugins is an error that names both.
    """
