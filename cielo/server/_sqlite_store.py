"""The SQLite queue store: one file, WAL, every operation one transaction.

The queue is a table ordered by a real-valued rank: inserting between two items takes
the midpoint of their ranks, so adding or moving one item in a long queue touches one
row (the ranks are renumbered in the rare case the midpoint runs out of precision).
``BEGIN IMMEDIATE`` makes each operation atomic and serializes writers across
processes; after a SIGKILL at any moment SQLite rolls back the unfinished transaction.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ._store import (
    Amend,
    Item,
    ItemNotFoundError,
    Position,
    QueueError,
    Revisions,
    Where,
    check_move,
    check_unique,
    item_uid,
    position_index,
)

__all__ = ["SQLiteQueueStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS queue (uid TEXT PRIMARY KEY, rank REAL NOT NULL, item TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS queue_rank ON queue (rank);
CREATE TABLE IF NOT EXISTS running (id INTEGER PRIMARY KEY CHECK (id = 0), item TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS history (seq INTEGER PRIMARY KEY AUTOINCREMENT, item TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS proposed (seq INTEGER PRIMARY KEY AUTOINCREMENT,
                                     uid TEXT UNIQUE NOT NULL, item TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS plan_lists (name TEXT PRIMARY KEY, items TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS revisions (part TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
_PARTS = ("queue", "history", "proposed", "lists")
#: Ranks closer than this are renumbered before inserting between them.
_MIN_GAP = 1e-7
_SPACING = 1024.0


def _rows_at(db: sqlite3.Connection, columns: str, first: int, count: int, size: int) -> list[Any]:
    """``columns`` of the queued items at positions ``first`` .. ``first + count - 1`` (of
    ``size``), front first, read from the nearer end: an ``OFFSET`` walks the rank index,
    so the back of a 10,000-item queue is as quick to reach as its front."""
    if count <= 0:
        return []
    behind = size - first - count  # items after the last one wanted
    if behind < first:
        rows = db.execute(
            f"SELECT {columns} FROM queue ORDER BY rank DESC LIMIT ? OFFSET ?", (count, behind)
        ).fetchall()
        return rows[::-1]
    return db.execute(
        f"SELECT {columns} FROM queue ORDER BY rank LIMIT ? OFFSET ?", (count, first)
    ).fetchall()


def _dump(item: Item) -> str:
    return json.dumps(item, separators=(",", ":"), allow_nan=False)


class SQLiteQueueStore:
    """A :class:`~cielo.server.QueueStore` in one SQLite file.

    :param path: the database file (created with its directory if missing).
    :param synchronous: SQLite's ``synchronous`` pragma; ``NORMAL`` (the default) keeps
        every committed operation across a crash of the process, ``FULL`` across a power
        cut too.

    Safe to share between threads; several processes may open the same file (writers
    take turns).
    """

    def __init__(self, path: str | os.PathLike[str], *, synchronous: str = "NORMAL") -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._queue_text: tuple[int, str] | None = None  # (queue revision, queue as JSON)
        self._db = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=30.0
        )
        self._db.execute("PRAGMA busy_timeout = 30000")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute(f"PRAGMA synchronous = {synchronous}")
        with self._write():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self._db.executemany(
                "INSERT OR IGNORE INTO revisions (part, value) VALUES (?, 0)",
                [(p,) for p in _PARTS],
            )

    def __repr__(self) -> str:
        return f"SQLiteQueueStore({str(self.path)!r})"

    # -- transactions -------------------------------------------------------------

    @contextlib.contextmanager
    def _write(self, *parts: str) -> Iterator[sqlite3.Connection]:
        """One write transaction; bumps the revision of each of ``parts`` on success."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                for part in parts:
                    db.execute("UPDATE revisions SET value = value + 1 WHERE part = ?", (part,))
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # -- the queue ------------------------------------------------------------------

    def queue(self) -> list[Item]:
        return [json.loads(r[0]) for r in self._read("SELECT item FROM queue ORDER BY rank")]

    def queue_json(self) -> str:
        """The queue as JSON text, kept until the queue's revision changes (one read of
        a 10,000-item queue joins 1.7 MB of rows: 10 ms)."""
        with self._lock:
            db = self._db
            db.execute("BEGIN")  # the revision and the rows of one snapshot
            try:
                revision = db.execute(
                    "SELECT value FROM revisions WHERE part = 'queue'"
                ).fetchone()[0]
                kept = self._queue_text
                if kept is None or kept[0] != revision:
                    rows = db.execute("SELECT item FROM queue ORDER BY rank").fetchall()
                    kept = self._queue_text = (revision, "[" + ",".join(r[0] for r in rows) + "]")
            finally:
                db.execute("COMMIT")
        return kept[1]

    def queue_size(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM queue")[0][0])

    def get(self, *, uid: str | None = None, pos: Position | None = None) -> Item:
        with self._lock:
            return json.loads(self._locate(self._db, uid, pos)[1])

    def index(self, uid: str) -> int:
        with self._lock:
            return self._index(self._db, uid)

    def add(self, item: Item, where: Where = Where()) -> Item:
        return self.add_batch([item], where)[0]

    def add_batch(self, items: Sequence[Item], where: Where = Where()) -> list[Item]:
        items = [dict(item) for item in items]
        uids = [item_uid(item) for item in items]
        check_unique(uids)
        with self._write("queue") as db:
            self._insert(db, items, where)  # refuses a uid queued already
        return items

    def replace(self, uid: str, item: Item) -> Item:
        item = dict(item)
        new_uid = item_uid(item)
        with self._write("queue") as db:
            rank = self._rank(db, uid)
            if new_uid != uid:
                self._check_not_queued(db, [new_uid])
            db.execute("DELETE FROM queue WHERE uid = ?", (uid,))
            db.execute(
                "INSERT INTO queue (uid, rank, item) VALUES (?, ?, ?)", (new_uid, rank, _dump(item))
            )
        return item

    def move(self, uid: str, where: Where) -> Item:
        return self.move_batch([uid], where)[0]

    def move_batch(self, uids: Sequence[str], where: Where, *, reorder: bool = False) -> list[Item]:
        uids = check_move(uids, where)
        with self._write("queue") as db:
            rows = []
            for uid in uids:
                found = db.execute("SELECT rank, item FROM queue WHERE uid = ?", (uid,)).fetchone()
                if found is None:
                    raise self._missing(uid)
                rows.append(found)
            if reorder:
                rows.sort(key=lambda r: r[0])
            if where.neighbour is not None:
                self._rank(db, where.neighbour)  # the destination must be queued
            db.executemany("DELETE FROM queue WHERE uid = ?", [(u,) for u in uids])
            items = [json.loads(r[1]) for r in rows]
            self._insert(db, items, where)
        return items

    def remove(self, *, uid: str | None = None, pos: Position | None = None) -> Item:
        with self._write("queue") as db:
            found_uid, text = self._locate(db, uid, pos)
            db.execute("DELETE FROM queue WHERE uid = ?", (found_uid,))
        return json.loads(text)

    def remove_batch(self, uids: Sequence[str], *, ignore_missing: bool = False) -> list[Item]:
        uids = list(uids)
        check_unique(uids)
        removed = []
        with self._write("queue") as db:
            for uid in uids:
                found = db.execute("SELECT item FROM queue WHERE uid = ?", (uid,)).fetchone()
                if found is None:
                    if ignore_missing:
                        continue
                    raise self._missing(uid)
                db.execute("DELETE FROM queue WHERE uid = ?", (uid,))
                removed.append(json.loads(found[0]))
        return removed

    def clear(self) -> None:
        with self._write("queue") as db:
            db.execute("DELETE FROM queue")

    # -- the running item -----------------------------------------------------------

    def running(self) -> Item | None:
        rows = self._read("SELECT item FROM running WHERE id = 0")
        return json.loads(rows[0][0]) if rows else None

    def start_next(self) -> Item | None:
        with self._write("queue") as db:
            self._check_idle(db)
            row = db.execute("SELECT uid, item FROM queue ORDER BY rank LIMIT 1").fetchone()
            if row is None:
                return None
            db.execute("DELETE FROM queue WHERE uid = ?", (row[0],))
            db.execute("INSERT INTO running (id, item) VALUES (0, ?)", (row[1],))
        return json.loads(row[1])

    def set_running(self, item: Item) -> None:
        item_uid(item)
        with self._write("queue") as db:
            self._check_idle(db)
            db.execute("INSERT INTO running (id, item) VALUES (0, ?)", (_dump(item),))

    def finish_running(self, record: Item) -> None:
        with self._write("queue", "history") as db:
            db.execute("DELETE FROM running")
            db.execute("INSERT INTO history (item) VALUES (?)", (_dump(record),))

    def requeue_running(
        self, *, record: Item | None = None, new_uid: str | None = None
    ) -> Item | None:
        parts = ("queue", "history") if record is not None else ("queue",)
        with self._write(*parts) as db:
            row = db.execute("SELECT item FROM running WHERE id = 0").fetchone()
            if row is None:
                return None
            item = json.loads(row[0])
            if new_uid is not None:
                item["item_uid"] = new_uid
            db.execute("DELETE FROM running")
            db.execute("DELETE FROM queue WHERE uid = ?", (item_uid(item),))
            self._insert(db, [item], Where(pos="front"))
            if record is not None:
                db.execute("INSERT INTO history (item) VALUES (?)", (_dump(record),))
        return item

    # -- history --------------------------------------------------------------------

    def history(self) -> list[Item]:
        return [json.loads(r[0]) for r in self._read("SELECT item FROM history ORDER BY seq")]

    def history_size(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM history")[0][0])

    def history_add(self, item: Item) -> None:
        with self._write("history") as db:
            db.execute("INSERT INTO history (item) VALUES (?)", (_dump(item),))

    def history_clear(self) -> None:
        with self._write("history") as db:
            db.execute("DELETE FROM history")

    # -- named plan lists -------------------------------------------------------------

    def list_save(self, name: str, items: Sequence[Item]) -> None:
        if not isinstance(name, str) or not name.strip():
            raise QueueError(f"a plan list needs a non-empty name, got {name!r}")
        text = json.dumps([dict(i) for i in items], separators=(",", ":"), allow_nan=False)
        with self._write("lists") as db:
            db.execute(
                "INSERT OR REPLACE INTO plan_lists (name, items) VALUES (?, ?)", (name, text)
            )

    def list_load(self, name: str) -> list[Item]:
        rows = self._read("SELECT items FROM plan_lists WHERE name = ?", (name,))
        if not rows:
            raise ItemNotFoundError(
                f"no plan list {name!r}; saved lists: {', '.join(self.list_names()) or 'none'}"
            )
        return list(json.loads(rows[0][0]))

    def list_names(self) -> list[str]:
        return [r[0] for r in self._read("SELECT name FROM plan_lists ORDER BY name")]

    def list_delete(self, name: str) -> None:
        with self._write("lists") as db:
            if db.execute("DELETE FROM plan_lists WHERE name = ?", (name,)).rowcount == 0:
                raise ItemNotFoundError(f"no plan list {name!r}")

    # -- proposals --------------------------------------------------------------------

    def proposed(self) -> list[Item]:
        return [json.loads(r[0]) for r in self._read("SELECT item FROM proposed ORDER BY seq")]

    def propose(self, item: Item) -> Item:
        item = dict(item)
        uid = item_uid(item)
        with self._write("proposed") as db:
            if db.execute("SELECT 1 FROM proposed WHERE uid = ?", (uid,)).fetchone():
                raise QueueError(f"item {uid!r} is already proposed")
            db.execute("INSERT INTO proposed (uid, item) VALUES (?, ?)", (uid, _dump(item)))
        return item

    def proposed_remove(self, uid: str, *, record: Amend | None = None) -> Item:
        with self._write("proposed", *(("history",) if record else ())) as db:
            item = self._take_proposal(db, uid)
            if record is not None:
                db.execute("INSERT INTO history (item) VALUES (?)", (_dump(record(item)),))
        return item

    def approve(self, uid: str, where: Where = Where(), *, amend: Amend | None = None) -> Item:
        with self._write("proposed", "queue") as db:
            item = self._take_proposal(db, uid)
            if amend is not None:
                item = amend(item)
            self._check_not_queued(db, [item_uid(item)])
            self._insert(db, [item], where)
        return item

    # -- bookkeeping ------------------------------------------------------------------

    def revisions(self) -> Revisions:
        values = dict(self._read("SELECT part, value FROM revisions"))
        return Revisions(**{p: int(values.get(p, 0)) for p in _PARTS})

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SQLiteQueueStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers (called inside a transaction) ----------------------------------------

    @staticmethod
    def _missing(uid: str) -> ItemNotFoundError:
        return ItemNotFoundError(f"no item with uid {uid!r} in the queue")

    def _rank(self, db: sqlite3.Connection, uid: str) -> float:
        row = db.execute("SELECT rank FROM queue WHERE uid = ?", (uid,)).fetchone()
        if row is None:
            raise self._missing(uid)
        return float(row[0])

    def _index(self, db: sqlite3.Connection, uid: str) -> int:
        rank = self._rank(db, uid)
        return int(db.execute("SELECT COUNT(*) FROM queue WHERE rank < ?", (rank,)).fetchone()[0])

    def _locate(
        self, db: sqlite3.Connection, uid: str | None, pos: Position | None
    ) -> tuple[str, str]:
        """``(uid, item text)`` of a queued item by uid or position (default: back)."""
        if uid is not None and pos is not None:
            raise QueueError("give an item's uid or its position, not both")
        if uid is not None:
            row = db.execute("SELECT uid, item FROM queue WHERE uid = ?", (uid,)).fetchone()
            if row is None:
                raise self._missing(uid)
            return row[0], row[1]
        size = int(db.execute("SELECT COUNT(*) FROM queue").fetchone()[0])
        row = _rows_at(db, "uid, item", position_index(pos, size), 1, size)[0]
        return row[0], row[1]

    def _check_not_queued(self, db: sqlite3.Connection, uids: Sequence[str]) -> None:
        for uid in uids:
            if db.execute("SELECT 1 FROM queue WHERE uid = ?", (uid,)).fetchone():
                raise QueueError(f"an item with uid {uid!r} is already in the queue")

    @staticmethod
    def _check_idle(db: sqlite3.Connection) -> None:
        row = db.execute("SELECT item FROM running WHERE id = 0").fetchone()
        if row is not None:
            uid = json.loads(row[0]).get("item_uid")
            raise QueueError(f"item {uid!r} is running; finish or requeue it first")

    def _take_proposal(self, db: sqlite3.Connection, uid: str) -> Item:
        row = db.execute("SELECT item FROM proposed WHERE uid = ?", (uid,)).fetchone()
        if row is None:
            raise ItemNotFoundError(f"no proposed item with uid {uid!r}")
        db.execute("DELETE FROM proposed WHERE uid = ?", (uid,))
        return dict(json.loads(row[0]))

    def _insert(self, db: sqlite3.Connection, items: Sequence[Item], where: Where) -> None:
        """Insert ``items`` contiguously at ``where`` (the queue holds none of them)."""
        if not items:
            return
        if where.neighbour is None and where.pos in (None, "back"):  # no count needed
            last = db.execute("SELECT MAX(rank) FROM queue").fetchone()[0]
            low = -_SPACING if last is None else float(last)
            high = low + _SPACING * (len(items) + 1)
        else:
            size = int(db.execute("SELECT COUNT(*) FROM queue").fetchone()[0])
            index = where.index(size, lambda uid: self._index(db, uid))
            low, high = self._gap(db, index, size)
            if (high - low) / (len(items) + 1) < _MIN_GAP:
                self._respace(db, index, len(items))
                low, high = self._gap(db, index, size)
        step = (high - low) / (len(items) + 1)
        rows = [(item_uid(it), low + step * (n + 1), _dump(it)) for n, it in enumerate(items)]
        try:
            db.executemany("INSERT INTO queue (uid, rank, item) VALUES (?, ?, ?)", rows)
        except sqlite3.IntegrityError:  # a uid queued already (the primary key)
            self._check_not_queued(db, [row[0] for row in rows])
            raise

    @staticmethod
    def _gap(db: sqlite3.Connection, index: int, size: int) -> tuple[float, float]:
        """The ranks around insertion point ``index`` of a queue of ``size`` items (open
        ends are one spacing away)."""
        first = max(index - 1, 0)
        ranks = [
            float(r[0]) for r in _rows_at(db, "rank", first, min(first + 2, size) - first, size)
        ]
        if index == 0:
            high = ranks[0] if ranks else 0.0
            return high - _SPACING, high
        low = ranks[0]
        high = ranks[1] if len(ranks) > 1 else low + _SPACING
        return low, high

    @staticmethod
    def _respace(db: sqlite3.Connection, index: int, count: int) -> None:
        """Spread the ranks of the items around ``index`` evenly, so ``count`` new items
        fit there: a window that doubles until the ranks beside it leave room (so many
        inserts at one spot touch few rows), the whole queue at worst."""
        size = int(db.execute("SELECT COUNT(*) FROM queue").fetchone()[0])
        half = 16
        while True:
            first, last = max(index - half, 0), min(index + half, size)  # rows [first, last)
            rows = db.execute(
                "SELECT uid, rank FROM queue ORDER BY rank LIMIT ? OFFSET ?",
                (last - first, first),
            ).fetchall()
            before = (
                db.execute(
                    "SELECT rank FROM queue ORDER BY rank LIMIT 1 OFFSET ?", (first - 1,)
                ).fetchone()
                if first > 0
                else None
            )
            after = (
                db.execute(
                    "SELECT rank FROM queue ORDER BY rank LIMIT 1 OFFSET ?", (last,)
                ).fetchone()
                if last < size
                else None
            )
            low = (
                float(before[0])
                if before
                else (float(rows[0][1]) if rows else 0.0) - _SPACING * (half + 1)
            )
            high = (
                float(after[0])
                if after
                else (float(rows[-1][1]) if rows else 0.0) + _SPACING * (half + 1)
            )
            slots = len(rows) + count + 1
            if (high - low) / slots > _MIN_GAP * 1024 or (first == 0 and last == size):
                break
            half *= 2
        step = (high - low) / slots
        new_ranks: list[tuple[float, str]] = []
        n = 1
        for position, (uid, _) in enumerate(rows, start=first):
            if position == index:
                n += count  # leave room for the new items
            new_ranks.append((low + step * n, uid))
            n += 1
        db.executemany("UPDATE queue SET rank = ? WHERE uid = ?", new_ranks)
