"""The queue store: the queue, the running item, history, plan lists and proposals.

:class:`QueueStore` is the typed interface the manager uses; each backend (SQLite by
default, Redis for several hosts) implements it so that every operation is atomic and
survives the manager being killed at any moment. Items are plain JSON objects (dicts)
identified by their ``"item_uid"``; the store never looks inside them otherwise.

Positions follow bluesky-queueserver: an ``int`` index (``0`` the front, ``-1`` the
back, negative counting from the back as the item's index *after* the operation),
``"front"`` or ``"back"``; or a neighbour given by ``before_uid`` / ``after_uid``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, cast, runtime_checkable

from cielo.core import CieloError

__all__ = [
    "Amend",
    "Item",
    "ItemNotFoundError",
    "Position",
    "QueueError",
    "QueueStore",
    "Revisions",
    "STORE_BACKENDS",
    "StoreUnavailableError",
    "Summary",
    "Where",
    "check_move",
    "check_unique",
    "item_uid",
    "open_store",
    "position_index",
]

#: A queue item, a history item or a proposal: a JSON object with an ``"item_uid"``.
Item = dict[str, Any]
#: A change made to an item inside a store's transaction (a pure function: a backend
#: may call it again when it retries).
Amend = Callable[[Item], Item]
#: An index in the queue, or its front or back.
Position = int | Literal["front", "back"]


class QueueError(CieloError):
    """A queue operation was refused (the message says why and what to do)."""


class ItemNotFoundError(QueueError, KeyError):
    """No item with that uid (or at that position)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class StoreUnavailableError(CieloError):
    """The store did not answer (its server is down, stalled or unreachable); the server
    answers 503 with the message, which names the store and what to check."""


@dataclass(frozen=True)
class Revisions:
    """Counters that change with every modification of each part of the store.

    They persist with the store, so a restarted manager never reuses a value a client
    may have cached.
    """

    queue: int = 0
    history: int = 0
    proposed: int = 0
    lists: int = 0


@dataclass(frozen=True)
class Summary:
    """What the status shows of a store: its revisions, running item and sizes."""

    revisions: Revisions
    running: Item | None
    queue_size: int
    history_size: int

    @classmethod
    def of(cls, store: QueueStore) -> Summary:
        """The summary of ``store``: its own ``summary()`` (one round trip) if it has one."""
        own = getattr(store, "summary", None)
        if own is not None:
            return cast(Summary, own())
        return cls(store.revisions(), store.running(), store.queue_size(), store.history_size())


@dataclass(frozen=True)
class Where:
    """Where an item goes: at most one of ``pos``, ``before_uid``, ``after_uid`` (default: back)."""

    pos: Position | None = None
    before_uid: str | None = None
    after_uid: str | None = None

    def __post_init__(self) -> None:
        given = [k for k in ("pos", "before_uid", "after_uid") if getattr(self, k) is not None]
        if len(given) > 1:
            raise QueueError(f"give one of pos, before_uid, after_uid, not {' and '.join(given)}")
        pos = self.pos
        if pos is not None and not (
            pos in ("front", "back") or (isinstance(pos, int) and not isinstance(pos, bool))
        ):
            raise QueueError(f"position {pos!r} is not an integer index, 'front' or 'back'")

    def index(self, size: int, index_of: Any) -> int:
        """The index the (first) new item takes in a queue of ``size`` items without it.

        ``index_of(uid)`` returns the current index of a neighbour (raising
        :class:`ItemNotFoundError` when it is not queued).
        """
        if self.before_uid is not None:
            return int(index_of(self.before_uid))
        if self.after_uid is not None:
            return int(index_of(self.after_uid)) + 1
        pos = "back" if self.pos is None else self.pos
        if pos == "front":
            return 0
        if pos == "back":
            return size
        assert isinstance(pos, int)
        index = pos if pos >= 0 else size + 1 + pos
        return min(max(index, 0), size)

    @property
    def neighbour(self) -> str | None:
        return self.before_uid if self.before_uid is not None else self.after_uid


def check_unique(uids: Sequence[str]) -> None:
    """Refuse one operation naming the same uid twice."""
    seen: set[str] = set()
    for uid in uids:
        if uid in seen:
            raise QueueError(f"item uid {uid!r} appears twice in one operation")
        seen.add(uid)


def check_move(uids: Sequence[str], where: Where) -> list[str]:
    """The uids of one move, refused when one repeats or is also the destination."""
    uids = list(uids)
    check_unique(uids)
    if where.neighbour is not None and where.neighbour in uids:
        raise QueueError(
            f"cannot move item {where.neighbour!r} next to itself: the destination "
            "must be an item that is not moved"
        )
    return uids


def position_index(pos: Position | None, size: int) -> int:
    """The index of the queued item at ``pos`` (default: the back) in a queue of ``size``,
    or :class:`ItemNotFoundError` when there is none there."""
    pos = "back" if pos is None else pos
    Where(pos=pos)  # validates the kind
    index = 0 if pos == "front" else size - 1 if pos == "back" else int(pos)
    if index < 0:
        index += size
    if not 0 <= index < size:
        raise ItemNotFoundError(f"no item at position {pos!r}: the queue has {size} items")
    return index


def item_uid(item: Mapping[str, Any]) -> str:
    """The item's uid, or :class:`QueueError` if it has none."""
    uid = item.get("item_uid") if isinstance(item, Mapping) else None
    if not isinstance(uid, str) or not uid:
        raise QueueError(f"an item needs a non-empty string 'item_uid'; got {item!r:.200}")
    return uid


@runtime_checkable
class QueueStore(Protocol):
    """Persistent, crash-safe storage of a queue server's state.

    Every method is one atomic transaction: after a crash at any moment the store holds
    either all of an operation's effect or none of it. Methods that name an item that
    does not exist raise :class:`ItemNotFoundError`; other refusals raise
    :class:`QueueError`; a store whose server does not answer raises
    :class:`StoreUnavailableError`. Returned items are fresh copies. A store whose calls
    wait on a network says so with a true ``blocking`` attribute: the manager then calls
    it in threads, never in its event loop.
    """

    # -- the queue --------------------------------------------------------------
    def queue(self) -> list[Item]:
        """The queued items, front first (the running item is not among them)."""
        ...

    def queue_json(self) -> str:
        """:meth:`queue` as a JSON array, made from the stored texts without decoding
        them (the whole queue for a client, fast at 10,000 items)."""
        ...

    def queue_size(self) -> int: ...

    def get(self, *, uid: str | None = None, pos: Position | None = None) -> Item:
        """One queued item by uid or position (default: the back)."""
        ...

    def index(self, uid: str) -> int:
        """The queued item's index."""
        ...

    def add(self, item: Item, where: Where = Where()) -> Item:
        """Insert ``item`` (its uid must not be queued yet) and return it."""
        ...

    def add_batch(self, items: Sequence[Item], where: Where = Where()) -> list[Item]:
        """Insert ``items`` together, in order, at ``where``: all of them or none."""
        ...

    def replace(self, uid: str, item: Item) -> Item:
        """Put ``item`` (which may carry a new uid) in the place of queued item ``uid``."""
        ...

    def move(self, uid: str, where: Where) -> Item:
        """Move a queued item; ``where.pos`` is its index after the move."""
        ...

    def move_batch(self, uids: Sequence[str], where: Where, *, reorder: bool = False) -> list[Item]:
        """Move items together to ``where`` (in the order given, or queue order if
        ``reorder``): all of them or none."""
        ...

    def remove(self, *, uid: str | None = None, pos: Position | None = None) -> Item:
        """Remove one queued item (default: the back) and return it."""
        ...

    def remove_batch(self, uids: Sequence[str], *, ignore_missing: bool = False) -> list[Item]:
        """Remove items together; unless ``ignore_missing``, one unknown uid removes none."""
        ...

    def clear(self) -> None:
        """Empty the queue (the running item stays)."""
        ...

    # -- the running item -------------------------------------------------------
    def running(self) -> Item | None:
        """The item being executed, or ``None``."""
        ...

    def start_next(self) -> Item | None:
        """Take the front item off the queue and make it the running item, atomically;
        ``None`` when the queue is empty. Refused while an item is running."""
        ...

    def set_running(self, item: Item) -> None:
        """Make ``item`` (not from the queue, e.g. executed immediately) the running item."""
        ...

    def finish_running(self, record: Item) -> None:
        """Clear the running item and append ``record`` (it, with its result) to history,
        atomically."""
        ...

    def requeue_running(
        self, *, record: Item | None = None, new_uid: str | None = None
    ) -> Item | None:
        """Put the running item back at the front of the queue (with ``new_uid`` if given,
        and append ``record`` to history if given), atomically; returns the requeued item,
        or ``None`` if none was running."""
        ...

    # -- history ----------------------------------------------------------------
    def history(self) -> list[Item]:
        """Executed items, oldest first."""
        ...

    def history_size(self) -> int: ...

    def history_add(self, item: Item) -> None: ...

    def history_clear(self) -> None: ...

    # -- named plan lists ---------------------------------------------------------
    def list_save(self, name: str, items: Sequence[Item]) -> None:
        """Save ``items`` under ``name`` (replacing a list of that name)."""
        ...

    def list_load(self, name: str) -> list[Item]: ...

    def list_names(self) -> list[str]: ...

    def list_delete(self, name: str) -> None: ...

    # -- proposals (review mode) ------------------------------------------------
    def proposed(self) -> list[Item]:
        """Items proposed for review, oldest first."""
        ...

    def propose(self, item: Item) -> Item: ...

    def proposed_remove(self, uid: str, *, record: Amend | None = None) -> Item:
        """Take a proposal off the list (withdrawn or rejected) and return it; with
        ``record``, append ``record(item)`` to history in the same transaction."""
        ...

    def approve(self, uid: str, where: Where = Where(), *, amend: Amend | None = None) -> Item:
        """Move a proposal into the queue at ``where`` (as ``amend(item)`` if given),
        atomically."""
        ...

    # -- bookkeeping ------------------------------------------------------------
    def revisions(self) -> Revisions: ...

    def close(self) -> None: ...


#: Store backends by URI scheme: ``"module:Class"``, the class taking the URI's rest.
STORE_BACKENDS: dict[str, str] = {
    "sqlite": "cielo.server._sqlite_store:SQLiteQueueStore",
    "redis": "cielo.server._redis_store:RedisQueueStore",
    "rediss": "cielo.server._redis_store:RedisQueueStore",
}


def open_store(uri: str | os.PathLike[str]) -> QueueStore:
    """Open the queue store at ``uri``: ``sqlite:///path/queue.db`` or a plain file path
    (SQLite), or another scheme of :data:`STORE_BACKENDS`."""
    text = os.fspath(uri)
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "sqlite", "/" + text
    if scheme not in STORE_BACKENDS:
        raise QueueError(
            f"no queue store for {text!r}: unknown scheme {scheme!r} "
            f"(known: {', '.join(sorted(STORE_BACKENDS))})"
        )
    module_name, _, class_name = STORE_BACKENDS[scheme].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if scheme == "sqlite":
        # sqlite:///relative/path and sqlite:////absolute/path, as SQLAlchemy writes them
        return cast(QueueStore, cls(rest[1:] if rest.startswith("/") else rest))
    return cast(QueueStore, cls(text))
