"""pytest plugin (entry point pytest11 ``cielo``): fixtures from :mod:`cielo.testing`.

Loaded by every pytest session where cielo is installed, so it imports nothing heavy:
cielo itself is imported only when a fixture is used. A project's own fixture of the
same name (e.g. a ``RE`` in its conftest) takes precedence over these.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def RE() -> Iterator[Any]:
    """A fresh cielo RunEngine (metadata in memory), closed after the test."""
    from cielo.testing import make_run_engine

    engine = make_run_engine()
    try:
        yield engine
    finally:
        engine.close()


@pytest.fixture
def cielo_docs(RE: Any) -> Any:
    """A :class:`~cielo.testing.DocumentCollector` subscribed to ``RE``."""
    from cielo.testing import DocumentCollector

    collector = DocumentCollector()
    RE.subscribe(collector)
    return collector


@pytest.fixture
def plugin_manager() -> Any:
    """A fresh plugin manager: the bundled plugins, no third-party entry points."""
    from cielo.core import make_plugin_manager

    return make_plugin_manager(autoload=False)


@pytest.fixture
def sim_env() -> Any:
    """The ``sim`` profile's environment: simulated devices (``sim_env.devices["det"]``, ...),
    plans and the plugin manager they come from."""
    from cielo.core import load_profile

    return load_profile("sim")


@pytest.fixture
def sim_RE(sim_env: Any) -> Iterator[Any]:
    """A fresh RunEngine on the ``sim`` profile's plugins (its commands, run metadata and
    versions), closed after the test."""
    from cielo.testing import make_run_engine

    engine = make_run_engine(plugin_manager=sim_env.pm)
    try:
        yield engine
    finally:
        engine.close()
