"""Bundled plugin: suitcases (jsonl, msgpack, csv, tiff, spec, nexus).

Each suitcase is a streaming writer, one per run, offered as ``factory(**params)``
returning ``callback(name, doc)``; heavy libraries are imported when a run starts.
"""

from __future__ import annotations

from collections.abc import Mapping

from cielo import hookimpl
from cielo.hookspecs import SuitcaseFactory
from cielo.storage import suitcase_factory

from ._archives import JSONLSuitcase, MsgpackSuitcase
from ._csv import CSVSuitcase
from ._nexus import NeXusSuitcase
from ._spec import SpecSuitcase
from ._tiff import TIFFSuitcase

__all__ = [
    "CSVSuitcase",
    "JSONLSuitcase",
    "MsgpackSuitcase",
    "NeXusSuitcase",
    "SUITCASES",
    "SpecSuitcase",
    "TIFFSuitcase",
    "cielo_suitcases",
]

#: Suitcase name -> writer class.
SUITCASES = {
    "jsonl": JSONLSuitcase,
    "msgpack": MsgpackSuitcase,
    "csv": CSVSuitcase,
    "tiff": TIFFSuitcase,
    "spec": SpecSuitcase,
    "nexus": NeXusSuitcase,
}


@hookimpl
def cielo_suitcases() -> Mapping[str, SuitcaseFactory]:
    return {name: suitcase_factory(cls) for name, cls in SUITCASES.items()}
