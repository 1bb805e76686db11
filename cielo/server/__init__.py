"""The queue server: the RunEngine as a service with a persistent, editable queue.

A manager process owns the queue, history and state and serves an HTTP API that
Bluesky's ``bluesky-queueserver-api`` client can drive; a worker process loads the
profile and runs the plans. See ``docs/server/index.md``.
"""

from ._sqlite_store import SQLiteQueueStore
from ._store import (
    STORE_BACKENDS,
    Item,
    ItemNotFoundError,
    Position,
    QueueError,
    QueueStore,
    Revisions,
    Where,
    item_uid,
    open_store,
)

__all__ = [
    "STORE_BACKENDS",
    "Item",
    "ItemNotFoundError",
    "Position",
    "QueueError",
    "QueueStore",
    "Revisions",
    "SQLiteQueueStore",
    "Where",
    "item_uid",
    "open_store",
]
