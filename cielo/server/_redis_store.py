"""The Redis queue store, for queue servers whose state must outlive one host.

Keys under one prefix (``cielo:queue`` unless the URI says ``?prefix=...``): the queue as
a list of uids plus a hash of items, the running item, history, proposals, plan lists and
revision counters. Every operation is one optimistic transaction (``WATCH`` the keys it
reads, then ``MULTI``/``EXEC`` its writes, retried if another client changed them in
between), so a manager killed at any moment leaves each operation done or not done, and
several managers may share one store. Redis's own durability is the server's setting:
run it with ``appendonly yes`` (its ``appendfsync everysec`` default may lose the last
second of a power cut, never a killed manager's work).

A command waits at most ``socket_timeout`` seconds (2.5 unless the URI says
``?socket_timeout=S``) and is tried once more (a connection Redis dropped on a restart);
when Redis still does not answer it raises
:class:`~cielo.server.StoreUnavailableError` naming the URL and what to check. The store
is ``blocking``: the manager calls it in threads, so a stalled Redis holds only the
requests that need it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit, urlunsplit

from ._store import (
    Amend,
    Item,
    ItemNotFoundError,
    Position,
    QueueError,
    Revisions,
    StoreUnavailableError,
    Summary,
    Where,
    check_move,
    check_unique,
    item_uid,
    position_index,
)

__all__ = ["RedisQueueStore"]

_PARTS = ("queue", "history", "proposed", "lists")


#: seconds a command waits for Redis unless the URI says ``?socket_timeout=S``
TIMEOUT = 2.5

_Method = TypeVar("_Method", bound=Callable[..., Any])


def _dump(item: Item) -> str:
    return json.dumps(item, separators=(",", ":"), allow_nan=False)


def _answered(method: _Method) -> _Method:
    """``method``, raising :class:`StoreUnavailableError` when Redis does not answer."""

    @functools.wraps(method)
    def call(self: RedisQueueStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except self._unavailable as exc:
            raise StoreUnavailableError(
                f"the Redis queue store at {self.address} did not answer "
                f"({type(exc).__name__}: {exc}); check that redis-server runs and answers "
                f"there (redis-cli -u {self.address} ping). A change sent meanwhile may "
                "still be made when a stalled Redis resumes: read the queue before "
                "sending it again"
            ) from None

    return call  # type: ignore[return-value]


def _guarded(cls: type[RedisQueueStore]) -> type[RedisQueueStore]:
    """Every public method of ``cls`` through :func:`_answered`."""
    for name, value in list(vars(cls).items()):
        if callable(value) and not name.startswith("_") and name != "close":
            setattr(cls, name, _answered(value))
    return cls


@_guarded
class RedisQueueStore:
    """A :class:`~cielo.server.QueueStore` in Redis: ``redis://HOST:PORT[/DB][?prefix=P]``.

    Needs the ``redis`` package (``pip install 'cielo[server,bus]'``) and Redis ≥ 6.0.6.
    """

    #: calls wait on the network: the manager makes them in threads
    blocking = True

    def __init__(self, uri: str) -> None:
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise QueueError(
                f"queue store {uri!r} needs the redis package: pip install redis"
            ) from exc
        parts = urlsplit(uri)
        query = parse_qs(parts.query)
        self.prefix = (query.pop("prefix", ["cielo:queue"])[0] or "cielo:queue").rstrip(":")
        for option in ("socket_timeout", "socket_connect_timeout"):
            query.setdefault(option, [str(TIMEOUT)])
        rest = "&".join(f"{k}={v}" for k, values in query.items() for v in values)
        self.uri = uri
        #: the URL without its password, for messages
        self.address = urlunsplit(
            (parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", "")
        )
        self._redis = redis.Redis.from_url(
            urlunsplit((parts.scheme, parts.netloc, parts.path, rest, "")),
            decode_responses=True,
            health_check_interval=30,
            retry=Retry(NoBackoff(), 1),  # once more at once, not 3 times with backoff
        )
        self._watch_error = redis.WatchError
        self._unavailable = (redis.ConnectionError, redis.TimeoutError)
        try:
            self._redis.ping()
        except redis.RedisError as exc:
            raise QueueError(f"cannot reach the Redis queue store at {uri}: {exc}") from exc
        k = self.prefix
        self._queue, self._items = f"{k}:queue", f"{k}:items"
        self._running, self._history = f"{k}:running", f"{k}:history"
        self._proposed, self._proposals = f"{k}:proposed", f"{k}:proposals"
        self._lists, self._revisions = f"{k}:lists", f"{k}:revisions"

    def __repr__(self) -> str:
        return f"RedisQueueStore({self.uri!r})"

    # -- transactions -------------------------------------------------------------

    def _transact(self, body: Callable[[Any], Any], watch: Sequence[str], *parts: str) -> Any:
        """Run ``body(pipe)`` (reads first, then ``pipe.multi()`` and writes) as one
        optimistic transaction over ``watch``; bumps each of ``parts``. Returns what
        ``body`` returned."""
        while True:
            with self._redis.pipeline() as pipe:
                try:
                    pipe.watch(*watch)
                    result = body(pipe)
                    if not pipe.explicit_transaction:
                        pipe.multi()
                    for part in parts:
                        pipe.hincrby(self._revisions, part, 1)
                    pipe.execute()
                    return result
                except self._watch_error:
                    continue

    def _load(self, text: Any) -> Item:
        """An item from its stored JSON (``decode_responses``: always text)."""
        assert text is not None
        return dict(json.loads(text))

    # -- the queue ------------------------------------------------------------------

    def queue(self) -> list[Item]:
        def body(pipe: Any) -> list[Item]:
            uids = pipe.lrange(self._queue, 0, -1)
            return [self._load(t) for t in (pipe.hmget(self._items, uids) if uids else [])]

        return list(self._read(body))

    def queue_json(self) -> str:
        def body(pipe: Any) -> list[str]:
            uids = pipe.lrange(self._queue, 0, -1)
            return list(pipe.hmget(self._items, uids)) if uids else []

        return "[" + ",".join(self._read(body)) + "]"

    def queue_size(self) -> int:
        return int(self._redis.llen(self._queue))

    def get(self, *, uid: str | None = None, pos: Position | None = None) -> Item:
        def body(pipe: Any) -> Item:
            return self._load(pipe.hget(self._items, self._locate(pipe, uid, pos)))

        return self._read(body)

    def index(self, uid: str) -> int:
        return self._read(lambda pipe: self._index(pipe, uid))

    def add(self, item: Item, where: Where = Where()) -> Item:
        return self.add_batch([item], where)[0]

    def add_batch(self, items: Sequence[Item], where: Where = Where()) -> list[Item]:
        items = [dict(item) for item in items]
        uids = [item_uid(item) for item in items]
        check_unique(uids)

        def body(pipe: Any) -> None:
            self._check_not_queued(pipe, uids)
            place = self._place(pipe, where)
            pipe.multi()
            self._insert(pipe, items, place)

        self._transact(body, [self._queue, self._items], "queue")
        return items

    def replace(self, uid: str, item: Item) -> Item:
        item = dict(item)
        new_uid = item_uid(item)

        def body(pipe: Any) -> None:
            index = self._index(pipe, uid)
            if new_uid != uid:
                self._check_not_queued(pipe, [new_uid])
            pipe.multi()
            pipe.lset(self._queue, index, new_uid)
            pipe.hdel(self._items, uid)
            pipe.hset(self._items, new_uid, _dump(item))

        self._transact(body, [self._queue, self._items], "queue")
        return item

    def move(self, uid: str, where: Where) -> Item:
        return self.move_batch([uid], where)[0]

    def move_batch(self, uids: Sequence[str], where: Where, *, reorder: bool = False) -> list[Item]:
        uids = check_move(uids, where)

        def body(pipe: Any) -> list[Item]:
            order = pipe.lrange(self._queue, 0, -1)
            position = {u: n for n, u in enumerate(order)}
            for uid in uids:
                if uid not in position:
                    raise self._missing(uid)
            if where.neighbour is not None and where.neighbour not in position:
                raise self._missing(where.neighbour)
            moving = sorted(uids, key=position.__getitem__) if reorder else uids
            items = [self._load(t) for t in pipe.hmget(self._items, moving)]
            moved = set(uids)
            rest = [u for u in order if u not in moved]
            index = where.index(len(rest), rest.index)
            pivot = rest[index] if index < len(rest) else None
            pipe.multi()
            for uid in moving:
                pipe.lrem(self._queue, 1, uid)
            self._link(pipe, moving, (pivot, index == 0 and bool(rest)))
            return items

        return list(self._transact(body, [self._queue, self._items], "queue"))

    def remove(self, *, uid: str | None = None, pos: Position | None = None) -> Item:
        def body(pipe: Any) -> Item:
            found = self._locate(pipe, uid, pos)
            item = self._load(pipe.hget(self._items, found))
            pipe.multi()
            pipe.lrem(self._queue, 1, found)
            pipe.hdel(self._items, found)
            return item

        return dict(self._transact(body, [self._queue, self._items], "queue"))

    def remove_batch(self, uids: Sequence[str], *, ignore_missing: bool = False) -> list[Item]:
        uids = list(uids)
        check_unique(uids)

        def body(pipe: Any) -> list[Item]:
            texts = pipe.hmget(self._items, uids) if uids else []
            found = []
            for uid, text in zip(uids, texts, strict=True):
                if text is None:
                    if ignore_missing:
                        continue
                    raise self._missing(uid)
                found.append((uid, self._load(text)))
            pipe.multi()
            for uid, _item in found:
                pipe.lrem(self._queue, 1, uid)
                pipe.hdel(self._items, uid)
            return [item for _uid, item in found]

        return list(self._transact(body, [self._queue, self._items], "queue"))

    def clear(self) -> None:
        def body(pipe: Any) -> None:
            pipe.multi()
            pipe.delete(self._queue, self._items)

        self._transact(body, [self._queue, self._items], "queue")

    # -- the running item -----------------------------------------------------------

    def running(self) -> Item | None:
        text = self._redis.get(self._running)
        return None if text is None else self._load(text)

    def start_next(self) -> Item | None:
        def body(pipe: Any) -> Item | None:
            self._check_idle(pipe)
            uid = pipe.lindex(self._queue, 0)
            if uid is None:
                return None
            text = pipe.hget(self._items, uid)
            pipe.multi()
            pipe.lpop(self._queue)
            pipe.hdel(self._items, uid)
            pipe.set(self._running, text)
            return self._load(text)

        watch = [self._queue, self._items, self._running]
        return self._transact(body, watch, "queue")  # type: ignore[no-any-return]

    def set_running(self, item: Item) -> None:
        item_uid(item)

        def body(pipe: Any) -> None:
            self._check_idle(pipe)
            pipe.multi()
            pipe.set(self._running, _dump(item))

        self._transact(body, [self._running], "queue")

    def finish_running(self, record: Item) -> None:
        def body(pipe: Any) -> None:
            pipe.multi()
            pipe.delete(self._running)
            pipe.rpush(self._history, _dump(record))

        self._transact(body, [self._running], "queue", "history")

    def requeue_running(
        self, *, record: Item | None = None, new_uid: str | None = None
    ) -> Item | None:
        parts = ("queue", "history") if record is not None else ("queue",)

        def body(pipe: Any) -> Item | None:
            text = pipe.get(self._running)
            if text is None:
                return None
            item = self._load(text)
            if new_uid is not None:
                item["item_uid"] = new_uid
            uid = item_uid(item)
            pipe.multi()
            pipe.delete(self._running)
            pipe.hset(self._items, uid, _dump(item))
            pipe.lrem(self._queue, 0, uid)
            pipe.lpush(self._queue, uid)
            if record is not None:
                pipe.rpush(self._history, _dump(record))
            return item

        watch = [self._queue, self._items, self._running]
        return self._transact(body, watch, *parts)  # type: ignore[no-any-return]

    # -- history --------------------------------------------------------------------

    def history(self) -> list[Item]:
        return [self._load(t) for t in self._redis.lrange(self._history, 0, -1)]

    def history_size(self) -> int:
        return int(self._redis.llen(self._history))

    def history_add(self, item: Item) -> None:
        text = _dump(item)

        def body(pipe: Any) -> None:
            pipe.multi()
            pipe.rpush(self._history, text)

        self._transact(body, [self._history], "history")

    def history_clear(self) -> None:
        def body(pipe: Any) -> None:
            pipe.multi()
            pipe.delete(self._history)

        self._transact(body, [self._history], "history")

    # -- named plan lists -------------------------------------------------------------

    def list_save(self, name: str, items: Sequence[Item]) -> None:
        if not isinstance(name, str) or not name.strip():
            raise QueueError(f"a plan list needs a non-empty name, got {name!r}")
        text = json.dumps([dict(i) for i in items], separators=(",", ":"), allow_nan=False)

        def body(pipe: Any) -> None:
            pipe.multi()
            pipe.hset(self._lists, name, text)

        self._transact(body, [self._lists], "lists")

    def list_load(self, name: str) -> list[Item]:
        text = self._redis.hget(self._lists, name)
        if text is None:
            raise ItemNotFoundError(
                f"no plan list {name!r}; saved lists: {', '.join(self.list_names()) or 'none'}"
            )
        return list(json.loads(text))

    def list_names(self) -> list[str]:
        return sorted(str(name) for name in self._redis.hkeys(self._lists))

    def list_delete(self, name: str) -> None:
        def body(pipe: Any) -> None:
            if not pipe.hexists(self._lists, name):
                raise ItemNotFoundError(f"no plan list {name!r}")
            pipe.multi()
            pipe.hdel(self._lists, name)

        self._transact(body, [self._lists], "lists")

    # -- proposals --------------------------------------------------------------------

    def proposed(self) -> list[Item]:
        def body(pipe: Any) -> list[Item]:
            uids = pipe.lrange(self._proposed, 0, -1)
            return [self._load(t) for t in (pipe.hmget(self._proposals, uids) if uids else [])]

        return self._read(body, [self._proposed, self._proposals])

    def propose(self, item: Item) -> Item:
        item = dict(item)
        uid = item_uid(item)

        def body(pipe: Any) -> None:
            if pipe.hexists(self._proposals, uid):
                raise QueueError(f"item {uid!r} is already proposed")
            pipe.multi()
            pipe.rpush(self._proposed, uid)
            pipe.hset(self._proposals, uid, _dump(item))

        self._transact(body, [self._proposed, self._proposals], "proposed")
        return item

    def proposed_remove(self, uid: str, *, record: Amend | None = None) -> Item:
        def body(pipe: Any) -> Item:
            item = self._take_proposal(pipe, uid)
            if record is not None:
                pipe.rpush(self._history, _dump(record(item)))
            return item

        parts = ("proposed", "history") if record is not None else ("proposed",)
        return dict(self._transact(body, [self._proposed, self._proposals], *parts))

    def approve(self, uid: str, where: Where = Where(), *, amend: Amend | None = None) -> Item:
        def body(pipe: Any) -> Item:
            text = pipe.hget(self._proposals, uid)
            if text is None:
                raise ItemNotFoundError(f"no proposed item with uid {uid!r}")
            item = self._load(text)
            if amend is not None:
                item = amend(item)
            self._check_not_queued(pipe, [item_uid(item)])
            place = self._place(pipe, where)
            pipe.multi()
            pipe.lrem(self._proposed, 1, uid)
            pipe.hdel(self._proposals, uid)
            self._insert(pipe, [item], place)
            return item

        watch = [self._proposed, self._proposals, self._queue, self._items]
        return dict(self._transact(body, watch, "proposed", "queue"))

    # -- bookkeeping ------------------------------------------------------------------

    def revisions(self) -> Revisions:
        values = self._redis.hgetall(self._revisions)
        return Revisions(**{p: int(values.get(p, 0)) for p in _PARTS})

    def summary(self) -> Summary:
        """Revisions, running item and sizes in one round trip (a ``MULTI`` block)."""
        with self._redis.pipeline() as pipe:
            pipe.hgetall(self._revisions)
            pipe.get(self._running)
            pipe.llen(self._queue)
            pipe.llen(self._history)
            values, running, queued, done = pipe.execute()
        return Summary(
            Revisions(**{p: int(values.get(p, 0)) for p in _PARTS}),
            None if running is None else self._load(running),
            int(queued),
            int(done),
        )

    def close(self) -> None:
        self._redis.close()

    def __enter__(self) -> RedisQueueStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers (inside a transaction, before ``multi()`` unless said) --------------

    def _read(self, body: Callable[[Any], Any], watch: Sequence[str] | None = None) -> Any:
        """A consistent read: ``body(pipe)`` under ``WATCH`` (default: the queue keys),
        done again if any watched key changed while it read."""
        while True:
            with self._redis.pipeline() as pipe:
                try:
                    pipe.watch(*(watch or [self._queue, self._items]))
                    result = body(pipe)
                    pipe.multi()
                    pipe.execute()  # an empty transaction: fails if a watched key changed
                    return result
                except self._watch_error:
                    continue

    @staticmethod
    def _missing(uid: str) -> ItemNotFoundError:
        return ItemNotFoundError(f"no item with uid {uid!r} in the queue")

    def _index(self, pipe: Any, uid: str) -> int:
        index = pipe.lpos(self._queue, uid)
        if index is None:
            raise self._missing(uid)
        return int(index)

    def _locate(self, pipe: Any, uid: str | None, pos: Position | None) -> str:
        if uid is not None and pos is not None:
            raise QueueError("give an item's uid or its position, not both")
        if uid is not None:
            if not pipe.hexists(self._items, uid):
                raise self._missing(uid)
            return uid
        size = int(pipe.llen(self._queue))
        index = position_index(pos, size)
        return str(pipe.lindex(self._queue, index))

    def _check_not_queued(self, pipe: Any, uids: Sequence[str]) -> None:
        if not uids:
            return
        for uid, text in zip(uids, pipe.hmget(self._items, list(uids)), strict=True):
            if text is not None:
                raise QueueError(f"an item with uid {uid!r} is already in the queue")

    def _check_idle(self, pipe: Any) -> None:
        text = pipe.get(self._running)
        if text is not None:
            uid = json.loads(text).get("item_uid")
            raise QueueError(f"item {uid!r} is running; finish or requeue it first")

    def _take_proposal(self, pipe: Any, uid: str) -> Item:
        text = pipe.hget(self._proposals, uid)
        if text is None:
            raise ItemNotFoundError(f"no proposed item with uid {uid!r}")
        pipe.multi()
        pipe.lrem(self._proposed, 1, uid)
        pipe.hdel(self._proposals, uid)
        return self._load(text)

    def _place(self, pipe: Any, where: Where) -> tuple[str | None, bool]:
        """Where new items go, read before the writes: ``(pivot, at_front)`` — insert
        before the item ``pivot``, or at the front, or (neither) at the back."""
        size = int(pipe.llen(self._queue))
        index = where.index(size, lambda u: self._index(pipe, u))
        if 0 < index < size:
            return str(pipe.lindex(self._queue, index)), False
        return None, index == 0 and size > 0

    def _insert(self, pipe: Any, items: Sequence[Item], place: tuple[str | None, bool]) -> None:
        """Queue ``items`` contiguously at ``place`` (from :meth:`_place`); in ``multi()``."""
        if not items:
            return
        uids = [item_uid(it) for it in items]
        pipe.hset(self._items, mapping={u: _dump(it) for u, it in zip(uids, items, strict=True)})
        self._link(pipe, uids, place)

    def _link(self, pipe: Any, uids: Sequence[str], place: tuple[str | None, bool]) -> None:
        """Put ``uids`` into the queue's order at ``place`` (in ``multi()``)."""
        pivot, at_front = place
        if pivot is not None:
            for uid in uids:
                pipe.linsert(self._queue, "BEFORE", pivot, uid)
        elif at_front:
            pipe.lpush(self._queue, *reversed(uids))
        else:
            pipe.rpush(self._queue, *uids)
