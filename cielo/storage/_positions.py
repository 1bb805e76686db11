"""Positions in the catalog's ``(time, uid)`` order without counting up to them.

Schema 10 keeps two things exact in the transaction of every insert and delete of a run
(triggers, see ``_schema._v10``): ``run_count``, the number of runs, and ``run_marks``,
every :data:`MARK_SPACING`-th run of the order with its position. A run inserted before
a mark, or deleted, removes the marks after it (appending at the end, the usual case,
removes none). Marks are made when an offset first needs them, here, while writers wait:
on PostgreSQL the count's row is locked (every writer's trigger updates it first), on
SQLite the write lock is taken. So in every committed state each mark is the run at its
position, and a walk that starts from a mark and checks in the same statement that the
mark is still there counts exactly, whatever other writers do.
"""

from __future__ import annotations

from typing import Any

from ._database import Database
from ._errors import CatalogError

__all__ = ["MARK_SPACING", "run_count", "seek"]

#: Runs between two marks: an offset walks fewer than this many entries of the index.
MARK_SPACING = 4096
#: Returned by :func:`seek` when the marks cannot be used (the caller counts instead).
UNKNOWN: Any = object()

_ORDER = "ORDER BY runs.time, runs.uid"
_FROM = "runs.time >= ? AND (runs.time > ? OR runs.uid {} ?)"


def run_count(db: Database) -> int:
    """How many runs the catalog holds (one row, kept by triggers)."""
    return int(db.query("SELECT n FROM run_count")[0][0])


def seek(db: Database, index: int, *, reverse: bool = False) -> Any:
    """``(time, uid)`` of the run at ``index`` of the ``(time, uid)`` order (``reverse``:
    counted from the newest), None past either end, or :data:`UNKNOWN` when the catalog
    changed under the walk twice or its marks cannot be made (a read-only file)."""
    for _ in range(2):
        n = run_count(db)
        at = n - 1 - index if reverse else index
        if not 0 <= at < n:
            return None
        mark = _mark(db, at)
        if mark is None or at - mark[0] >= MARK_SPACING:
            try:
                _make_marks(db, at)
            except CatalogError:
                return UNKNOWN
            mark = _mark(db, at)
        if mark is None:  # before the first mark: the walk is short
            mark_check, params, skip = "", [], at
            start = "1 = 1"
        else:
            pos, time, uid = mark
            mark_check = " AND EXISTS (SELECT 1 FROM run_marks WHERE pos = ? AND uid = ?)"
            params, skip = [time, time, uid, pos, uid], at - pos
            start = _FROM.format(">=")
        # the count is checked with the walk: a reverse index depends on it
        rows = db.query(
            f"SELECT runs.time, runs.uid FROM runs WHERE {start}{mark_check} "
            f"AND (SELECT n FROM run_count) = ? {_ORDER} LIMIT 1 OFFSET {int(skip)}",
            [*params, n],
        )
        if rows:
            return tuple(rows[0])
    return UNKNOWN


def _mark(db: Database, at: int) -> tuple[int, float, str] | None:
    rows = db.query(
        "SELECT pos, time, uid FROM run_marks WHERE pos <= ? ORDER BY pos DESC LIMIT 1", [at]
    )
    return (int(rows[0][0]), rows[0][1], rows[0][2]) if rows else None


def _make_marks(db: Database, at: int) -> None:
    """Mark the order up to the position ``at``, writers waiting (see the module)."""
    with db.transaction():
        if db.dialect.name == "postgresql":
            db.query("SELECT n FROM run_count FOR UPDATE")
        else:
            db.execute("BEGIN IMMEDIATE")
        last = db.query("SELECT pos, time, uid FROM run_marks ORDER BY pos DESC LIMIT 1")
        pos = int(last[0][0]) if last else 0
        while pos + MARK_SPACING <= at:
            if last:
                _, time, uid = last[0]
                where, params = _FROM.format(">"), [time, time, uid]
                skip = MARK_SPACING - 1
            else:
                where, params, skip = "1 = 1", [], MARK_SPACING
            last = db.query(
                f"SELECT runs.time, runs.uid FROM runs WHERE {where} {_ORDER} "
                f"LIMIT 1 OFFSET {skip}",
                params,
            )
            if not last:
                return
            pos += MARK_SPACING
            last = [(pos, *last[0])]
            db.execute("INSERT INTO run_marks (pos, time, uid) VALUES (?, ?, ?)", last[0])
