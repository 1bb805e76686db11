"""The queue server: the RunEngine as a service with a persistent, editable queue.

A manager process owns the queue, history and state and serves an HTTP API that
Bluesky's ``bluesky-queueserver-api`` client can drive; a worker process loads the
profile and runs the plans. See ``docs/server/index.md``.
"""

from typing import Any

from ._client import CLIENT_KEY_ENV, DEFAULT_SERVER, AsyncQueueClient, QueueClient
from ._settings import API_KEY_ENV, Settings, parse_auth
from ._sqlite_store import SQLiteQueueStore
from ._store import (
    STORE_BACKENDS,
    Item,
    ItemNotFoundError,
    Position,
    QueueError,
    QueueStore,
    Revisions,
    StoreUnavailableError,
    Summary,
    Where,
    item_uid,
    open_store,
)

__all__ = [
    "API_KEY_ENV",
    "AsyncQueueClient",
    "CLIENT_KEY_ENV",
    "DEFAULT_SERVER",
    "STORE_BACKENDS",
    "Item",
    "ItemNotFoundError",
    "JoinedWritesProtocol",
    "Position",
    "QueueClient",
    "QueueError",
    "QueueStore",
    "Revisions",
    "SQLiteQueueStore",
    "Settings",
    "StoreUnavailableError",
    "Summary",
    "build_app",
    "Where",
    "item_uid",
    "open_store",
    "parse_auth",
]


def __getattr__(name: str) -> Any:
    # the HTTP layer (FastAPI) is imported when asked for: the worker process and the
    # stores do not need it
    if name == "build_app":
        from ._app import build_app

        return build_app
    if name == "JoinedWritesProtocol":
        from ._http import JoinedWritesProtocol

        return JoinedWritesProtocol
    raise AttributeError(f"module 'cielo.server' has no attribute {name!r}")
