"""Errors raised by the storage part: catalogs, suitcases and readers of external data."""

from __future__ import annotations

from cielo.core import CieloError

__all__ = [
    "CatalogError",
    "ExternalDataError",
    "QueryError",
    "RunNotFoundError",
    "SchemaVersionError",
    "SuitcaseError",
]


class CatalogError(CieloError):
    """A catalog could not be opened, written or read."""


class RunNotFoundError(CatalogError, KeyError):
    """No run (or more than one) matches a uid, partial uid or scan_id."""

    def __str__(self) -> str:  # KeyError would print the message with quotes
        return str(self.args[0]) if self.args else ""


class SchemaVersionError(CatalogError):
    """The catalog's schema is newer than this version of cielo understands."""


class QueryError(CatalogError, ValueError):
    """A search query is malformed (unknown operator, wrong value type, ...)."""


class ExternalDataError(CatalogError, OSError):
    """Data referenced by a (stream_)resource document cannot be read."""


class SuitcaseError(CieloError):
    """A suitcase was given bad parameters or could not write."""
