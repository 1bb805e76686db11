"""Test helpers for plugin authors: fresh plugin manager, simulated RunEngine, document collector.

The pytest plugin (entry point ``pytest11 = cielo``) offers them as fixtures:
``RE`` (a fresh RunEngine, closed after the test), ``cielo_docs`` (a
:class:`DocumentCollector` subscribed to ``RE``), ``plugin_manager`` (a fresh plugin
manager with the bundled plugins and no third-party autoloading), ``sim_env`` (the ``sim``
profile loaded: simulated devices and plans) and ``sim_RE`` (a RunEngine on its plugins).
"""

from ._collector import DocumentCollector, validate_documents
from ._engine import make_run_engine

__all__ = ["DocumentCollector", "make_run_engine", "validate_documents"]
