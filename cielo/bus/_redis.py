"""Redis Streams: one stream per instrument, consumer groups, replay and retention.

``redis://HOST:PORT/STREAM?serializer=msgpack&maxlen=1000000&max_age=86400&db=0``

Each document is one stream entry with the fields ``n`` (document name), ``r`` (the
run's uid), ``c`` (serializer: ``m`` msgpack, ``j`` JSON), ``d`` (the document) and ``p``
(``1`` when the publisher packed single events into this page). Two hashes beside the
stream index runs for replay: ``STREAM:runs`` (run uid -> id of its start entry) and
``STREAM:stops`` (run uid -> id of its stop entry).

Retention: ``maxlen`` caps the stream's length (approximately, as Redis trims whole
nodes); ``max_age`` (seconds) trims entries older than that, but with ``keep_unread``
(the default) never an entry that a consumer group has not yet read or acknowledged,
so a consumer that falls behind by less than ``maxlen`` loses nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

from ._codec import BusError, codec, parse_uri
from ._transport import BusUnavailable, Entry, Received

__all__ = ["RedisGroupReader", "RedisStream"]

log = logging.getLogger("cielo.bus")
_CODEC_TAG = {"msgpack": b"m", "json": b"j"}
_TAG_CODEC = {v: k for k, v in _CODEC_TAG.items()}
#: Redis error codes that say the server cannot take writes now (retried like an outage)
_SERVER_STATE_ERRORS = frozenset(
    {"DENIED", "NOAUTH", "WRONGPASS", "NOPERM", "OOM", "READONLY", "LOADING", "MISCONF", "BUSY",
     "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN"}
)  # fmt: skip


def _redis() -> Any:
    try:
        import redis
    except ImportError as exc:
        raise BusError("redis:// needs the redis client: pip install 'cielo[bus]'") from exc
    return redis


def _number(uri: str, key: str, value: Any, kind: type) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise BusError(f"bus URI {uri!r}: {key}={value!r} is not a {kind.__name__}") from None
    if number <= 0:
        raise BusError(f"bus URI {uri!r}: {key} must be positive, got {value!r}")
    return number


class RedisStream:
    """A Redis stream as a bus transport: publish, consumer groups, replay, retention.

    :param uri: ``redis://HOST:PORT/STREAM``; query options may set the keywords below.
    :param serializer: ``"msgpack"`` (default) or ``"json"``.
    :param maxlen: keep at most about this many entries (``None``: no cap).
    :param max_age: trim entries older than this many seconds (``None``: keep them).
    :param keep_unread: age trimming spares entries a consumer group has not handled yet.
    """

    #: readers unpack the pages the publisher packs (see :class:`~cielo.bus.Publisher`)
    packs_events = True

    def __init__(
        self,
        uri: str,
        *,
        serializer: str | None = None,
        maxlen: int | None = None,
        max_age: float | None = None,
        keep_unread: bool | None = None,
        timeout: float = 5.0,
    ) -> None:
        parsed = parse_uri(uri)
        if parsed.scheme != "redis":
            raise BusError(f"RedisStream needs a redis:// URI, got {uri!r}")
        if not parsed.path:
            raise BusError(
                f"bus URI {uri!r} names no stream; write redis://{parsed.host}:"
                f"{parsed.port or 6379}/STREAM (one stream per instrument)"
            )
        opts = dict(parsed.options)
        unknown = set(opts) - {"serializer", "maxlen", "max_age", "keep_unread", "db"}
        if unknown:
            raise BusError(
                f"bus URI {uri!r}: unknown option(s) {', '.join(sorted(unknown))} "
                "(known: serializer, maxlen, max_age, keep_unread, db)"
            )
        self.uri = uri
        self.stream = parsed.path
        self.codec = codec(serializer or opts.get("serializer", "msgpack"))
        self._tag = _CODEC_TAG[self.codec.name]
        given_maxlen = maxlen if maxlen is not None else opts.get("maxlen")
        given_age = max_age if max_age is not None else opts.get("max_age")
        self.maxlen = None if given_maxlen is None else _number(uri, "maxlen", given_maxlen, int)
        self.max_age = None if given_age is None else _number(uri, "max_age", given_age, float)
        unread = opts.get("keep_unread", "1") if keep_unread is None else keep_unread
        self.keep_unread = str(unread).lower() not in ("0", "false", "no")
        self._last_trim = 0.0
        redis = self._redis = _redis()
        self._errors = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        db = int(opts.get("db", 0))
        self.client = redis.Redis(
            host=parsed.host,
            port=parsed.port or 6379,
            db=db,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )
        self.runs_key = f"{self.stream}:runs"
        self.stops_key = f"{self.stream}:stops"

    def __repr__(self) -> str:
        return f"<RedisStream {self.uri}>"

    def check(self) -> str | None:
        """``None`` when the server answers, else what is wrong (for a warning at start)."""
        try:
            self.client.ping()
        except self._redis.exceptions.RedisError as exc:
            return f"cannot use Redis: {type(exc).__name__}: {exc}"
        return None

    # -- publishing ---------------------------------------------------------------------
    def publish(self, entries: Sequence[Entry]) -> None:
        """Append ``entries`` atomically (MULTI/EXEC), index run starts and stops, trim."""
        dumps, tag = self.codec.dumps, self._tag
        pipe = self.client.pipeline(transaction=True)
        for entry in entries:
            fields = {"n": entry.name, "r": entry.run or "", "c": tag, "d": dumps(entry.doc)}
            if entry.packed:
                fields["p"] = b"1"
            pipe.xadd(self.stream, fields, maxlen=self.maxlen, approximate=True)
        try:
            ids = pipe.execute()
            marks = [
                (e, i) for e, i in zip(entries, ids, strict=True) if e.name in ("start", "stop")
            ]
            if marks:
                index = self.client.pipeline(transaction=False)
                for entry, entry_id in marks:
                    key = self.runs_key if entry.name == "start" else self.stops_key
                    index.hset(key, entry.run or "", entry_id)
                index.execute()
            if self.max_age is not None and time.monotonic() - self._last_trim > 1.0:
                self.trim()
        except self._errors as exc:
            raise BusUnavailable(f"{self.uri}: {type(exc).__name__}: {exc}") from exc
        except self._redis.exceptions.ResponseError as exc:
            if str(exc).split(" ", 1)[0] in _SERVER_STATE_ERRORS:  # the server, not the data
                raise BusUnavailable(f"{self.uri}: {exc}") from exc
            raise

    def trim(self) -> int:
        """Apply ``max_age`` now (sparing unread entries with ``keep_unread``); entries removed."""
        self._last_trim = time.monotonic()
        if self.max_age is None:
            return 0
        cutoff = int((time.time() - self.max_age) * 1000)
        minid = f"{cutoff}-0"
        if self.keep_unread:
            for oldest in self._oldest_unhandled():
                if _id_key(oldest) < _id_key(minid):
                    minid = oldest
        removed = int(self.client.xtrim(self.stream, minid=minid, approximate=False))
        if removed:
            self._drop_index_before(minid)
        return removed

    def _oldest_unhandled(self) -> Iterator[str]:
        """Per consumer group, the oldest entry it has not acknowledged or not yet read."""
        for group in self.client.xinfo_groups(self.stream):
            name = group["name"]
            summary = self.client.xpending(self.stream, name)
            if summary["pending"]:
                yield _text(summary["min"])
            after = self.client.xrange(
                self.stream, min=f"({_text(group['last-delivered-id'])}", count=1
            )
            if after:
                yield _text(after[0][0])

    def _drop_index_before(self, minid: str) -> None:
        """Forget the runs trimmed whole, except those whose start a group member still has
        unacknowledged: that member, restarted, learns from the index which runs it lost
        (:meth:`RedisGroupReader.take_lost_runs`)."""
        stops = {_text(k): _text(v) for k, v in self.client.hgetall(self.stops_key).items()}
        gone = [uid for uid, stop in stops.items() if _id_key(stop) < _id_key(minid)]
        if gone:
            starts = dict(zip(gone, self.client.hmget(self.runs_key, gone), strict=True))
            gone = [uid for uid in gone if not self._unacknowledged(starts[uid])]
        if gone:
            self.client.hdel(self.runs_key, *gone)
            self.client.hdel(self.stops_key, *gone)

    def _unacknowledged(self, entry_id: Any) -> bool:
        """Whether some consumer group was given entry ``entry_id`` and never acknowledged it."""
        if entry_id is None:
            return False
        entry = _text(entry_id)
        return any(
            self.client.xpending_range(self.stream, g["name"], min=entry, max=entry, count=1)
            for g in self.client.xinfo_groups(self.stream)
        )

    # -- reading -----------------------------------------------------------------------
    def _decode(self, entry_id: Any, fields: dict[bytes, bytes] | None) -> Received | None:
        if not fields:  # a pending entry that retention trimmed away
            return None
        name = fields[b"n"].decode()
        tag = fields.get(b"c", b"m")
        loads = self.codec.loads if tag == self._tag else codec(_TAG_CODEC[tag]).loads
        run = fields.get(b"r", b"").decode() or None
        return Received(_text(entry_id), name, loads(fields[b"d"]), run, fields.get(b"p") == b"1")

    def _decoded(self, raw: Sequence[Any]) -> list[Received]:
        out = []
        for entry_id, fields in raw:
            received = self._decode(entry_id, fields)
            if received is not None:
                out.append(received)
        return out

    def follow(
        self, start: str = "$", *, block: float = 1.0, count: int = 500
    ) -> Iterator[list[Received]]:
        """Read entries as they arrive, without a group (``start``: ``"$"`` new, ``"0"`` all).

        Yields a batch per read, an empty one when ``block`` seconds passed with nothing.
        """
        last = start
        if last == "$":
            info = (
                self.client.xinfo_stream(self.stream) if self.client.exists(self.stream) else None
            )
            last = _text(info["last-generated-id"]) if info else "0"
        while True:
            try:
                reply = self.client.xread({self.stream: last}, count=count, block=int(block * 1000))
            except self._errors as exc:
                raise BusUnavailable(f"{self.uri}: {type(exc).__name__}: {exc}") from exc
            batch = self._decoded(reply[0][1]) if reply else []
            if reply and reply[0][1]:
                last = _text(reply[0][1][-1][0])
            yield batch

    def replay(
        self,
        run: str | None = None,
        *,
        since: float | None = None,
        until: float | None = None,
        count: int = 1000,
    ) -> Iterator[Received]:
        """The entries of one run (by uid, or a unique uid prefix), or of every run started
        between ``since`` and ``until`` (Unix times), each run whole and in order."""
        if run is not None:
            yield from self._replay_run(self._full_uid(run), count)
            return
        lo = "-" if since is None else f"{int(since * 1000)}-0"
        hi = "+" if until is None else f"{int(until * 1000)}-{2**63 - 1}"
        starts = []
        for _, fields in self._xrange(lo, hi, count):
            if fields.get(b"n") == b"start":
                starts.append(fields[b"r"].decode())
        for uid in starts:
            yield from self._replay_run(uid, count)

    def _full_uid(self, run: str) -> str:
        if self.client.hexists(self.runs_key, run):
            return run
        matches = [_text(k) for k, _ in self.client.hscan_iter(self.runs_key, match=f"{run}*")]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise BusError(f"no run {run!r} on {self.uri} (it may have been trimmed)")
        raise BusError(f"run {run!r} is ambiguous on {self.uri}: {', '.join(sorted(matches))}")

    def _replay_run(self, uid: str, count: int) -> Iterator[Received]:
        first = self.client.hget(self.runs_key, uid)
        if first is None:
            raise BusError(f"no run {uid!r} on {self.uri} (it may have been trimmed)")
        last = self.client.hget(self.stops_key, uid)
        target = uid.encode()
        for entry_id, fields in self._xrange(
            _text(first), "+" if last is None else _text(last), count
        ):
            if fields.get(b"r") == target:
                received = self._decode(entry_id, fields)
                if received is not None:
                    yield received

    def _xrange(self, lo: str, hi: str, count: int) -> Iterator[tuple[Any, dict[bytes, bytes]]]:
        while True:
            chunk = self.client.xrange(self.stream, min=lo, max=hi, count=count)
            yield from chunk
            if len(chunk) < count:
                return
            lo = f"({_text(chunk[-1][0])}"

    def group_reader(self, group: str, consumer: str, *, start: str = "0") -> RedisGroupReader:
        """Join (creating it if needed) consumer group ``group`` as member ``consumer``.

        :param start: where a new group starts: ``"0"`` everything kept, ``"$"`` new entries.
        """
        return RedisGroupReader(self, group, consumer, start)

    def close(self) -> None:
        self.client.close()


class RedisGroupReader:
    """One member of a Redis consumer group (see :class:`~cielo.bus.GroupReader`)."""

    def __init__(self, stream: RedisStream, group: str, consumer: str, start: str) -> None:
        self.stream = stream
        self.group = group
        self.consumer = consumer
        redis = _redis()
        try:
            stream.client.xgroup_create(stream.stream, group, id=start, mkstream=True)
        except redis.exceptions.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise BusError(
                    f"{stream.uri}: cannot create consumer group {group!r}: {exc}"
                ) from exc
        except stream._errors as exc:
            raise BusUnavailable(f"{stream.uri}: {type(exc).__name__}: {exc}") from exc
        #: entries of this member found trimmed away before they were acknowledged
        self.trimmed_pending = 0
        self._lost_runs: set[str] = set()  # runs whose start was among those entries
        self._missed = 0
        self._gap_checked = ""

    def read(self, count: int, block: float, *, pending_after: str | None = None) -> list[Received]:
        """New entries (``pending_after=None``), or this member's unacknowledged ones after an id."""
        s = self.stream
        key = ">" if pending_after is None else pending_after
        try:
            reply = s.client.xreadgroup(
                self.group,
                self.consumer,
                {s.stream: key},
                count=count,
                block=None if pending_after is not None else int(block * 1000),
            )
        except s._errors as exc:
            raise BusUnavailable(f"{s.uri}: {type(exc).__name__}: {exc}") from exc
        raw = reply[0][1] if reply else []
        gone = [_text(entry_id) for entry_id, fields in raw if not fields]
        if gone:  # acknowledged-never entries that retention removed: report and clear them
            self.trimmed_pending += len(gone)
            log.error(
                "bus %s: group %r lost %d pending entries to retention before acknowledging them",
                s.uri, self.group, len(gone),
            )  # fmt: skip
            self._lost_runs.update(self._runs_started_at(gone))
            self.ack(gone)
        received = s._decoded(raw)
        if raw and not received and pending_after is not None:
            # only trimmed entries in this page: continue after them
            return self.read(count, block, pending_after=_text(raw[-1][0]))
        return received

    def ack(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        s = self.stream
        try:
            s.client.xack(s.stream, self.group, *ids)
        except s._errors as exc:
            raise BusUnavailable(f"{s.uri}: {type(exc).__name__}: {exc}") from exc

    def claim_from_idle_members(self, idle: float) -> int:
        """Take over what members silent for ``idle`` s left unacknowledged; returns how many.

        A live member polls every fraction of a second, so only members that died (and
        were not restarted under their name) are silent that long. Their entries become
        this member's pending ones (read them with ``pending_after="0"``); the silent
        members are removed from the group.
        """
        s = self.stream
        claimed = 0
        try:
            for member in s.client.xinfo_consumers(s.stream, self.group):
                name = _text(member["name"])
                if name == self.consumer or member["idle"] < idle * 1000:
                    continue
                while member["pending"]:
                    pending = s.client.xpending_range(
                        s.stream, self.group, min="-", max="+", count=500, consumername=name
                    )
                    if not pending:
                        break
                    ids = [p["message_id"] for p in pending]
                    s.client.xclaim(s.stream, self.group, self.consumer, 0, ids, justid=True)
                    claimed += len(ids)
                s.client.xgroup_delconsumer(s.stream, self.group, name)
                log.warning(
                    "bus %s: group %r: member %r silent for %.0f s; %s took over its entries",
                    s.uri, self.group, name, member["idle"] / 1000, self.consumer,
                )  # fmt: skip
        except s._errors as exc:
            raise BusUnavailable(f"{s.uri}: {type(exc).__name__}: {exc}") from exc
        return claimed

    def _runs_started_at(self, ids: list[str]) -> list[str]:
        """The runs whose start document was one of the entries ``ids`` (the run index)."""
        s = self.stream
        wanted = set(ids)
        try:
            index = s.client.hgetall(s.runs_key)
        except s._errors as exc:
            raise BusUnavailable(f"{s.uri}: {type(exc).__name__}: {exc}") from exc
        return [_text(uid) for uid, start in index.items() if _text(start) in wanted]

    def take_lost_runs(self) -> list[str]:
        """The runs whose start this member had been given, unacknowledged, before retention
        trimmed it (a member restarted after falling behind): open runs it can no longer
        read. Each is returned once."""
        runs, self._lost_runs = sorted(self._lost_runs), set()
        return runs

    def missed(self) -> int:
        """Entries this group lost because retention trimmed them before it read them.

        Checked from the stream's counters: when the group's last-delivered id is older
        than the stream's first entry, the entries removed after it were never read.
        Cumulative; call it before reading on (the consumer does, every few seconds).
        """
        s = self.stream
        try:
            info = s.client.xinfo_stream(s.stream)
            groups = {_text(g["name"]): g for g in s.client.xinfo_groups(s.stream)}
        except s._errors as exc:
            raise BusUnavailable(f"{s.uri}: {type(exc).__name__}: {exc}") from exc
        group = groups.get(self.group)
        first = info.get("recorded-first-entry-id") or (info.get("first-entry") or [b"0-0"])[0]
        if not info["length"]:  # trimmed empty: all after the last entry ever added
            first = f"{_text(info['last-generated-id'])}+"
        if group is not None:
            last = _text(group["last-delivered-id"])
            if _id_key(last) < _id_key(_text(first)) and last != self._gap_checked:
                removed = int(info["entries-added"]) - int(info["length"])
                read = group.get("entries-read") or 0
                self._missed += max(0, removed - int(read))
                self._gap_checked = last
        return self._missed + self.trimmed_pending


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _id_key(entry_id: str) -> tuple[int, int]:
    """An entry id as a sortable pair; ``"ID+"`` sorts just after ``ID``."""
    after = entry_id.endswith("+")
    ms, _, seq = entry_id.rstrip("+").partition("-")
    return int(ms), int(seq or 0) + after
