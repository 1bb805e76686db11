"""Fixtures of the queue-server tests.

``store`` runs the store test-suite once per backend of :data:`STORE_URIS`: each entry
maps a backend name to a function ``(tmp_path, request) -> uri`` giving a fresh, empty
store location (a backend that needs a server can get it with
``request.getfixturevalue(...)``). ``store_uri`` is that location, so a test can open
a second handle on the same store (a restarted manager) with ``open_store(store_uri)``.
"""

from __future__ import annotations

import pathlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cielo.server import QueueStore, open_store
from cielo.testing import QueueServer


def _sqlite_uri(tmp_path: pathlib.Path, request: pytest.FixtureRequest) -> str:
    return f"sqlite:///{tmp_path / 'queue' / 'queue.db'}"


def _redis_uri(tmp_path: pathlib.Path, request: pytest.FixtureRequest) -> str:
    """A fresh key prefix on the session's real redis-server (tests/conftest.py)."""
    import uuid

    server = request.getfixturevalue("redis_server")
    return f"redis://127.0.0.1:{server.port}/0?prefix=test:{uuid.uuid4().hex}"


#: backend name -> ``(tmp_path, request) -> uri`` of a fresh store
STORE_URIS: dict[str, Callable[[pathlib.Path, pytest.FixtureRequest], str]] = {
    "sqlite": _sqlite_uri,
    "redis": _redis_uri,
}


@pytest.fixture(params=sorted(STORE_URIS))
def store_uri(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> str:
    return STORE_URIS[request.param](tmp_path, request)


@pytest.fixture
def store(store_uri: str) -> Iterator[QueueStore]:
    opened = open_store(store_uri)
    yield opened
    opened.close()


@pytest.fixture
def new_item() -> Callable[..., dict[str, Any]]:
    """``new_item(name="count", **extra)``: a plan item as the manager stores it, fresh uid."""
    return _new_item


def _new_item(name: str = "count", **extra: Any) -> dict[str, Any]:
    import uuid

    return {
        "item_type": "plan",
        "name": name,
        "args": [["det"]],
        "kwargs": {},
        "item_uid": str(uuid.uuid4()),
        **extra,
    }


# -- a real server: `cielo serve` in a subprocess --------------------------------------------


@pytest.fixture
def served(tmp_path: pathlib.Path) -> Iterator[QueueServer]:
    """A fresh ``cielo serve --profile sim`` (environment closed), stopped after the test."""
    server = QueueServer(tmp_path, open=False)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def served_module(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[QueueServer]:
    """One ``cielo serve --profile sim`` shared by a test module, once with its queue in
    SQLite and once in a real redis-server (the same tests on both stores)."""
    store = None
    if request.param == "redis":
        port = request.getfixturevalue("redis_server").port
        store = f"redis://127.0.0.1:{port}/0?prefix=module:{uuid.uuid4().hex}"
    server = QueueServer(tmp_path_factory.mktemp("served"), open=False, store=store)
    try:
        yield server.start()
    finally:
        server.stop()
