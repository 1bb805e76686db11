"""Hooks through which plugins offer storage: export writers and catalog backends."""

from __future__ import annotations

from collections.abc import Mapping

from cielo.core.plugins import hookspec

from .types import CatalogOpener, SuitcaseFactory

__all__ = ["cielo_suitcases", "cielo_catalog_backends"]


@hookspec
def cielo_suitcases() -> Mapping[str, SuitcaseFactory] | None:
    """Offer suitcases: streaming writers that store or export runs.

    Fires once per plugin manager, when the registry of contributions is built.

    :returns: a mapping from suitcase name (``"jsonl"``, ``"nexus"``) to a factory
        called as ``factory(**params)`` with a profile's ``[suitcases.NAME]`` table
        (typically ``directory`` and ``file_template``); the factory returns
        ``callback(name, doc)`` that writes every run it sees, one writer per run.
        The factory is also called once when a profile is loaded, to check its
        parameters: raise there for values that cannot work, and write nothing before a
        run starts. ``None`` offers nothing. A name offered by two plugins is an error that names
        both.
    """


@hookspec
def cielo_catalog_backends() -> Mapping[str, CatalogOpener] | None:
    """Offer catalog backends, by URI scheme.

    Fires once per plugin manager, when the registry of contributions is built.

    :returns: a mapping from URI scheme (``"sqlite"``, ``"postgresql"``) to an opener
        called as ``opener(uri, **options)`` that returns a catalog. ``None`` offers
        nothing. A scheme offered by two plugins is an error that names both.
    """
