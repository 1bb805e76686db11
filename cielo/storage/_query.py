"""Queries over runs: small composable objects compiled to SQL for either backend.

Build them with :class:`Key` (``Key("sample") == "Si"``, ``Key("temperature") > 300``,
``Key("tags").contains("powder")``, ``Key("sample").regex("^Si")``) or the classes
below; combine with ``&``, ``|`` and ``~``. :func:`parse_query` reads the same from a
Mongo-style mapping (``{"scan_id": {"$gte": 3}, "$text": "silicon"}``), as the CLI does.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from . import _pgkeys
from ._database import Dialect
from ._errors import QueryError

__all__ = [
    "And",
    "Compare",
    "Contains",
    "ExitStatus",
    "FullText",
    "In",
    "Key",
    "Not",
    "Or",
    "PlanName",
    "Query",
    "Regex",
    "ScanID",
    "TimeRange",
    "Uid",
    "parse_query",
]

SQL = tuple[str, list[Any]]
_COLUMNS = {"uid", "scan_id", "time", "plan_name", "exit_status", "stop_time", "num_events"}
_OPS = {"==": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
INCOMPLETE = "incomplete"
#: What :func:`ExitStatus` accepts: the stop document's values, and ``incomplete``.
EXIT_STATUSES = ("success", "abort", "fail", INCOMPLETE)


_PLANNING = ("indexed", "range", "literal")  # attributes for the planner, not part of the condition


class Query:
    """A condition on runs; ``&``, ``|`` and ``~`` combine conditions."""

    #: True when the database finds the matching runs through an index, so counting a
    #: few of them is cheap (the catalog plans a search by such counts).
    indexed = False

    def sql(self, d: Dialect) -> SQL:  # pragma: no cover - abstract
        raise NotImplementedError

    def parts(self, d: Dialect) -> tuple[SQL, SQL] | None:
        """``(narrowing, check)`` when the condition is a cheap one found through an index
        and a costly check of each run it finds (the catalog checks only as many runs, in
        order, as a page needs), else None."""
        return None

    def __and__(self, other: Query) -> Query:
        return And(self, other)

    def __or__(self, other: Query) -> Query:
        return Or(self, other)

    def __invert__(self) -> Query:
        return Not(self)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k not in _PLANNING)
        return f"{type(self).__name__}({fields})"


class And(Query):
    def __init__(self, *queries: Query) -> None:
        self.queries = queries

    def sql(self, d: Dialect) -> SQL:
        return _join(self.queries, " AND ", d, "1 = 1")


class Or(Query):
    def __init__(self, *queries: Query) -> None:
        self.queries = queries

    def sql(self, d: Dialect) -> SQL:
        return _join(self.queries, " OR ", d, "1 = 0")


class Not(Query):
    def __init__(self, query: Query) -> None:
        self.query = query

    def sql(self, d: Dialect) -> SQL:
        text, params = self.query.sql(d)
        return f"NOT ({text})", params


def _join(queries: Iterable[Query], sep: str, d: Dialect, empty: str) -> SQL:
    parts, params = [], []
    for q in queries:
        text, p = q.sql(d)
        parts.append(f"({text})")
        params += p
    return (sep.join(parts) or empty), params


def _typed(key: str, value: Any) -> tuple[str, str, Any]:
    """``(typ, column, bound value)`` for a run_keys comparison."""
    if isinstance(value, bool):
        return "b", "num", float(value)
    if isinstance(value, (int, float)):
        return "n", "num", _as_float(value)
    if isinstance(value, str):
        return "s", "txt", value
    raise QueryError(
        f"cannot compare metadata key {key!r} with {value!r} ({type(value).__name__}); "
        "use a number, string or boolean (or Key(...).contains for list elements)"
    )


def _as_float(value: int | float) -> float:
    try:
        return float(value)
    except OverflowError:  # an integer past the float range: beyond every stored number
        return math.inf if value > 0 else -math.inf


def _column_value(value: Any) -> Any:
    """An integer too large for the database's 64-bit integers compares as a float."""
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        return _as_float(value)
    return value


#: How every condition on one run-start key begins (``Catalog.__len__`` counts such a
#: condition from the index of keys alone, without visiting the runs).
KEYS_PREFIX = "runs.id IN (SELECT run_id FROM run_keys WHERE "


def _keys(where: str, params: list[Any]) -> SQL:
    return f"{KEYS_PREFIX}{where})", params


def _pg(d: Dialect) -> bool:
    """PostgreSQL: run-start metadata is matched as JSONB (numbers' ranges as rows)."""
    return d.name == "postgresql"


def _path(d: Dialect, key: str, typ: str, elems: tuple[int, ...] = (0,)) -> SQL:
    """The ``run_keys`` condition naming the paths of ``key`` with type ``typ`` at
    ``elems`` (0: the value itself, 1: an element of a list): their numbers as constants
    when the catalog knows them (so the database's planner sees which path it is), else
    looked up in ``key_paths``."""
    if d.path_ids is not None:
        ids = d.path_ids(key, typ, elems)
        if not ids:
            return "path IS NULL", []  # a key never stored: nothing matches
        return f"path IN ({', '.join('?' * len(ids))})", list(ids)
    marks = ", ".join("?" * len(elems))
    return (
        f"path IN (SELECT id FROM key_paths WHERE key = ? AND typ = ? AND elem IN ({marks}))",
        [key, typ, *elems],
    )


class Compare(Query):
    """``key OP value`` with OP one of ``== != < <= > >=``, for any run-start key.

    Dotted keys reach into nested metadata (``"sample.name"``). Strings compare as text,
    numbers as numbers. ``!=`` also matches runs that lack the key.
    """

    def __init__(self, key: str, op: str, value: Any) -> None:
        if op not in _OPS:
            raise QueryError(f"unknown comparison {op!r}; use one of {', '.join(_OPS)}")
        self.key, self.op, self.value = key, op, value
        self.indexed = key not in _COLUMNS and op != "!="

    def sql(self, d: Dialect) -> SQL:
        key, op, value = self.key, self.op, self.value
        if key == "exit_status" and value == INCOMPLETE and op in ("==", "!="):
            return (
                "runs.exit_status IS NULL" if op == "==" else "runs.exit_status IS NOT NULL"
            ), []
        if key in _COLUMNS:
            if value is None:
                return f"runs.{key} IS {'NOT ' if op == '!=' else ''}NULL", []
            return f"runs.{key} {_OPS[op]} ?", [_column_value(value)]
        if op == "!=":
            return Not(Compare(key, "==", value)).sql(d)
        if value is None:
            if op != "==":
                raise QueryError(f"cannot order metadata key {key!r} against None")
            return _pgkeys.hashed(d, key, "z", None, 0) if _pg(d) else _keys(*_path(d, key, "z"))
        typ, column, bound = _typed(key, value)
        if _pg(d) and typ != "n":
            if op == "==":
                return _pgkeys.hashed(d, key, typ, value, 0)
            return _pgkeys.compare_scalar(key, _OPS[op], typ, value)
        path, params = _path(d, key, typ)
        return _keys(f"{path} AND {d.value(column)} {_OPS[op]} ?", [*params, bound])


class Contains(Query):
    """The list under ``key`` has ``value`` as an element, or the string contains it."""

    def __init__(self, key: str, value: Any) -> None:
        self.key, self.value = key, value
        self.indexed = key not in _COLUMNS

    def sql(self, d: Dialect) -> SQL:
        typ, column, bound = _typed(self.key, self.value)
        if self.key in _COLUMNS and typ == "s":
            return d.instr.format(f"runs.{self.key}"), [bound]
        if _pg(d) and typ != "n":
            where, params = _pgkeys.hashed(d, self.key, typ, self.value, 1)
            if typ == "s" and _path(d, self.key, "s") != ("path IS NULL", []):
                text, more = _pgkeys.substring(d, self.key, bound)
                where, params = f"({where}) OR ({text})", [*params, *more]
            return where, params
        # each branch names the key: each is a range of an index of run_keys
        path, params = _path(d, self.key, typ, (1,))
        where = f"({path} AND {d.value(column)} = ?)"
        params.append(bound)
        if typ == "s":
            path, more = _path(d, self.key, "s")
            if more or d.path_ids is None:  # (a string never stored under the key: no branch)
                where += f" OR ({path} AND {d.instr.format(d.value('txt'))})"
                params += [*more, bound]
        return _keys(where, params)


class In(Query):
    """The value under ``key`` is one of ``values``."""

    def __init__(self, key: str, values: Iterable[Any]) -> None:
        if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
            raise QueryError(
                f"$in for {key!r} needs a list of values, not {values!r}; "
                'e.g. {"$in": ["a", "b"]} (on the CLI: --where \'KEY in ["a", "b"]\')'
            )
        self.key, self.values = key, list(values)

    def sql(self, d: Dialect) -> SQL:
        if not self.values:
            return "1 = 0", []
        return Or(*(Compare(self.key, "==", v) for v in self.values)).sql(d)


class Regex(Query):
    """The string under ``key`` matches a regular expression (searched, not anchored)."""

    def __init__(self, key: str, pattern: str) -> None:
        if not isinstance(pattern, str):
            raise QueryError(f"regex for {key!r} must be a string, not {pattern!r}")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise QueryError(
                f"regex for {key!r} is not valid ({pattern!r}: {exc}); escape special "
                "characters with a backslash, e.g. '\\(' for a literal '('"
            ) from None
        self.key, self.pattern = key, pattern
        prefix = _literal_prefix(pattern)
        self.range = _prefix_range(prefix) if prefix else None
        self.indexed = self.range is not None and key not in _COLUMNS
        #: ``^abc`` alone: the range of the index is the whole condition
        self.literal = self.range is not None and pattern == "^" + prefix

    def sql(self, d: Dialect) -> SQL:
        pattern = d.regex_param(self.pattern)
        if self.key in _COLUMNS:
            return d.regex.format(f"runs.{self.key}"), [pattern]
        if _pg(d):
            return _pgkeys.strings_match(d, self.key, pattern)
        path, params = _path(d, self.key, "s", (0, 1))
        where = f"{path} AND "
        txt = d.value("txt")
        if self.range:  # ^abc...: only the strings from "abc" up to "abd" are tried
            column = d.bytewise(txt)
            where += f"{column} >= ? AND {column} < ?"
            params += list(self.range)
            if self.literal:
                return _keys(where, params)
            where += " AND "
        return _keys(where + d.regex.format(txt), [*params, pattern])

    def parts(self, d: Dialect) -> tuple[SQL, SQL] | None:
        if not _pg(d) or self.key in _COLUMNS:
            return None
        return _pgkeys.strings_match_parts(d, self.key, d.regex_param(self.pattern))


_META = set(".^$*+?{}[]\\|()")


def _literal_prefix(pattern: str) -> str:
    """The text every match of an anchored ``pattern`` begins with ('' if none is known)."""
    if not pattern.startswith("^") or pattern.startswith("^(?") or "|" in pattern:
        return ""  # (an alternative need not begin with the same text)
    prefix = ""
    for i, char in enumerate(pattern[1:], 1):
        if char in _META:
            if char in "*?{" and prefix:  # the last literal may repeat or be absent
                prefix = prefix[:-1]
            return prefix
        if i + 1 < len(pattern) and pattern[i + 1] in "*?{":
            return prefix
        prefix += char
    return prefix


def _prefix_range(prefix: str) -> tuple[str, str] | None:
    """``(prefix, above)``: the strings starting with ``prefix`` lie in ``[prefix, above)``
    compared byte by byte (None when its last character is the highest there is)."""
    if ord(prefix[-1]) == 0x10FFFF:
        return None
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


class FullText(Query):
    """Every word of ``text`` occurs among the run-start metadata's string values."""

    def __init__(self, text: str) -> None:
        if not re.search(r"\w", str(text)):
            raise QueryError(
                f"full-text query {text!r} has no words to search for; give words found in "
                "the run metadata, e.g. 'silicon powder'"
            )
        self.text = text

    indexed = True

    def sql(self, d: Dialect) -> SQL:
        return d.fulltext(self.text), [d.fulltext_param(self.text)]


class Uid(Query):
    """A run uid, or its beginning (at least 3 characters)."""

    def __init__(self, uid: str, *, partial: bool = True) -> None:
        if partial and len(uid) < 3:
            raise QueryError(f"partial uid {uid!r} is too short; give at least 3 characters")
        self.uid, self.partial = uid, partial

    def sql(self, d: Dialect) -> SQL:
        if not self.partial:
            return "runs.uid = ?", [self.uid]
        bounds = _prefix_range(self.uid)
        if bounds is None:
            return "substr(runs.uid, 1, ?) = ?", [len(self.uid), self.uid]
        # a range of the uid index: prefix <= uid < prefix with its last character + 1
        column = d.bytewise("runs.uid")
        return f"{column} >= ? AND {column} < ?", list(bounds)


class ScanID(Query):
    """``ScanID(7)``: runs with scan id 7; ``ScanID(start=3, stop=7)``: the inclusive range;
    ``ScanID(any_of=[3, 7])``: the set {3, 7}."""

    def __init__(
        self,
        *scan_id: int,
        start: int | None = None,
        stop: int | None = None,
        any_of: Iterable[int] = (),
    ) -> None:
        if len(scan_id) > 1:  # once accepted as a set, and read as a range
            listed = ", ".join(map(str, scan_id))
            raise QueryError(
                f"ScanID({listed}) is ambiguous: write ScanID(start={scan_id[0]}, "
                f"stop={scan_id[-1]}) for the range or ScanID(any_of=[{listed}]) for the set"
            )
        self.scan_ids = [int(s) for s in (*scan_id, *any_of)]
        self.start, self.stop = start, stop

    def sql(self, d: Dialect) -> SQL:
        parts: list[Query] = []
        if self.scan_ids:
            parts.append(In("scan_id", self.scan_ids))
        bounds: list[Query] = []
        if self.start is not None:
            bounds.append(Compare("scan_id", ">=", int(self.start)))
        if self.stop is not None:
            bounds.append(Compare("scan_id", "<=", int(self.stop)))
        if bounds:
            parts.append(And(*bounds))
        return Or(*parts).sql(d) if parts else ("1 = 1", [])


def to_timestamp(value: Any) -> float:
    """Seconds since the epoch from a number, a datetime or an ISO 8601 string."""
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            value = _dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise QueryError(
                f"time {value!r} is not ISO 8601 (e.g. 2026-11-22 or 2026-11-22T05:30)"
            ) from exc
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        value = _dt.datetime(value.year, value.month, value.day)
    if isinstance(value, _dt.datetime):
        return value.timestamp()  # naive times are local time
    raise QueryError(f"cannot read a time from {value!r}")


class TimeRange(Query):
    """Runs started at or after ``since`` and before ``until`` (epoch, datetime, ISO)."""

    def __init__(self, since: Any = None, until: Any = None) -> None:
        self.since = None if since is None else to_timestamp(since)
        self.until = None if until is None else to_timestamp(until)

    def sql(self, d: Dialect) -> SQL:
        parts: list[Query] = []
        if self.since is not None:
            parts.append(Compare("time", ">=", self.since))
        if self.until is not None:
            parts.append(Compare("time", "<", self.until))
        return And(*parts).sql(d)


def PlanName(name: str) -> Query:
    """Runs of the plan called ``name``."""
    return Compare("plan_name", "==", name)


def ExitStatus(status: str) -> Query:
    """Runs that ended with ``status`` (``success``, ``abort``, ``fail``, ``incomplete``)."""
    if status not in EXIT_STATUSES:
        raise QueryError(
            f"exit status {status!r} is not one of {', '.join(EXIT_STATUSES)} "
            "(incomplete: the run has no stop document)"
        )
    return Compare("exit_status", "==", status)


class Key:
    """Builds queries on one run-start key: ``Key("sample") == "Si"``."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __eq__(self, value: Any) -> Query:  # type: ignore[override]
        return Compare(self.key, "==", value)

    def __ne__(self, value: Any) -> Query:  # type: ignore[override]
        return Compare(self.key, "!=", value)

    def __lt__(self, value: Any) -> Query:
        return Compare(self.key, "<", value)

    def __le__(self, value: Any) -> Query:
        return Compare(self.key, "<=", value)

    def __gt__(self, value: Any) -> Query:
        return Compare(self.key, ">", value)

    def __ge__(self, value: Any) -> Query:
        return Compare(self.key, ">=", value)

    def contains(self, value: Any) -> Query:
        return Contains(self.key, value)

    def in_(self, values: Iterable[Any]) -> Query:
        return In(self.key, values)

    def regex(self, pattern: str) -> Query:
        return Regex(self.key, pattern)

    __hash__ = None  # type: ignore[assignment]


_MONGO = {"$eq": "==", "$ne": "!=", "$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}


def parse_query(spec: Mapping[str, Any] | Query) -> Query:
    """A :class:`Query` from a Mongo-style mapping (all entries must hold).

    ``{"key": value}`` is equality; ``{"key": {"$gt": 1, "$lt": 5}}`` uses
    ``$eq $ne $lt $lte $gt $gte $in $nin $contains $regex``; ``"$text"`` is full text;
    ``"$and"``/``"$or"`` take lists, ``"$not"`` a mapping.
    """
    return _parse(spec, 0)


#: How deeply ``$and``/``$or``/``$not`` may nest in one query.
MAX_DEPTH = 32


def _parse(spec: Mapping[str, Any] | Query, depth: int) -> Query:
    if isinstance(spec, Query):
        return spec
    if not isinstance(spec, Mapping):
        raise QueryError(f"a query is a mapping or a Query, not {_short(spec)}")
    if depth > MAX_DEPTH:
        raise QueryError(f"the query nests $and/$or/$not more than {MAX_DEPTH} deep; flatten it")
    parts: list[Query] = []
    for key, value in spec.items():
        if not isinstance(key, str):
            raise QueryError(f"query keys are strings, not {key!r}")
        if key == "$text":
            parts.append(FullText(str(value)))
        elif key in ("$and", "$or"):
            if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
                raise QueryError(
                    f"{key} takes a list of queries, not {_short(value)}; "
                    f'e.g. {{"{key}": [{{"sample": "Si"}}, {{"scan_id": {{"$gt": 3}}}}]}}'
                )
            subs = [_parse(v, depth + 1) for v in value]
            parts.append(And(*subs) if key == "$and" else Or(*subs))
        elif key == "$not":
            if not isinstance(value, Mapping):
                raise QueryError(
                    f'$not takes a query, not {_short(value)}; e.g. {{"$not": {{"sample": "Si"}}}}'
                )
            parts.append(Not(_parse(value, depth + 1)))
        elif key.startswith("$"):
            raise QueryError(f"unknown query operator {key!r}; use $text, $and, $or or $not")
        elif isinstance(value, Mapping) and value and all(k.startswith("$") for k in value):
            for op, operand in value.items():
                parts.append(_operator(key, op, operand))
        else:
            parts.append(Compare(key, "==", value))
    return And(*parts) if len(parts) != 1 else parts[0]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _operator(key: str, op: str, operand: Any) -> Query:
    if op in _MONGO:
        return Compare(key, _MONGO[op], operand)
    if op == "$in":
        return In(key, operand)
    if op == "$nin":
        return Not(In(key, operand))
    if op == "$contains":
        return Contains(key, operand)
    if op == "$regex":
        return Regex(key, operand)
    raise QueryError(
        f"unknown operator {op!r} for key {key!r}; use one of "
        f"{', '.join([*_MONGO, '$in', '$nin', '$contains', '$regex'])}"
    )
