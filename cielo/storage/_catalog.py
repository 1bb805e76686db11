"""The catalog: find runs by what is known about them, and read them back."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from . import _positions
from ._archive import iter_documents
from ._database import Database, connect, default_catalog_uri, expand_uri
from ._errors import CatalogError, QueryError, RunNotFoundError
from ._query import KEYS_PREFIX, And, Query, Uid, parse_query
from ._readers import ReaderFactory, ReaderRegistry
from ._run import INCOMPLETE, RUN_DOCUMENTS, Run
from ._schema import RUN_COLUMNS, KeyRows, migrate
from ._writer import CatalogWriter

__all__ = ["Catalog", "open_catalog", "catalog_uri"]

Document = dict[str, Any]
SUMMARY_KEYS = ("uid", "scan_id", "plan_name", "time", "exit_status", "num_events")
#: A condition matching fewer runs than this is planned as a set (see ``Catalog._where``).
PLAN_FEW = 10_000
#: A condition on ``run_keys`` at one key path (the first parameter), ANDed with others.
_ONE_PATH = re.compile(r"path IN \(\?\)( AND |$)")
#: Columns of ``runs`` that may hold NULL (they sort first ascending, on both backends).
NULLABLE = frozenset(RUN_COLUMNS) - {"uid", "time"}


def _conjuncts(query: Query) -> Iterator[Query]:
    """The conditions that must all hold (nested ``And`` flattened)."""
    if isinstance(query, And):
        for q in query.queries:
            yield from _conjuncts(q)
    else:
        yield query


def _from_end(key: slice) -> bool:
    """``key`` counts from the end only (``[-20:-10]``, ``[-5:]``)."""
    start, stop = key.start, key.stop
    return type(start) is int and start < 0 and (stop is None or type(stop) is int and stop < 0)


#: A word held by more than this share of the runs is common (its page walks the runs).
COMMON_WORD = 0.01


def _common_words(db: Database, text: str) -> bool:
    """PostgreSQL: every word of ``text`` is among the full-text index's most common
    words, each held by more than :data:`COMMON_WORD` of the runs (read from ``pg_stats``
    once per connection; without statistics no word is common)."""
    common = db.cache.get("common_words")
    if common is None:
        rows = db.query(
            "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
            "WHERE tablename = 'runs_tsv' AND schemaname = current_schema()"
        )
        common = set()
        if rows and rows[0][0]:
            common = {w for w, f in zip(rows[0][0], rows[0][1], strict=False) if f > COMMON_WORD}
        db.cache["common_words"] = common
    words = db.query("SELECT unnest(tsvector_to_array(to_tsvector('simple', ?)))", [text])
    return bool(words) and all(w in common for (w,) in words)


def catalog_uri(uri: str | None = None) -> str:
    """``uri``, else ``$CIELO_CATALOG``, else the SQLite file in the user's data dir."""
    return expand_uri(uri or os.environ.get("CIELO_CATALOG") or default_catalog_uri())


class Catalog:
    """Runs stored in SQLite or PostgreSQL, filtered by a query.

    ``len(cat)``; ``cat[uid]``, ``cat[partial_uid]``, ``cat[scan_id]`` (the most recent
    run with it), ``cat[-1]`` (the most recent run), ``cat[2:5]`` (runs in order);
    ``cat.search(query)`` narrows; iterating gives uids in the catalog's order.
    """

    def __init__(
        self,
        db: Database,
        *,
        query: Query | None = None,
        sort: tuple[tuple[str, bool], ...] = (("time", False),),
        readers: ReaderRegistry | None = None,
    ) -> None:
        self.db = db
        if db.dialect.path_ids is None:  # queries name key paths by their numbers
            db.dialect.path_ids = KeyRows.of(db).lookup
            if db.dialect.name == "postgresql":
                db.dialect.common_words = lambda text: _common_words(db, text)
                db.dialect.trigrams = bool(
                    db.query(
                        "SELECT 1 FROM pg_indexes WHERE indexname = 'runs_trgm' "
                        "AND schemaname = current_schema()"
                    )
                )
        self.query = query
        self.sort = sort
        self.readers = readers or ReaderRegistry()

    @property
    def uri(self) -> str:
        return self.db.uri

    def __repr__(self) -> str:
        return f"<Catalog {self.uri} {self.query!r}: {len(self)} runs>"

    # -- narrowing --------------------------------------------------------------------
    def _derive(self, query: Query | None = None, sort: Any = None) -> Catalog:
        return Catalog(self.db, query=query, sort=sort or self.sort, readers=self.readers)

    def search(self, query: Query | Mapping[str, Any] | str | None = None, **keys: Any) -> Catalog:
        """The runs of this catalog that also match ``query``.

        ``query`` is a :class:`~cielo.storage.Query`, a Mongo-style mapping, or a string
        searched as full text; keyword arguments are equality on run-start keys.
        """
        parts: list[Query] = [] if self.query is None else [self.query]
        if isinstance(query, str):
            query = {"$text": query}
        if query is not None:
            parts.append(parse_query(query))
        if keys:
            parts.append(parse_query(keys))
        return self._derive(parts[0] if len(parts) == 1 else And(*parts))

    def sorted(self, *keys: str) -> Catalog:
        """Order by run columns; ``"-time"`` sorts newest first. Default ``"time"``."""
        sort = []
        for key in keys or ("time",):
            desc = key.startswith("-")
            column = key.lstrip("-+")
            if column not in RUN_COLUMNS:
                raise QueryError(
                    f"cannot sort by {column!r}; sort by one of {', '.join(RUN_COLUMNS)}"
                )
            sort.append((column, desc))
        return self._derive(self.query, tuple(sort))

    # -- SQL ----------------------------------------------------------------------------
    def _where(self, ordered: bool = True) -> tuple[str, list[Any]]:
        """The query as SQL, planned (on SQLite) by how many runs each indexed condition
        matches.

        A condition on a run-start key is either a set of runs found through the index of
        keys (``runs.id IN (...)``), or checked run by run (``EXISTS``). Of the conditions
        ANDed together, the one matching the fewest runs is the set and the others are
        checked; when every one matches many runs and the runs are wanted in order (a
        page), all are checked while the database walks its index of the order, stopping
        at the end of the page.
        """
        if self.query is None:
            return "1 = 1", []
        d = self.db.dialect
        if d.name == "postgresql":  # its planner does this itself, from its statistics
            return self.query.sql(d)
        parts = list(_conjuncts(self.query))
        keyed = [
            i for i, p in enumerate(parts) if p.indexed and p.sql(d)[0].startswith(KEYS_PREFIX)
        ]
        if not keyed or (len(parts) == 1 and not ordered):
            return self.query.sql(d)
        counts = {i: self._few(*parts[i].sql(d)) for i in keyed}
        fewest = min(keyed, key=counts.__getitem__)
        if ordered and counts[fewest] >= PLAN_FEW:
            fewest = -1  # all broad: walk the order, check each run
        texts, params = [], []
        for i, part in enumerate(parts):
            text, p = part.sql(d)
            if i in counts and i != fewest:
                text = (
                    "EXISTS (SELECT 1 FROM run_keys WHERE run_keys.run_id = runs.id AND ("
                    + text[len(KEYS_PREFIX) : -1]
                    + "))"
                )
            texts.append(f"({text})")
            params += p
        return " AND ".join(texts), params

    def _few(self, where: str, params: list[Any]) -> int:
        """How many runs a condition on keys matches, counted up to :data:`PLAN_FEW`."""
        sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM run_keys WHERE {where[len(KEYS_PREFIX) : -1]} LIMIT {PLAN_FEW}) AS few"
        return int(self.db.search(sql, params)[0][0])

    def _full_sort(self, reverse: bool = False) -> list[tuple[str, bool]]:
        """``(column, descending)`` of the whole order: the sort keys, then ``uid`` (in the
        last key's direction, so that ``time, uid`` is one walk of an index)."""
        keys = [(c, d) for c, d in self.sort if c != "uid"]
        keys.append(("uid", dict(self.sort).get("uid", keys[-1][1] if keys else False)))
        return [(c, d != reverse) for c, d in keys]

    def _order(self, reverse: bool = False) -> str:
        pg = self.db.dialect.name == "postgresql"
        parts = []
        for column, desc in self._full_sort(reverse):
            # NULLs sort first ascending on both backends (SQLite's order; PostgreSQL's
            # default is the opposite), so a page continues the same way on either
            nulls = (" NULLS LAST" if desc else " NULLS FIRST") if pg and column in NULLABLE else ""
            parts.append(f"runs.{column} {'DESC' if desc else 'ASC'}{nulls}")
        return ", ".join(parts)

    def _after(self, values: Sequence[Any], reverse: bool = False) -> tuple[str, list[Any]]:
        """A condition on runs that come after the run whose sort values are ``values``
        (keyset pagination: the index starts at that run instead of counting up to it)."""
        keys = self._full_sort(reverse)
        alternatives, params = [], []
        same: list[str] = []
        same_params: list[Any] = []
        for (column, desc), value in zip(keys, values, strict=True):
            col = f"runs.{column}"
            if value is None:  # NULLs come first ascending, last descending
                later, later_params = (None, []) if desc else (f"{col} IS NOT NULL", [])
                equal, equal_params = f"{col} IS NULL", []
            else:
                later = f"{col} {'<' if desc else '>'} ?"
                if desc and column in NULLABLE:
                    later = f"({later} OR {col} IS NULL)"
                later_params = [value]
                equal, equal_params = f"{col} = ?", [value]
            if later is not None:
                alternatives.append(" AND ".join([*same, later]))
                params += [*same_params, *later_params]
            same.append(equal)
            same_params += equal_params
        condition = " OR ".join(f"({a})" for a in alternatives) or "1 = 0"
        (column, desc), value = keys[0], values[0]
        if value is not None:  # a range on the first key: where the index walk starts
            bound = f"runs.{column} {'<=' if desc else '>='} ?"
            if desc and column in NULLABLE:
                bound += f" OR runs.{column} IS NULL"
            condition = f"({bound}) AND ({condition})"
            params = [value, *params]
        return condition, params

    def _position(self, uid: str) -> tuple[Any, ...]:
        """The sort values of the run ``uid`` (where a page ``after`` it starts)."""
        columns = ", ".join(f"runs.{c}" for c, _ in self._full_sort())
        rows = self.db.query(f"SELECT {columns} FROM runs WHERE runs.uid = ?", [uid])
        if not rows:
            raise RunNotFoundError(
                f"no run with uid {uid!r} in {self.uri} to continue after; give the full "
                "uid of the last run of the previous page"
            )
        return tuple(rows[0])

    def _pages(
        self, columns: str, *, offset: int = 0, limit: int | None = None,
        after: str | None = None, reverse: bool = False, size: int = 1000,
    ) -> Iterator[tuple[Any, ...]]:  # fmt: skip
        """Rows of ``columns`` in order, read a page at a time, each page continuing from
        the last row of the one before (only ``offset`` is counted, once)."""
        keys = len(self._full_sort())
        select = ", ".join(f"runs.{c}" for c, _ in self._full_sort()) + ", " + columns
        last = None if after is None else self._position(after)
        if offset and last is None:  # skip through the index of the order, then read on
            last = self._before(offset, reverse)
            if last is None:
                return
            offset = 0
        done = 0
        params: list[Any]
        while limit is None or done < limit:
            n = size if limit is None else min(size, limit - done)
            extra, params = "", []
            if last is not None:
                condition, params = self._after(last, reverse)
                extra = f" AND ({condition})"
            rows = self._select(
                select, offset=offset, limit=n, reverse=reverse, extra=extra, params=params
            )
            offset = 0
            yield from (r[keys:] for r in rows)
            done += len(rows)
            if len(rows) < n:
                return
            last = rows[-1][:keys]

    def _before(self, offset: int, reverse: bool = False) -> tuple[Any, ...] | None:
        """The sort values of the run at ``offset - 1`` (None past the end): the rows
        skipped are read from the index of the order alone, not from the table, and in
        the time order of the whole catalog from the mark before it (``_positions``)."""
        keys = self._full_sort()
        if (
            self.query is None and offset > _positions.MARK_SPACING
            and [c for c, _ in keys] == ["time", "uid"] and keys[0][1] == keys[1][1]
        ):  # fmt: skip
            found = _positions.seek(self.db, offset - 1, reverse=keys[0][1] != reverse)
            if found is not _positions.UNKNOWN:
                return found  # type: ignore[no-any-return]
        columns = ", ".join(f"runs.{c}" for c, _ in keys)
        rows = self._select(columns, offset=offset - 1, limit=1, reverse=reverse)
        return tuple(rows[0]) if rows else None

    def _select(
        self, columns: str, *, offset: int = 0, limit: int | None = None, reverse: bool = False,
        extra: str = "", params: Iterable[Any] = (),
    ) -> list[tuple[Any, ...]]:  # fmt: skip
        split = self._split() if limit is not None else None
        if split is not None:  # costly checks of the runs in order, until the page is full
            where, wparams, check, cparams = split
            sql = (
                f"SELECT {columns} FROM (SELECT * FROM runs WHERE ({where}){extra} "
                f"ORDER BY {self._order(reverse)} OFFSET 0) AS runs WHERE {check} LIMIT {int(limit or 0)}"
            )
            if offset:
                sql += f" OFFSET {int(offset)}"
            return self.db.search(sql, [*wparams, *params, *cparams])
        where, wparams = self._where()
        sql = f"SELECT {columns} FROM runs WHERE ({where}){extra} ORDER BY {self._order(reverse)}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        if offset:
            sql += (
                " LIMIT -1" if limit is None and self.db.dialect.name == "sqlite" else ""
            ) + f" OFFSET {int(offset)}"
        return self.db.search(sql, [*wparams, *params])

    def _split(self) -> tuple[str, list[Any], str, list[Any]] | None:
        """PostgreSQL: ``(where, params, check, params)`` when some ANDed conditions are a
        narrowing plus a costly check (:meth:`Query.parts`), else None. A page then reads
        the narrowed runs in order and checks them until it is full (the subquery's order
        is kept: PostgreSQL plans it for the page, walking the index of the order when the
        narrowing is broad, sorting the runs found when it is not)."""
        d = self.db.dialect
        if self.query is None or d.name != "postgresql":
            return None
        parts = list(_conjuncts(self.query))
        splits = [p.parts(d) for p in parts]
        if all(s is None for s in splits):
            return None
        where, wparams, checks, cparams = [], [], [], []
        for part, split in zip(parts, splits, strict=True):
            text, p = part.sql(d) if split is None else split[0]
            where.append(f"({text})")
            wparams += p
            if split is not None:
                checks.append(f"({split[1][0]})")
                cparams += split[1][1]
        return " AND ".join(where), wparams, " AND ".join(checks), cparams

    def __len__(self) -> int:
        return self.count()

    def count(self, at_most: int | None = None) -> int:
        """How many runs match, counting no further than ``at_most`` (a broad search over
        millions of runs is not visited to the end: ``count(10_001) > 10_000`` says "more
        than 10,000"). ``len(cat)`` is ``cat.count()``."""
        if at_most is not None and at_most < 0:
            raise QueryError(f"count(at_most={at_most}): give a number of runs >= 0, or None")
        if self.query is None:  # kept by triggers (schema 10)
            n = _positions.run_count(self.db)
            return n if at_most is None else min(n, at_most)
        where, params = self._where(ordered=False)
        if where.startswith(KEYS_PREFIX):  # one condition on one key: the index answers
            inner = where[len(KEYS_PREFIX) : -1]
            if _ONE_PATH.match(inner) and " OR " not in inner:
                return self._count_path(inner, params, at_most)
            rows = f"SELECT DISTINCT run_id FROM run_keys WHERE {inner}"
        else:
            rows = f"SELECT 1 FROM runs WHERE {where}"
        if at_most is None:
            sql = f"SELECT COUNT(*) FROM ({rows}) AS matches"
        else:
            sql = f"SELECT COUNT(*) FROM ({rows} LIMIT {int(at_most)}) AS matches"
        return int(self.db.search(sql, params)[0][0])

    def _count_path(self, where: str, params: list[Any], at_most: int | None) -> int:
        """A condition on one key path: its index entries counted, unless some run holds
        two values there (``key_paths.multi``, read in the same statement)."""
        cap = "" if at_most is None else f" LIMIT {int(at_most)}"
        sql = (
            "SELECT CASE WHEN (SELECT multi FROM key_paths WHERE id = ?) = 0 "
            f"THEN (SELECT COUNT(*) FROM (SELECT 1 FROM run_keys WHERE {where}{cap}) AS m) "
            f"ELSE (SELECT COUNT(*) FROM (SELECT DISTINCT run_id FROM run_keys WHERE {where}{cap}) AS m) END"
        )
        found = self.db.search(sql, [params[0], *params, *params])[0][0]
        return int(found or 0)

    def __iter__(self) -> Iterator[str]:
        return (row[0] for row in self._pages("runs.uid"))

    def keys(self) -> list[str]:
        return list(self)

    def __contains__(self, uid: object) -> bool:
        return isinstance(uid, str) and bool(
            self._select("uid", extra=" AND runs.uid = ?", params=[uid])
        )

    # -- getting runs ---------------------------------------------------------------------
    def _run(self, row: tuple[Any, ...]) -> Run:
        start, stop = row
        return Run(self, json.loads(start), json.loads(stop) if stop else None)

    def __getitem__(self, key: str | int | slice) -> Any:
        if isinstance(key, slice):
            if key.step not in (None, 1):
                raise QueryError("catalog slices take no step")
            if _from_end(key):  # cat[-20:-10]: read backwards from the end, nothing counted
                skip = 0 if key.stop is None else -key.stop
                rows = list(
                    self._pages(
                        "start, stop", offset=skip, limit=max(-key.start - skip, 0), reverse=True
                    )
                )
                return [self._run(r) for r in reversed(rows)]
            size = len(self)  # counted once
            start, stop, _ = key.indices(size)
            if stop <= start:
                return []
            if start > size - stop:  # nearer the end: count from there
                rows = list(
                    self._pages("start, stop", offset=size - stop, limit=stop - start, reverse=True)
                )
                rows.reverse()
            else:
                rows = list(self._pages("start, stop", offset=start, limit=stop - start))
            return [self._run(r) for r in rows]
        if isinstance(key, bool) or not isinstance(key, (int, str)):
            raise QueryError(f"look runs up by uid, partial uid or scan_id, not {key!r}")
        if isinstance(key, int):
            if not -(2**63) <= key < 2**63:
                raise RunNotFoundError(f"no run with scan_id {key} in {self.uri}")
            if key < 0:
                rows = list(self._pages("start, stop", offset=-key - 1, limit=1, reverse=True))
                if not rows:
                    raise RunNotFoundError(f"catalog has fewer than {-key} runs (index {key})")
                return self._run(rows[0])
            rows = self.db.query(
                f"SELECT start, stop FROM runs WHERE ({self._where()[0]}) AND runs.scan_id = ? "
                "ORDER BY runs.time DESC LIMIT 1",
                [*self._where()[1], key],
            )
            if not rows:
                raise RunNotFoundError(f"no run with scan_id {key} in {self.uri}")
            return self._run(rows[0])
        rows = self._select("start, stop", extra=" AND runs.uid = ?", params=[key])
        if rows:
            return self._run(rows[0])
        matches = self.search(Uid(key))._select("uid, start, stop", limit=5)
        if len(matches) == 1:
            return self._run(matches[0][1:])
        if not matches:
            raise RunNotFoundError(f"no run with uid {key!r} (or starting with it) in {self.uri}")
        raise RunNotFoundError(
            f"partial uid {key!r} matches several runs ({', '.join(m[0] for m in matches)}"
            f"{', ...' if len(matches) == 5 else ''}); give more characters"
        )

    def lookup(self, key: str) -> Run:
        """The run that ``key``, as a person types it, names: ``-N`` the N-th newest,
        other digits a scan id or, when no run has that scan id, the beginning of a uid
        (a uid's first 8 characters are all digits once in 43 runs), anything else a uid
        or its beginning."""
        key = key.strip()
        if re.fullmatch(r"-\d+", key):
            return self[int(key)]  # type: ignore[no-any-return]
        if not key.isdigit():
            return self[key]  # type: ignore[no-any-return]
        try:
            return self[int(key)]  # type: ignore[no-any-return]
        except RunNotFoundError as by_scan_id:
            try:
                return self[key]  # type: ignore[no-any-return]
            except CatalogError as by_uid:
                raise RunNotFoundError(f"{by_scan_id.args[0]}; {by_uid.args[0]}") from None

    def runs(
        self, offset: int = 0, limit: int | None = None, *, after: str | None = None
    ) -> Iterator[Run]:
        """Runs in the catalog's order, from ``offset`` (or after the run ``after``, a
        uid: the next page of a large catalog without counting past the runs before it),
        at most ``limit``."""
        rows = self._pages("start, stop", offset=offset, limit=limit, after=after, size=500)
        return (self._run(r) for r in rows)

    def values(self) -> Iterator[Run]:
        return self.runs()

    def items(self) -> Iterator[tuple[str, Run]]:
        return ((r.uid, r) for r in self.runs())

    def summaries(
        self, offset: int = 0, limit: int | None = None, *, after: str | None = None
    ) -> list[dict[str, Any]]:
        """One small dict per run (``uid scan_id plan_name time exit_status num_events``),
        from ``offset`` or after the run ``after`` (a uid, as :meth:`runs`)."""
        columns = ", ".join(f"runs.{k}" for k in SUMMARY_KEYS)
        rows = self._pages(
            columns, offset=offset, limit=limit, after=after, size=min(limit or 1000, 5000)
        )
        out = []
        for row in rows:
            summary = dict(zip(SUMMARY_KEYS, row, strict=True))
            summary["exit_status"] = summary["exit_status"] or INCOMPLETE
            out.append(summary)
        return out

    # -- writing ----------------------------------------------------------------------
    def writer(self, **options: Any) -> CatalogWriter:
        """A subscriber storing the documents it receives (see :class:`CatalogWriter`)."""
        return CatalogWriter(self, **options)

    def import_documents(
        self,
        documents: Iterable[tuple[str, Document]] | str | os.PathLike[str],
        *,
        skip_existing: bool = True,
    ) -> list[str]:
        """Store documents (pairs, or a ``.jsonl``/``.msgpack`` archive); return new run uids."""
        if isinstance(documents, (str, os.PathLike)):
            documents = iter_documents(Path(documents))
        writer = CatalogWriter(
            self,
            batch_size=20_000,
            max_delay=0,
            on_duplicate="skip" if skip_existing else "error",
            durable=False,
        )
        uids: list[str] = []
        with writer:
            for name, doc in documents:
                if name == "start":
                    uids.append(doc["uid"])
                writer(name, doc)
        if len(uids) > 100:
            self.optimize()
        return [u for u in uids if u not in writer.skipped]

    def optimize(self) -> None:
        """Refresh the database's statistics for its query planner (after large imports)."""
        with self.db.lock:
            if self.db.dialect.name == "sqlite":
                self.db.execute("PRAGMA optimize")
                self.db.execute("ANALYZE")
            else:  # VACUUM marks pages all-visible, so counts use index-only scans
                raw = self.db.raw
                raw.commit()
                raw.autocommit = True
                try:
                    raw.execute("VACUUM ANALYZE runs")
                    raw.execute("VACUUM ANALYZE run_keys")
                finally:
                    raw.autocommit = False

    def delete(self, uid: str) -> None:
        """Remove one run (given by its full uid) and all its documents."""
        db = self.db
        with db.transaction():
            rows = db.query("SELECT id FROM runs WHERE uid = ?", (uid,))
            if not rows:
                return
            ((run_id,),) = rows
            db.execute("DELETE FROM documents WHERE run_id = ?", (run_id,))
            KeyRows.of(db).delete(run_id)
            db.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    def close_run(self, uid: str, *, exit_status: str = "fail", reason: str = "") -> bool:
        """Give run ``uid``, left without a stop document (its writer died), one saying so:
        ``exit_status`` and ``reason``, the events stored counted per stream. ``False``
        when the run already has a stop document (nothing is changed)."""
        import time
        import uuid

        from ._documents import dumps

        with self.db.transaction():
            rows = self.db.query("SELECT stop FROM runs WHERE uid = ?", (uid,))
            if not rows:
                raise RunNotFoundError(f"no run {uid!r} in {self.uri}")
            if rows[0][0] is not None:
                return False
            streams = {
                d_uid: json.loads(doc).get("name", "primary")
                for d_uid, doc in self.db.query(
                    f"SELECT uid, doc FROM documents WHERE {RUN_DOCUMENTS} AND name = 'descriptor'",
                    (uid,),
                )
            }
            num_events: dict[str, int] = {name: 0 for name in streams.values()}
            for ref, count in self.db.query(
                f"SELECT ref, SUM(last_seq - first_seq + 1) FROM documents WHERE {RUN_DOCUMENTS} "
                "AND name IN ('events', 'event_page') GROUP BY ref",
                (uid,),
            ):
                if ref in streams:
                    num_events[streams[ref]] += int(count or 0)
            stop = {
                "uid": str(uuid.uuid4()),
                "time": time.time(),
                "run_start": uid,
                "exit_status": exit_status,
                "reason": reason,
                "num_events": num_events,
            }
            self.db.execute(
                "UPDATE runs SET exit_status = ?, stop_time = ?, num_events = ?, stop = ? "
                "WHERE uid = ?",
                (exit_status, stop["time"], sum(num_events.values()), dumps(stop), uid),
            )
        return True

    # -- lifecycle ----------------------------------------------------------------------
    def close(self) -> None:
        self.readers.close()
        self.db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_catalog(
    uri: str | None = None,
    *,
    readers: Mapping[str, ReaderFactory] | None = None,
    root_map: Mapping[str, str] | None = None,
    backends: Mapping[str, Callable[..., Any]] | None = None,
    plugin_manager: Any = None,
    create: bool = True,
    search_timeout: float | None = None,
) -> Catalog:
    """Open (creating or upgrading if needed) the catalog at ``uri``.

    :param uri: ``sqlite:///PATH`` (``sqlite:////abs/path``) or ``postgresql://...``;
        default ``$CIELO_CATALOG``, else ``catalog.sqlite`` in the user data directory (:func:`cielo.core.paths.data_dir`).
    :param readers: extra reader factories for external data, by mimetype or spec.
    :param root_map: ``{old_root: new_root}`` for external files that moved.
    :param backends: openers for other URI schemes (from the ``cielo_catalog_backends`` hook).
    :param create: create a missing SQLite catalog (else a :class:`CatalogError`).
    :param search_timeout: seconds a search may take before it is stopped with a
        :class:`QueryError` (default 10); regular expressions run in linear time on
        SQLite when ``google-re2`` is installed (the ``storage`` extra).
    :param plugin_manager: take readers and backends from its plugins' ``cielo_readers``
        and ``cielo_catalog_backends`` hooks (``readers``/``backends`` given here win).
    """
    uri = catalog_uri(uri)
    if plugin_manager is not None:  # a name two plugins offer is refused, naming both
        from cielo.core.plugins import Registry

        registry = Registry(plugin_manager)
        readers = dict(registry.get("readers")) | dict(readers or {})
        backends = dict(registry.get("catalog_backends")) | dict(backends or {})
    scheme = uri.split(":", 1)[0]
    if backends and scheme in backends and scheme not in ("sqlite", "postgresql", "postgres"):
        return backends[scheme](uri, readers=readers, root_map=root_map)  # type: ignore[no-any-return]
    db = connect(uri, create=create)
    if search_timeout is not None:
        db.search_timeout = float(search_timeout)
    try:
        migrate(db)
    except BaseException:
        db.close()
        raise
    return Catalog(db, readers=ReaderRegistry(readers, root_map))
