"""Conditions on run-start metadata on PostgreSQL (schema 7).

Equality and list elements of strings, booleans and ``None`` look up the hashes of
``runs.keys`` (one GIN index); numbers stay rows of ``run_keys``; strings are otherwise
read from the start document as JSON (ranges, regular expressions, substrings), narrowed
first by the trigram index of the runs' words where there is one.

A dotted key (``"proposal.id"``) names a nested key, or a key with a dot in its name, as
the catalog's flattened keys do: each way of reading it is one alternative.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from ._schema import _MAX_TEXT, PG_DOC, PG_TEXT, value_hashes

__all__ = ["hashed", "compare_scalar", "strings_match", "strings_match_parts", "substring"]

SQL = tuple[str, list[Any]]
#: A key with more dots than this is read only as fully nested or as one name.
MAX_DOTS = 4


def paths(key: str) -> list[list[str]]:
    """The ways of reading a dotted ``key`` as a path of nested keys."""
    parts = key.split(".")
    if len(parts) - 1 > MAX_DOTS:
        return [parts, [key]]
    out = []
    for cuts in itertools.product((False, True), repeat=len(parts) - 1):
        path, current = [], parts[0]
        for cut, part in zip(cuts, parts[1:], strict=True):
            if cut:
                path.append(current)
                current = part
            else:
                current += "." + part
        path.append(current)
        out.append(path)
    return out


def hashed(d: Any, key: str, typ: str, value: Any, elem: int) -> SQL:
    """The value under ``key`` (``elem`` 0), or an element of its list (1), is ``value``
    (typ ``s``, ``b`` or ``z``): a lookup of its hashes in ``runs.keys``."""
    ids = d.path_ids(key, typ, (elem,))
    if not ids:
        return "1 = 0", []  # never stored under this key
    num = 1.0 if value is True else 0.0
    txt = value[:_MAX_TEXT] if typ == "s" else None
    return "runs.keys && CAST(? AS BIGINT[])", [value_hashes((i, typ, num, txt) for i in ids)]


def compare_scalar(key: str, op: str, typ: str, value: Any) -> SQL:
    """``key OP value`` for a string (compared byte by byte) or a boolean, read run by run
    (no index: ranges of strings and booleans are rare)."""
    alternatives: list[str] = []
    params: list[Any] = []
    for path in paths(key):
        v = f"({PG_DOC} #> CAST(? AS TEXT[]))"
        if typ == "s":
            kind, read = "string", f"(({v}) #>> '{{}}') COLLATE \"C\""
        else:
            kind, read = "boolean", f"(({v}) #>> '{{}}')::boolean"
        alternatives.append(f"(json_typeof({v}) = '{kind}' AND {read} {op} ?)")
        params += [path, path, value]
    return " OR ".join(alternatives), params


def _prefilter(d: Any, pattern: str | None) -> SQL:
    """A condition on the runs' words every run matching must meet (a trigram index
    finds them), or one every run meets."""
    if not d.trigrams or pattern is None:
        return "1 = 1", []
    return f"{PG_TEXT} ~ ?", [pattern]


_UNSAFE = re.compile(r"[\^$]|\\[AZmMyYbB]|\(\?")


def unanchored(pattern: str) -> str | None:
    """A pattern the runs' words (all strings of the run, joined by spaces) match
    whenever one string matches ``pattern``: ``pattern`` without its leading ``^`` and
    trailing ``$``; None when it holds other anchors, word boundaries or lookaround."""
    body = pattern[1:] if pattern.startswith("^") else pattern
    if body.endswith("$"):
        before = body[:-1]
        if (len(before) - len(before.rstrip("\\"))) % 2 == 0:  # not an escaped "$"
            body = before
    if not body or _UNSAFE.search(body):
        return None
    return body


def strings_match(d: Any, key: str, pattern: str) -> SQL:
    """A string under ``key`` (its value or a list element) matches ``pattern``."""
    (pre, params), (check, more) = strings_match_parts(d, key, pattern)
    return f"{pre} AND ({check})", params + more


def strings_match_parts(d: Any, key: str, pattern: str) -> tuple[SQL, SQL]:
    """``(narrowing, check)`` of :func:`strings_match`: a condition on the runs' words
    (an index finds the runs), and the check of each run's start document."""
    alternatives, params = [], []
    for path in paths(key):
        alternatives.append(
            f"EXISTS (SELECT 1 FROM cielo_strings({PG_DOC}, CAST(? AS TEXT[])) AS s WHERE s ~ ?)"
        )
        params += [path, pattern]
    return _prefilter(d, unanchored(pattern)), (" OR ".join(alternatives), params)


def substring(d: Any, key: str, value: str) -> SQL:
    """The string under ``key`` (not a list element) contains ``value``."""
    pre, params = "", list[Any]()
    if d.trigrams and len(value) >= 3:
        escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pre, params = f"{PG_TEXT} LIKE ? AND ", [f"%{escaped}%"]
    alternatives = []
    for path in paths(key):
        v = f"({PG_DOC} #> CAST(? AS TEXT[]))"
        alternatives.append(f"(json_typeof({v}) = 'string' AND strpos(({v}) #>> '{{}}', ?) > 0)")
        params += [path, path, value]
    return f"{pre}({' OR '.join(alternatives)})", params
