"""The catalog's tables, versioned: each migration step moves the schema one version up.

A catalog records its version in ``cielo_schema``; opening it applies the missing steps
in one locked transaction, and refuses a catalog written by a newer cielo.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ._database import Database, Dialect
from ._errors import SchemaVersionError
from ._positions import pg_trigger, run_triggers

__all__ = [
    "SCHEMA_VERSION",
    "MIGRATIONS",
    "KeyRows",
    "migrate",
    "schema_version",
    "flatten_metadata",
]

#: Columns of ``runs`` that queries and sorting may name directly.
RUN_COLUMNS = ("uid", "scan_id", "time", "plan_name", "exit_status", "stop_time", "num_events")


#: A statement, alternatives tried in order, or a function of the open transaction.
Step = str | tuple[str, ...] | Callable[[Database], None]


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


def _v5(d: Dialect) -> list[Step]:
    """Small enough for a million runs (about 1 KB per run besides its documents).

    - ``run_keys`` names each key path (key, list element or not, type) by a small integer
      of ``key_paths``. On SQLite it holds one value column, ``val`` (its values keep their
      own types, so numbers and strings share one index; integral numbers are stored as
      integers), in a table ordered by run (``WITHOUT ROWID``) with one index by path and
      value. On PostgreSQL it holds ``num`` or ``txt`` (compared byte by byte: a regex
      prefix is an index range), with a partial index each (and one by run: version 6).
    - ``documents`` refer to their run by its integer id, not its 36-character uid; the
      unused index of document uids is gone.
    - The full-text index reads its text from ``runs`` instead of keeping a copy and keeps
      no word positions (SQLite: each word is searched on its own), or indexes an
      expression instead of a stored ``tsvector`` (PostgreSQL).
    """
    pg = d.name == "postgresql"
    integral = (
        "CASE WHEN k.num = CAST(k.num AS INTEGER) AND abs(k.num) < 9e15 "
        "THEN CAST(k.num AS INTEGER) ELSE k.num END"
    )
    steps: list[Step] = [
        f"""CREATE TABLE key_paths (
            id {d.serial_pk.replace("BIGINT", "INTEGER")},
            key TEXT NOT NULL,
            elem INTEGER NOT NULL,
            typ TEXT NOT NULL,
            UNIQUE (key, typ, elem)
        )""",
        "INSERT INTO key_paths (key, elem, typ) SELECT DISTINCT key, elem, typ FROM run_keys "
        "ORDER BY key, typ, elem",
    ]
    if pg:
        steps += [
            """CREATE TABLE run_values (
                run_id BIGINT NOT NULL,
                num DOUBLE PRECISION,
                path INTEGER NOT NULL,
                txt TEXT COLLATE "C"
            )""",
            "INSERT INTO run_values (run_id, num, path, txt) SELECT DISTINCT k.run_id, "
            "CASE WHEN k.typ = 'z' THEN 0 ELSE k.num END, p.id, k.txt FROM run_keys k "
            "JOIN key_paths p ON p.key = k.key AND p.elem = k.elem AND p.typ = k.typ "
            "WHERE k.num IS NULL OR k.num <> 'NaN'",  # a NaN matches no query
        ]
    else:
        steps += [
            """CREATE TABLE run_values (
                run_id INTEGER NOT NULL,
                path INTEGER NOT NULL,
                val NOT NULL,
                PRIMARY KEY (run_id, path, val)
            ) WITHOUT ROWID""",
            f"INSERT OR IGNORE INTO run_values (run_id, path, val) SELECT k.run_id, p.id, "
            f"CASE WHEN k.typ = 'z' THEN 0 WHEN k.typ = 's' THEN k.txt ELSE {integral} END "
            "FROM run_keys k JOIN key_paths p "
            "ON p.key = k.key AND p.elem = k.elem AND p.typ = k.typ "
            "WHERE k.typ = 'z' OR k.txt IS NOT NULL OR k.num IS NOT NULL",  # NaN is NULL here
        ]
    steps += ["DROP TABLE run_keys", "ALTER TABLE run_values RENAME TO run_keys"]
    if pg:
        steps += [
            "CREATE INDEX run_keys_num ON run_keys (path, num, run_id) WHERE num IS NOT NULL",
            "CREATE INDEX run_keys_txt ON run_keys (path, txt, run_id) WHERE txt IS NOT NULL",
        ]
    else:  # (the table is ordered by run: this index ends with the run id)
        steps.append("CREATE INDEX run_keys_value ON run_keys (path, val)")
    steps += [
        f"""CREATE TABLE documents_v5 (
            run_id {d.integer} NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            ord INTEGER NOT NULL,
            name TEXT NOT NULL,
            uid TEXT,
            ref TEXT,
            first_seq INTEGER,
            last_seq INTEGER,
            doc TEXT NOT NULL,
            PRIMARY KEY (run_id, ord)
        )""",
        "INSERT INTO documents_v5 (run_id, ord, name, uid, ref, first_seq, last_seq, doc) "
        "SELECT runs.id, d.ord, d.name, d.uid, d.ref, d.first_seq, d.last_seq, d.doc "
        "FROM documents d JOIN runs ON runs.uid = d.run_uid",
        "DROP TABLE documents",
        "ALTER TABLE documents_v5 RENAME TO documents",
        "CREATE INDEX documents_ref ON documents (run_id, ref)",
    ]
    if pg:
        steps += [
            (
                "ALTER TABLE documents ALTER COLUMN doc SET COMPRESSION lz4",
                "ALTER TABLE documents ALTER COLUMN doc SET STORAGE EXTERNAL",
            ),
            "ALTER TABLE runs DROP COLUMN tsv",  # and its index
            "CREATE INDEX runs_tsv ON runs USING GIN (to_tsvector('simple', text))",
        ]
    else:
        steps += [
            "DROP TRIGGER runs_fts_insert",
            "DROP TRIGGER runs_fts_delete",
            "DROP TABLE runs_fts",
            "CREATE VIRTUAL TABLE runs_fts USING fts5 "
            "(text, content='runs', content_rowid='id', detail=none)",
            "INSERT INTO runs_fts (runs_fts) VALUES ('rebuild')",
            "CREATE TRIGGER runs_fts_insert AFTER INSERT ON runs BEGIN "
            "INSERT INTO runs_fts (rowid, text) VALUES (new.id, new.text); END",
            "CREATE TRIGGER runs_fts_delete AFTER DELETE ON runs BEGIN "
            "INSERT INTO runs_fts (runs_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
        ]
    return steps


def _v6(d: Dialect) -> list[Step]:
    """PostgreSQL: the keys of one run found by run (a condition checked run by run, as
    when a page walks the runs in time order, and deleting a run). SQLite's table is
    ordered by run already."""
    if d.name != "postgresql":
        return []
    return ["CREATE INDEX run_keys_run ON run_keys (run_id, path)"]


#: A start document as JSON on PostgreSQL (version 7; ``meta`` holds a strict-JSON copy
#: of a start document whose text has NaN or Infinity, which PostgreSQL cannot read).
PG_DOC = "cielo_doc(runs.start, runs.meta)"
#: The words a run is found by on PostgreSQL: its text without its own uid.
PG_TEXT = "cielo_text(runs.text, runs.uid)"
_STRICT = ("NaN", "Infinity")


def _v7(d: Dialect) -> list[Step]:
    """PostgreSQL: about half the space per run besides its documents (4.2 KB before).

    - ``runs.keys`` holds a 64-bit hash of each string, boolean and ``None`` in the start
      document with its key path (:func:`value_hashes`), found through one GIN index:
      equality and list elements look up the hashes;
    - ``run_keys`` keeps rows for numbers only (equality and ranges), indexed by path and
      value and by run (a deduplicated btree: one entry per run);
    - strings are otherwise read from the start document (ranges, regular expressions,
      substrings), narrowed first by a trigram index of the run's words (``pg_trgm``,
      when the database lets it be created);
    - the full-text and trigram indexes leave out the run's uid (its parts were unique
      words: most of the full-text index); uids compare byte by byte in their own unique
      index (the second, "C" index is gone).

    Every run's row is rewritten once (its space is reused by later runs; ``VACUUM FULL
    runs`` gives it back). SQLite is unchanged."""
    if d.name != "postgresql":
        return []
    return [
        "ALTER TABLE runs ADD COLUMN meta JSONB",
        "ALTER TABLE runs ADD COLUMN keys BIGINT[] NOT NULL DEFAULT '{}'",
        "CREATE FUNCTION cielo_doc(start TEXT, meta JSONB) RETURNS JSON LANGUAGE sql "
        "IMMUTABLE PARALLEL SAFE AS $$ SELECT COALESCE(meta::json, start::json) $$",
        "CREATE FUNCTION cielo_text(text TEXT, uid TEXT) RETURNS TEXT LANGUAGE sql "
        "IMMUTABLE PARALLEL SAFE AS $$ SELECT CASE WHEN starts_with(text, uid) "
        "THEN substr(text, length(uid) + 2) ELSE text END $$",
        # the strings at a key path: its value, or the elements of its list
        "CREATE FUNCTION cielo_strings(doc JSON, path TEXT[]) RETURNS SETOF TEXT "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT e #>> '{}' FROM "
        "(SELECT doc #> path AS v) AS found, json_array_elements(CASE json_typeof(found.v) "
        "WHEN 'array' THEN found.v ELSE json_build_array(found.v) END) AS e "
        "WHERE json_typeof(e) = 'string' $$",
        _hash_runs,
        "CREATE INDEX runs_keys ON runs USING GIN (keys)",
        # the planner's estimate of a rare value: from a sample of 300,000 runs (the default
        # 30,000 took 1 run in 5,000 for 1 in 200 and walked the runs in time order)
        "ALTER TABLE runs ALTER COLUMN keys SET STATISTICS 1000",
        """CREATE TABLE run_numbers (
            run_id INTEGER NOT NULL,
            path INTEGER NOT NULL,
            num DOUBLE PRECISION NOT NULL
        )""",
        "INSERT INTO run_numbers (run_id, path, num) SELECT k.run_id, k.path, k.num "
        "FROM run_keys k JOIN key_paths p ON p.id = k.path WHERE p.typ = 'n' ORDER BY k.run_id",
        "DROP TABLE run_keys",
        "ALTER TABLE run_numbers RENAME TO run_keys",
        "CREATE INDEX run_keys_num ON run_keys (path, num, run_id)",
        "CREATE INDEX run_keys_run ON run_keys (run_id)",
        "DROP INDEX runs_uid_c",
        'ALTER TABLE runs ALTER COLUMN uid TYPE TEXT COLLATE "C"',
        "DROP INDEX runs_tsv",
        f"CREATE INDEX runs_tsv ON runs USING GIN (to_tsvector('simple', {PG_TEXT.replace('runs.', '')}))",
        _trigrams,
    ]


def _hash_runs(db: Database) -> None:
    """Fill ``keys`` (and ``meta`` where needed) of the stored runs from their start
    documents: computed ten thousand runs at a time, copied into a temporary table, and
    set in one statement."""
    import json

    key_rows = KeyRows(db, multi=False)  # (set from the rows by version 11)
    db.execute(
        "CREATE TEMPORARY TABLE cielo_hashes (id BIGINT, keys BIGINT[], meta JSONB) ON COMMIT DROP"
    )
    last = 0
    while True:
        rows = db.query("SELECT id, start FROM runs WHERE id > ? ORDER BY id LIMIT 10000", [last])
        if not rows:
            break
        flats = [flatten_metadata(json.loads(start))[0] for _, start in rows]
        key_rows.resolve((k, e, t) for flat in flats for k, e, t, _, _ in flat)
        with (
            db.raw.cursor() as cur,
            cur.copy("COPY cielo_hashes (id, keys, meta) FROM STDIN") as copy,
        ):
            for (id_, start), flat in zip(rows, flats, strict=True):
                copy.write_row((id_, key_rows.hashes(flat), strict_meta(start)))
        last = rows[-1][0]
    db.execute(
        "UPDATE runs SET keys = h.keys, meta = h.meta FROM cielo_hashes h WHERE runs.id = h.id"
    )


def strict_meta(start_text: str) -> str | None:
    """The start document as strict JSON when its text has NaN or Infinity (which
    JSONB cannot read; those values are left out: they match no equality), else None."""
    if not any(word in start_text for word in _STRICT):
        return None
    import json

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if not _nonfinite(v)}
        if isinstance(value, list):
            return [clean(v) for v in value if not _nonfinite(v)]
        return value

    doc = json.loads(start_text)
    text = json.dumps(clean(doc), separators=(",", ":"))
    return None if text == start_text else text


def _nonfinite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _trigrams(db: Database) -> None:
    """The trigram index of runs' words, where ``pg_trgm`` is or can be installed (else
    regular expressions and substrings are checked run by run)."""
    db.execute("SAVEPOINT cielo_trgm")
    try:
        db.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception:
        db.execute("ROLLBACK TO SAVEPOINT cielo_trgm")
    else:
        db.execute("RELEASE SAVEPOINT cielo_trgm")
    rows = db.query(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'"
    )
    if rows:
        schema = rows[0][0].replace('"', '""')
        db.execute(
            f"CREATE INDEX runs_trgm ON runs USING GIN ({PG_TEXT.replace('runs.', '')} "
            f'"{schema}".gin_trgm_ops)'
        )


def _v8(d: Dialect) -> list[Step]:
    """Pages of events as columns (``documents.data``, see ``_columnar``); the pages
    stored before stay JSON in ``doc`` and read as before."""
    steps: list[Step] = [
        f"ALTER TABLE documents ADD COLUMN data {'BYTEA' if d.name == 'postgresql' else 'BLOB'}"
    ]
    if d.name == "postgresql":  # compressed already
        steps.append("ALTER TABLE documents ALTER COLUMN data SET STORAGE EXTERNAL")
    return steps


def _v9(d: Dialect) -> list[Step]:
    """Pages of events in format 2 (``_columnar``: smaller headers, for small pages): the
    pages stored as columns before are rewritten, those of 2,000 runs at a time."""
    return [_recode_pages]


def _recode_pages(db: Database) -> None:
    from ._columnar import FORMAT_1, recode_page

    top = db.query("SELECT MAX(run_id) FROM documents")[0][0] or 0
    for low in range(0, top, 2000):  # runs by ranges of ids: each read is a range of the key
        rows = db.query(
            "SELECT run_id, ord, ref, data FROM documents WHERE run_id > ? AND run_id <= ? "
            "AND data IS NOT NULL",
            (low, low + 2000),
        )
        db.executemany(
            "UPDATE documents SET data = ? WHERE run_id = ? AND ord = ?",
            [
                (recode_page(bytes(data), ref), run_id, ord_)
                for run_id, ord_, ref, data in rows
                if bytes(data[:1]) == FORMAT_1
            ],
        )


def _v10(d: Dialect) -> list[Step]:
    """The number of runs, and every ``MARK_SPACING``-th run of the ``(time, uid)`` order
    with its position (``_positions``), kept exact by triggers in the transaction of
    every insert and delete of a run: ``len(cat)`` reads one row, and a page by offset
    starts from the mark before it. A run inserted anywhere but at the end of the order
    (or deleted) removes the marks after it; the next offset past them makes them again."""
    pg = d.name == "postgresql"
    uid = 'TEXT COLLATE "C"' if pg else "TEXT"
    steps: list[Step] = [  # written to be applied again (a catalog marked older by hand)
        "DROP TABLE IF EXISTS run_count",
        "DROP TABLE IF EXISTS run_marks",
        f"CREATE TABLE run_count (n {d.integer} NOT NULL)",
        "INSERT INTO run_count (n) SELECT COUNT(*) FROM runs",
        f"CREATE TABLE run_marks (pos {d.integer} PRIMARY KEY, time {d.real} NOT NULL, uid {uid} NOT NULL)",
    ]
    # a run at (t, u) moves the marks after it; a deleted run also takes its own mark
    later = "DELETE FROM run_marks WHERE time > {0}.time OR (time = {0}.time AND uid {1} {0}.uid)"
    if pg:  # the count's row is locked first: a writer waits for marks being made
        return [
            *steps,
            *pg_trigger(
                f"UPDATE run_count SET n = n + 1; {later.format('NEW', '>')}",
                f"UPDATE run_count SET n = n - 1; {later.format('OLD', '>=')}",
                f"UPDATE run_count SET n = n; {later.format('OLD', '>=')}; {later.format('NEW', '>=')}",
            ),
        ]
    return [
        *steps,
        *(f"DROP TRIGGER IF EXISTS runs_count_{t}" for t in ("insert", "delete", "move")),
        "CREATE TRIGGER runs_count_insert AFTER INSERT ON runs BEGIN "
        f"UPDATE run_count SET n = n + 1; {later.format('new', '>')}; END",
        "CREATE TRIGGER runs_count_delete AFTER DELETE ON runs BEGIN "
        f"UPDATE run_count SET n = n - 1; {later.format('old', '>=')}; END",
        "CREATE TRIGGER runs_count_move AFTER UPDATE OF time, uid ON runs BEGIN "
        f"{later.format('old', '>=')}; {later.format('new', '>=')}; END",
    ]


def _v11(d: Dialect) -> list[Step]:
    """``key_paths.multi``: 1 when some run holds more than one value at the path (a list's
    elements; a dotted key equal to a nested one), set by the writer in the transaction
    that stores such a run. A count of a condition on one path that no run holds twice
    counts index entries, without gathering the distinct runs (PostgreSQL: 31 -> 8 ms for
    40,000 of a million runs)."""
    return [
        _add_multi,
        "UPDATE key_paths SET multi = 1 WHERE id IN "
        "(SELECT DISTINCT path FROM run_keys GROUP BY run_id, path HAVING COUNT(*) > 1)",
    ]


def _v12(d: Dialect) -> list[Step]:
    """The last mark's ``(time, uid)`` kept in the count's row (``run_count.mark_time``,
    ``mark_uid``): the trigger of a run inserted after it (appending) or deleted after it
    only updates the count, without looking for marks to delete (PostgreSQL: 0.07 -> 0.03
    ms a run in the trigger). PostgreSQL: ``cielo_strings`` reads the start document
    once per run, not three times (its inlined body repeated ``doc #> path``)."""
    pg = d.name == "postgresql"
    return [
        _add_last_mark,
        "UPDATE run_count SET (mark_time, mark_uid) = "
        "(SELECT time, uid FROM run_marks ORDER BY pos DESC LIMIT 1)",
        *((_STRINGS,) if pg else (f"DROP TRIGGER IF EXISTS runs_{t}" for t in _SQLITE_TRIGGERS)),
        *run_triggers(pg),
    ]


#: The strings at a key path: its value, or the elements of its list (``OFFSET 0`` keeps
#: ``doc #> path`` a subquery computed once when the function is inlined).
_STRINGS = (
    "CREATE OR REPLACE FUNCTION cielo_strings(doc JSON, path TEXT[]) RETURNS SETOF TEXT "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT e #>> '{}' FROM "
    "(SELECT doc #> path AS v OFFSET 0) AS found, json_array_elements(CASE json_typeof(found.v) "
    "WHEN 'array' THEN found.v ELSE json_build_array(found.v) END) AS e "
    "WHERE json_typeof(e) = 'string' $$"
)


_SQLITE_TRIGGERS = ("count_insert", "count_delete", "count_move", "marks_insert", "marks_delete")


def _add_last_mark(db: Database) -> None:
    if db.dialect.name == "postgresql":
        db.execute("ALTER TABLE run_count ADD COLUMN IF NOT EXISTS mark_time DOUBLE PRECISION")
        db.execute('ALTER TABLE run_count ADD COLUMN IF NOT EXISTS mark_uid TEXT COLLATE "C"')
    elif not any(r[1] == "mark_time" for r in db.query("PRAGMA table_info(run_count)")):
        db.execute("ALTER TABLE run_count ADD COLUMN mark_time REAL")
        db.execute("ALTER TABLE run_count ADD COLUMN mark_uid TEXT")


def _add_multi(db: Database) -> None:
    if db.dialect.name == "postgresql":
        db.execute(
            "ALTER TABLE key_paths ADD COLUMN IF NOT EXISTS multi INTEGER NOT NULL DEFAULT 0"
        )
    elif not any(r[1] == "multi" for r in db.query("PRAGMA table_info(key_paths)")):
        db.execute("ALTER TABLE key_paths ADD COLUMN multi INTEGER NOT NULL DEFAULT 0")


#: ``(version, statements)``: applying ``statements`` moves the schema to ``version``.
MIGRATIONS: tuple[tuple[int, Callable[[Dialect], list[Step]]], ...] = (
    (1, _v1),
    (2, _v2),
    (3, _v3),
    (4, _v4),
    (5, _v5),
    (6, _v6),
    (7, _v7),
    (8, _v8),
    (9, _v9),
    (10, _v10),
    (11, _v11),
    (12, _v12),
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
    if callable(step):
        step(db)
        return
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
    """Rows ``(key, elem, typ, num, txt)`` for ``run_keys`` and the full-text body (the
    string values but the run's uid: a run is found by uid through its own index)."""
    rows: list[tuple[Any, ...]] = []
    words: list[str] = []
    for key, elem, value in _walk(start, ""):
        if isinstance(value, str) and key != "uid":  # (a uid's parts are unique words)
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


Path = tuple[str, int, str]  # (key, elem, typ)


class KeyRows:
    """The rows of ``run_keys`` for runs' flattened metadata, on one database.

    Key paths are numbered once in ``key_paths`` (:meth:`resolve`, in a transaction of its
    own, so an id kept here is never one a rollback took back).
    """

    def __init__(self, db: Database, *, multi: bool = True) -> None:
        self.db = db
        self._multi = multi  # False: key_paths has no ``multi`` yet (migrating to 7)
        self.ids: dict[Path, int] = {}
        #: Paths some run holds more than one value at, as last read (``_v11``); and
        #: those marked since, by transactions that may not have committed.
        self.multi: set[int] = set()
        self._marked: set[int] = set()
        self.pg = db.dialect.name == "postgresql"
        columns = "run_id, path, num" if self.pg else "run_id, path, val"
        marks = ", ".join("?" * len(columns.split(", ")))
        #: The statement :meth:`rows` gives rows for.
        self.insert = f"INSERT INTO run_keys ({columns}) VALUES ({marks})"

    @classmethod
    def of(cls, db: Database) -> KeyRows:
        """The one instance kept with ``db``."""
        rows = db.cache.get("key_rows")
        if rows is None:
            rows = db.cache["key_rows"] = cls(db)
        return rows  # type: ignore[no-any-return]

    def resolve(self, paths: Iterable[Path]) -> None:
        """Number the paths not numbered yet (call it outside a write transaction)."""
        missing = sorted({p for p in paths if p not in self.ids})
        if not missing and not self._marked:
            return
        with self.db.transaction():
            self.db.executemany(
                "INSERT INTO key_paths (key, elem, typ) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                missing,
            )
            self._read()

    def _read(self) -> None:
        multi = "multi" if self._multi else "0"
        rows = self.db.query(f"SELECT id, key, elem, typ, {multi} FROM key_paths")
        for id_, key, elem, typ, _ in rows:
            self.ids[(key, elem, typ)] = id_
        self.multi = {r[0] for r in rows if r[4]}
        self._marked = set()

    def lookup(self, key: str, typ: str, elems: tuple[int, ...]) -> list[int]:
        """The numbers of the paths of ``key`` (type ``typ``) at ``elems`` that exist
        (``key_paths`` is read again when one is not known here: another writer may have
        added it)."""
        paths = [(key, e, typ) for e in elems]
        if any(p not in self.ids for p in paths):
            self._read()
        return [self.ids[p] for p in paths if p in self.ids]

    def rows(self, run_id: int, flat: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """``run_keys`` rows of run ``run_id`` from :func:`flatten_metadata`'s rows (their
        paths resolved before), each once; a NaN matches no comparison and is left out.
        On PostgreSQL only numbers have rows (the rest is matched as JSONB). Call it in
        the transaction that stores them: a path given two values is marked ``multi``."""
        out: dict[tuple[Any, ...], None] = {}
        ids = self.ids
        for key, elem, typ, num, txt in flat:
            if typ == "z":
                num = 0.0
            elif txt is None and num != num:
                continue
            path = ids[(key, elem, typ)]
            if self.pg:
                if typ == "n":
                    out[(run_id, path, num)] = None
            else:
                out[(run_id, path, _compact(num) if txt is None else txt)] = None
        seen: set[int] = set()
        for _, path, _ in out:
            if path in seen and self._multi and path not in self.multi | self._marked:
                self.db.execute(
                    "UPDATE key_paths SET multi = 1 WHERE id = ? AND multi = 0", (path,)
                )
                self._marked.add(path)  # read again once committed (:meth:`resolve`)
            seen.add(path)
        return list(out)

    def hashes(self, flat: Iterable[tuple[Any, ...]]) -> list[int]:
        """PostgreSQL: :func:`value_hashes` of the strings, booleans and ``None``."""
        ids = self.ids
        return value_hashes((ids[(k, e, t)], t, num, txt) for k, e, t, num, txt in flat if t != "n")

    def delete(self, run_id: int) -> None:
        """Remove run ``run_id``'s rows."""
        self.db.execute("DELETE FROM run_keys WHERE run_id = ?", (run_id,))


def value_hashes(values: Iterable[tuple[int, str, Any, Any]]) -> list[int]:
    """64-bit hashes (BLAKE2b) of ``(path id, typ, num, txt)`` values, each once: what
    ``runs.keys`` holds and an equality looks up (two different values share a hash
    with odds of about one in 10^19)."""
    out: dict[int, None] = {}
    for path, typ, num, txt in values:
        text = txt if typ == "s" else ("1" if num else "0") if typ == "b" else ""
        digest = hashlib.blake2b(f"{path}\x1f{text}".encode(), digest_size=8).digest()
        out[int.from_bytes(digest, "big", signed=True)] = None
    return list(out)


def _compact(num: float) -> int | float:
    """An integral number as an integer (SQLite stores small ones in 1 to 4 bytes and
    compares them with floats by value)."""
    if num.is_integer() and abs(num) < 9e15:
        return int(num)
    return num


def _number(value: int | float) -> float:
    """``float(value)``, an integer too large for a float indexed as +-inf."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf
