"""Running an allowed function as a queue item (in the worker, between plans).

A function item ``{"item_type": "function", "name": NAME, "args": [...], "kwargs": {...}}``
names one of the profile's ``[functions] allow``; the worker calls it with the item's
JSON arguments as they are (device names are not turned into devices) in its main
thread, never while a plan runs. Its return value goes to the item's history
``result.return_value``: as it is when JSON can encode it, else its ``repr``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["call_function", "encodable"]


def call_function(functions: Mapping[str, Any], item: Mapping[str, Any]) -> Any:
    """Call the function ``item`` names with its arguments; its return value, encodable."""
    name = str(item.get("name"))
    func = functions.get(name)
    if func is None:  # the catalog refused it at submission; the profile changed since
        raise LookupError(
            f"function {name!r} is not in the profile's [functions] allow "
            f"(allowed: {', '.join(sorted(functions)) or 'none'}); reload the environment"
        )
    return encodable(func(*item.get("args", []), **item.get("kwargs", {})))


def encodable(value: Any) -> Any:
    """``value`` when JSON can encode it, else its ``repr``."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return repr(value)
    return value
