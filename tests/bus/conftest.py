"""Fixtures for the bus tests: a unique stream on the session's real redis-server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("redis")


@pytest.fixture
def stream_uri(redis_server: Any) -> str:
    """``redis://127.0.0.1:PORT/test-<uuid>``: a stream no other test uses."""
    return f"redis://127.0.0.1:{redis_server.port}/test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def own_redis() -> Iterator[Any]:
    """A redis-server of the test's own, for tests that stop and restart it."""
    from cielo.testing import RedisServer, require_server

    try:
        server = RedisServer()
    except Exception as exc:
        require_server(f"cannot start redis-server: {exc}")
    try:
        yield server
    finally:
        server.close()
