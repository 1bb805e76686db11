"""One connection API over SQLite and PostgreSQL, so the catalog has one code path.

SQL is written once with ``?`` placeholders; :class:`Database` adapts it to the driver
(``%s`` for psycopg) and holds the few spellings that differ (:class:`Dialect`).
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ._errors import CatalogError

__all__ = ["Database", "Dialect", "connect", "expand_uri", "default_catalog_uri"]


def default_catalog_uri() -> str:
    """``sqlite:///`` + ``${XDG_DATA_HOME:-~/.local/share}/cielo/catalog.sqlite``."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return "sqlite:///" + str(Path(base) / "cielo" / "catalog.sqlite")


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_uri(uri: str) -> str:
    """Expand ``${VAR}``, ``${VAR:-default}`` and a leading ``~`` in a sqlite path."""
    uri = _VAR.sub(lambda m: os.environ.get(m.group(1)) or (m.group(2) or ""), uri)
    if uri.startswith("sqlite:///~"):
        uri = "sqlite:///" + os.path.expanduser(uri[len("sqlite:///") :])
    return uri


class Dialect:
    """The spellings that differ between SQLite and PostgreSQL."""

    def __init__(self, name: str) -> None:
        self.name = name
        pg = name == "postgresql"
        self.real = "DOUBLE PRECISION" if pg else "REAL"
        self.regex = "{} ~ ?" if pg else "{} REGEXP ?"
        self.instr = "strpos({}, ?) > 0" if pg else "instr({}, ?) > 0"

    def fulltext(self) -> str:
        """A condition on ``runs`` matching the bound full-text query."""
        if self.name == "postgresql":
            return "runs.tsv @@ plainto_tsquery('simple', ?)"
        return "runs.uid IN (SELECT uid FROM runs_fts WHERE runs_fts MATCH ?)"

    def fulltext_param(self, text: str) -> str:
        if self.name == "postgresql":
            return text
        words = re.findall(r"\w+", text)
        if not words:
            raise CatalogError(f"full-text query {text!r} has no words to search for")
        return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def _regexp(pattern: str, value: Any) -> bool:
    return value is not None and re.search(pattern, str(value)) is not None


class Database:
    """A thread-safe connection with transactions; ``?`` placeholders everywhere."""

    def __init__(self, uri: str, raw: Any, dialect: Dialect) -> None:
        self.uri = uri
        self.raw = raw
        self.dialect = dialect
        self.lock = threading.RLock()
        self._pg = dialect.name == "postgresql"
        self._depth = 0

    def _sql(self, sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s") if self._pg else sql

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """Everything inside commits together, or not at all."""
        with self.lock:
            self._depth += 1
            try:
                yield self
            except BaseException:
                if self._depth == 1:
                    self.raw.rollback()
                raise
            else:
                if self._depth == 1:
                    self.raw.commit()
            finally:
                self._depth -= 1

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self.lock:
            self.raw.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        with self.lock:
            if self._pg:
                with self.raw.cursor() as cur:
                    cur.executemany(self._sql(sql), rows)
            else:
                self.raw.executemany(sql, rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.lock:
            cur = self.raw.execute(self._sql(sql), tuple(params))
            rows = cur.fetchall()
            if self._pg and self._depth == 0:
                self.raw.commit()  # end the implicit read transaction: see new writes
            return rows

    def close(self) -> None:
        with self.lock:
            self.raw.close()


def connect(uri: str) -> Database:
    """Open ``sqlite:///PATH`` (``sqlite:///:memory:``) or ``postgresql://...``."""
    uri = expand_uri(uri)
    scheme = urlsplit(uri).scheme
    if scheme == "sqlite":
        if not uri.startswith("sqlite:///"):
            raise CatalogError(
                f"bad SQLite catalog URI {uri!r}: write sqlite:///relative/path or "
                "sqlite:////absolute/path (three slashes, then the path)"
            )
        path = uri[len("sqlite:///") :]
        if not path:
            raise CatalogError(f"catalog URI {uri!r} has no file path after sqlite:///")
        if path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        try:
            raw = sqlite3.connect(
                path, check_same_thread=False, isolation_level="DEFERRED", timeout=30
            )
        except sqlite3.Error as exc:
            raise CatalogError(f"cannot open SQLite catalog {path!r}: {exc}") from exc
        raw.create_function("regexp", 2, _regexp, deterministic=True)
        if path != ":memory:":
            raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("PRAGMA synchronous=FULL")
        raw.execute("PRAGMA foreign_keys=ON")
        return Database(uri, raw, Dialect("sqlite"))
    if scheme in ("postgresql", "postgres"):
        try:
            import psycopg
        except ImportError as exc:
            raise CatalogError(
                f"catalog {uri!r} needs psycopg: pip install 'psycopg[binary]'"
            ) from exc
        try:
            pg = psycopg.connect(uri)
        except psycopg.Error as exc:
            raise CatalogError(f"cannot connect to PostgreSQL catalog {uri!r}: {exc}") from exc
        return Database(uri, pg, Dialect("postgresql"))
    raise CatalogError(
        f"unknown catalog URI scheme {scheme!r} in {uri!r}; use sqlite:///PATH or "
        "postgresql://USER@HOST:PORT/DBNAME (or a scheme offered by a plugin)"
    )
