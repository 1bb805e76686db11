"""Test helpers for plugin authors: fresh plugin manager, simulated RunEngine, document collector.

The pytest plugin (entry point ``pytest11 = cielo``) offers them as fixtures:
``RE`` (a fresh RunEngine, closed after the test), ``cielo_docs`` (a
:class:`DocumentCollector` subscribed to ``RE``), ``plugin_manager`` (a fresh plugin
manager with the bundled plugins and no third-party autoloading), ``sim_env`` (the ``sim``
profile loaded: simulated devices and plans) and ``sim_RE`` (a RunEngine on its plugins).
:class:`RedisServer` starts a throwaway ``redis-server``, :class:`SlapdServer` a ``slapd``
and :class:`OidcIssuer` an OpenID issuer (for the authenticators), :class:`QueueServer` a
``cielo serve``, :func:`launch_chromium` Debian's Chromium for browser tests; :func:`require_server` skips a
test whose server cannot start, or fails it under ``CI=true``.
"""

from ._browser import CHROMIUM, launch_chromium
from ._collector import DocumentCollector, validate_documents
from ._directories import OidcIssuer, SlapdServer
from ._engine import make_run_engine
from ._serve import QueueServer
from ._servers import RedisServer, free_port, in_ci, require_server

__all__ = [
    "CHROMIUM",
    "DocumentCollector",
    "OidcIssuer",
    "QueueServer",
    "RedisServer",
    "SlapdServer",
    "free_port",
    "in_ci",
    "launch_chromium",
    "make_run_engine",
    "require_server",
    "validate_documents",
]
