"""Documents as JSON: numpy values and other containers made plain on the way out.

Shared by everything that serializes documents (the catalog, suitcases, the bus).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["dumps_document", "jsonable"]


def jsonable(value: Any) -> Any:
    """``json.dumps`` ``default=``: numpy arrays and scalars become lists and numbers."""
    tolist = getattr(value, "tolist", None)
    if tolist is not None:
        return tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"cannot store a {type(value).__name__} in a document: {value!r}")


_ENCODER = json.JSONEncoder(default=jsonable, separators=(",", ":"), allow_nan=True)


def dumps_document(doc: Any) -> str:
    """Compact JSON for a document (numpy values converted)."""
    return _ENCODER.encode(doc)
