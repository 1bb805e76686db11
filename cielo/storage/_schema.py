"""The catalog's tables, versioned: each migration step moves the schema one version up.

A catalog records its version in ``cielo_schema``; opening it applies the missing steps
in one locked transaction, and refuses a catalog written by a newer cielo.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ._database import Database, Dialect
from ._errors import SchemaVersionError

__all__ = ["SCHEMA_VERSION", "MIGRATIONS", "migrate", "schema_version", "flatten_metadata"]

#: Columns of ``runs`` that queries and sorting may name directly.
RUN_COLUMNS = ("uid", "scan_id", "time", "plan_name", "exit_status", "stop_time", "num_events")


Step = str | tuple[str, ...]  # a statement, or alternatives tried in order


def _v1(d: Dialect) -> list[Step]:
    real = d.real
    return [
        f"""CREATE TABLE runs (
            id {d.serial_pk},
            uid TEXT NOT NULL UNIQUE,
            scan_id INTEGER,
            time {real} NOT NULL,
            plan_name TEXT,
            exit_status TEXT,
            stop_time {real},
            num_events INTEGER,
            start TEXT NOT NULL,
            stop TEXT,
            text TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX runs_time ON runs (time)",
        "CREATE INDEX runs_scan_id ON runs (scan_id, time)",
        "CREATE INDEX runs_plan_name ON runs (plan_name)",
        "CREATE INDEX runs_exit_status ON runs (exit_status)",
        f"""CREATE TABLE run_keys (
            run_id {d.integer} NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            elem INTEGER NOT NULL,
            typ TEXT NOT NULL,
            num {real},
            txt TEXT
        )""",
        # covering indexes: a condition on a key is answered from the index alone
        "CREATE INDEX run_keys_num ON run_keys (key, typ, elem, num, run_id)",
        "CREATE INDEX run_keys_txt ON run_keys (key, typ, elem, txt, run_id)",
        "CREATE INDEX run_keys_run ON run_keys (run_id)",
        """CREATE TABLE documents (
            run_uid TEXT NOT NULL REFERENCES runs (uid) ON DELETE CASCADE,
            ord INTEGER NOT NULL,
            name TEXT NOT NULL,
            uid TEXT,
            ref TEXT,
            first_seq INTEGER,
            last_seq INTEGER,
            doc TEXT NOT NULL,
            PRIMARY KEY (run_uid, ord)
        )""",
        "CREATE INDEX documents_ref ON documents (run_uid, name, ref)",
        "CREATE INDEX documents_uid ON documents (uid)",
        *(
            ["CREATE STATISTICS run_keys_deps (dependencies) ON key, typ, elem FROM run_keys"]
            if d.name == "postgresql"
            else []
        ),
        *(
            # pages of events are large: lz4 is ~3x faster to write and read than the
            # default pglz; without lz4 support, store them uncompressed
            [
                (
                    "ALTER TABLE documents ALTER COLUMN doc SET COMPRESSION lz4",
                    "ALTER TABLE documents ALTER COLUMN doc SET STORAGE EXTERNAL",
                )
            ]
            if d.name == "postgresql"
            else []
        ),
    ]


def _v2(d: Dialect) -> list[Step]:
    """Full-text search over run-start metadata."""
    if d.name == "postgresql":
        return [
            "ALTER TABLE runs ADD COLUMN tsv tsvector "
            "GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED",
            "CREATE INDEX runs_tsv ON runs USING GIN (tsv)",
        ]
    return [
        "CREATE VIRTUAL TABLE runs_fts USING fts5 (text)",  # rowid = runs.id
        "INSERT INTO runs_fts (rowid, text) SELECT id, text FROM runs",
        "CREATE TRIGGER runs_fts_insert AFTER INSERT ON runs BEGIN "
        "INSERT INTO runs_fts (rowid, text) VALUES (new.id, new.text); END",
        "CREATE TRIGGER runs_fts_delete AFTER DELETE ON runs BEGIN "
        "DELETE FROM runs_fts WHERE rowid = old.id; END",
    ]


def _v3(d: Dialect) -> list[Step]:
    """Indexes for a catalog of millions of runs: pages continue from the last run seen
    along ``(time, uid)`` (no OFFSET scans), and a uid prefix is a range of the uid index
    (PostgreSQL compares bytes only under the "C" collation)."""
    steps: list[Step] = [
        "CREATE INDEX runs_time_uid ON runs (time, uid)",
        "DROP INDEX runs_time",  # a prefix of the new index
    ]
    if d.name == "postgresql":
        steps.append('CREATE INDEX runs_uid_c ON runs ((uid COLLATE "C"))')
    return steps


def _v4(d: Dialect) -> list[Step]:
    """Runs that never got their stop document, found without visiting the others."""
    return ["CREATE INDEX runs_incomplete ON runs (time, uid) WHERE exit_status IS NULL"]


#: ``(version, statements)``: applying ``statements`` moves the schema to ``version``.
MIGRATIONS: tuple[tuple[int, Callable[[Dialect], list[Step]]], ...] = (
    (1, _v1),
    (2, _v2),
    (3, _v3),
    (4, _v4),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


def schema_version(db: Database) -> int:
    """The catalog's schema version (0 for an empty database)."""
    with db.transaction():
        db.execute("CREATE TABLE IF NOT EXISTS cielo_schema (version INTEGER NOT NULL)")
        rows = db.query("SELECT version FROM cielo_schema")
    return int(rows[0][0]) if rows else 0


def migrate(db: Database, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema up to ``target``; return the version found before."""
    with db.transaction():
        if db.dialect.name == "postgresql":
            db.query("SELECT pg_advisory_xact_lock(7242011)")
        else:
            db.execute("BEGIN IMMEDIATE")
        db.execute("CREATE TABLE IF NOT EXISTS cielo_schema (version INTEGER NOT NULL)")
        rows = db.query("SELECT version FROM cielo_schema")
        found = int(rows[0][0]) if rows else 0
        if found > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"catalog {db.uri} has schema version {found}, but this cielo knows up to "
                f"{SCHEMA_VERSION}; upgrade cielo to open it"
            )
        for version, steps in MIGRATIONS:
            if found < version <= target:
                for step in steps(db.dialect):
                    _apply(db, step)
        if found < target:
            db.execute("DELETE FROM cielo_schema")
            db.execute("INSERT INTO cielo_schema (version) VALUES (?)", (target,))
    return found


def _apply(db: Database, step: Step) -> None:
    if isinstance(step, str):
        db.execute(step)
        return
    *firsts, last = step
    for statement in firsts:  # PostgreSQL only: a failed statement is rolled back alone
        db.execute("SAVEPOINT cielo_step")
        try:
            db.execute(statement)
        except Exception:
            db.execute("ROLLBACK TO SAVEPOINT cielo_step")
            continue
        db.execute("RELEASE SAVEPOINT cielo_step")
        return
    db.execute(last)


def _walk(value: Any, key: str) -> Iterator[tuple[str, int, Any]]:
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _walk(v, f"{key}.{k}" if key else str(k))
    elif isinstance(value, (list, tuple)):
        for item in value:
            if not isinstance(item, (Mapping, list, tuple)):
                yield key, 1, item
    else:
        yield key, 0, value


_SKIP = {"uid", "time", "scan_id", "plan_name"}  # columns of ``runs``
_MAX_TEXT = 512  # index entries stay small (PostgreSQL btree limit)


def flatten_metadata(start: Mapping[str, Any]) -> tuple[list[tuple[Any, ...]], str]:
    """Rows ``(key, elem, typ, num, txt)`` for ``run_keys`` and the full-text body."""
    rows: list[tuple[Any, ...]] = []
    words: list[str] = []
    for key, elem, value in _walk(start, ""):
        if isinstance(value, str):
            words.append(value)
        if key in _SKIP:
            continue
        if isinstance(value, bool):
            rows.append((key, elem, "b", float(value), None))
        elif isinstance(value, (int, float)):
            rows.append((key, elem, "n", _number(value), None))
        elif isinstance(value, str):
            rows.append((key, elem, "s", None, value[:_MAX_TEXT]))
        elif value is None:
            rows.append((key, elem, "z", None, None))
        else:
            tolist = getattr(value, "tolist", None)  # numpy scalar
            if tolist is not None and isinstance(tolist(), (int, float)):
                rows.append((key, elem, "n", _number(tolist()), None))
    return rows, " ".join(words)


def _number(value: int | float) -> float:
    """``float(value)``, an integer too large for a float indexed as +-inf."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf
