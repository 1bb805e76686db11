"""Positions in the catalog's ``(time, uid)`` order without counting up to them.

Schema 10 keeps two things exact in the transaction of every insert and delete of a run
(triggers, see :func:`run_triggers`): ``run_count``, the number of runs, and ``run_marks``,
every :data:`MARK_SPACING`-th run of the order with its position. A run inserted before
a mark, or deleted, removes the marks after it (appending at the end, the usual case,
removes none: the last mark is kept in the count's row, schema 12, so the trigger of
such a run only updates that row). Marks are made when an offset first needs them, here, while writers wait:
on PostgreSQL the count's row is locked (every writer's trigger updates it first), on
SQLite the write lock is taken. So in every committed state each mark is the run at its
position, and a walk that starts from a mark and checks in the same statement that the
mark is still there counts exactly, whatever other writers do.
"""

from __future__ import annotations

from typing import Any

from ._database import Database
from ._errors import CatalogError

__all__ = ["MARK_SPACING", "pg_trigger", "run_count", "run_triggers", "seek"]

#: Runs between two marks: an offset walks fewer than this many entries of the index.
MARK_SPACING = 4096
#: Returned by :func:`seek` when the marks cannot be used (the caller counts instead).
UNKNOWN: Any = object()

_ORDER = "ORDER BY runs.time, runs.uid"
_FROM = "runs.time >= ? AND (runs.time > ? OR runs.uid {} ?)"


#: After a run at or before the last mark moved: the marks from it on go (``{0}``: the
#: run's row, old or new), and the count's row names the last mark left.
_UNMARK = (
    "DELETE FROM run_marks WHERE (time, uid) >= ({0}.time, {0}.uid); "
    "UPDATE run_count SET (mark_time, mark_uid) = "
    "(SELECT time, uid FROM run_marks ORDER BY pos DESC LIMIT 1)"
)


def run_triggers(pg: bool) -> list[str]:
    """The statements making the triggers that keep ``run_count`` and ``run_marks`` exact
    (schema 12): the count's row is updated first (on PostgreSQL it is the lock writers
    and the making of marks queue on), and it tells whether the run is at or before the
    last mark; only then are marks deleted."""
    if pg:
        return pg_trigger(
            f"UPDATE run_count SET n = n + 1 RETURNING (NEW.time, NEW.uid) <= (mark_time, mark_uid) "
            f"INTO moved; IF moved THEN {_UNMARK.format('NEW')}; END IF",
            f"UPDATE run_count SET n = n - 1 RETURNING (OLD.time, OLD.uid) <= (mark_time, mark_uid) "
            f"INTO moved; IF moved THEN {_UNMARK.format('OLD')}; END IF",
            f"UPDATE run_count SET n = n; {_UNMARK.format('OLD')}; {_UNMARK.format('NEW')}",
        )
    last = "(SELECT mark_time, mark_uid FROM run_count)"
    return [
        "CREATE TRIGGER runs_count_insert AFTER INSERT ON runs BEGIN "
        "UPDATE run_count SET n = n + 1; END",
        "CREATE TRIGGER runs_count_delete AFTER DELETE ON runs BEGIN "
        "UPDATE run_count SET n = n - 1; END",
        f"CREATE TRIGGER runs_marks_insert AFTER INSERT ON runs WHEN (new.time, new.uid) <= {last} "
        f"BEGIN {_UNMARK.format('new')}; END",
        f"CREATE TRIGGER runs_marks_delete AFTER DELETE ON runs WHEN (old.time, old.uid) <= {last} "
        f"BEGIN {_UNMARK.format('old')}; END",
        "CREATE TRIGGER runs_count_move AFTER UPDATE OF time, uid ON runs BEGIN "
        f"{_UNMARK.format('old')}; {_UNMARK.format('new')}; END",
    ]


def pg_trigger(insert: str, delete: str, move: str) -> list[str]:
    """PostgreSQL: the trigger function ``cielo_count_runs`` running ``insert``, ``delete``
    or ``move`` (statements; ``moved``, a boolean, is theirs to use) after a run is
    inserted, deleted or has its time or uid changed, and the trigger calling it."""
    return [
        "CREATE OR REPLACE FUNCTION cielo_count_runs() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "DECLARE moved boolean; BEGIN "
        f"IF TG_OP = 'INSERT' THEN {insert}; ELSIF TG_OP = 'DELETE' THEN {delete}; "
        f"ELSE {move}; END IF; RETURN NULL; END $$",
        "DROP TRIGGER IF EXISTS runs_count ON runs",
        "CREATE TRIGGER runs_count AFTER INSERT OR DELETE OR UPDATE OF time, uid ON runs "
        "FOR EACH ROW EXECUTE FUNCTION cielo_count_runs()",
    ]


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
            db.execute("UPDATE run_count SET mark_time = ?, mark_uid = ?", last[0][1:])
