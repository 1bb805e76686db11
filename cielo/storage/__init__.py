"""Storage and data access: suitcases, the catalog of runs, readers of external data.

Imports only :mod:`cielo.core`; pandas, xarray, h5py, tifffile, msgpack and psycopg are
imported when first needed.
"""

from ._archive import iter_documents, replay
from ._catalog import Catalog, catalog_uri, open_catalog
from ._database import default_catalog_uri, expand_uri
from ._documents import (
    RunRouter,
    dumps,
    jsonable,
    pack_events,
    unpack_datum_page,
    unpack_event_page,
)
from ._errors import (
    CatalogError,
    ExternalDataError,
    QueryError,
    RunNotFoundError,
    SchemaVersionError,
    SuitcaseError,
)
from ._external import ExternalData
from ._query import (
    And,
    Compare,
    Contains,
    ExitStatus,
    FullText,
    In,
    Key,
    Not,
    Or,
    PlanName,
    Query,
    Regex,
    ScanID,
    TimeRange,
    Uid,
    parse_query,
)
from ._readers import BUILTIN_READERS, HDF5Reader, ReaderRegistry, TIFFReader, resource_path
from ._run import Run, Stream
from ._schema import SCHEMA_VERSION, migrate, schema_version
from ._suitcase import Suitcase, SuitcaseCallback, suitcase_factory
from ._templates import DEFAULT_TEMPLATE, path_inside, render_template, reserve_path
from ._writer import CatalogWriter

__all__ = [
    "And",
    "BUILTIN_READERS",
    "Catalog",
    "CatalogError",
    "CatalogWriter",
    "Compare",
    "Contains",
    "DEFAULT_TEMPLATE",
    "ExitStatus",
    "ExternalData",
    "ExternalDataError",
    "FullText",
    "HDF5Reader",
    "In",
    "Key",
    "Not",
    "Or",
    "PlanName",
    "Query",
    "QueryError",
    "ReaderRegistry",
    "Regex",
    "Run",
    "RunNotFoundError",
    "RunRouter",
    "SCHEMA_VERSION",
    "ScanID",
    "SchemaVersionError",
    "Stream",
    "Suitcase",
    "SuitcaseCallback",
    "SuitcaseError",
    "TIFFReader",
    "TimeRange",
    "Uid",
    "catalog_uri",
    "default_catalog_uri",
    "expand_uri",
    "dumps",
    "iter_documents",
    "jsonable",
    "migrate",
    "open_catalog",
    "pack_events",
    "parse_query",
    "path_inside",
    "render_template",
    "replay",
    "resource_path",
    "reserve_path",
    "schema_version",
    "suitcase_factory",
    "unpack_datum_page",
    "unpack_event_page",
]
