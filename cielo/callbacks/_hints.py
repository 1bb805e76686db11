"""Read plotting and table hints from run start and descriptor documents."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "dimensions",
    "hinted_fields",
    "is_scalar",
    "is_external",
    "is_numeric",
    "image_fields",
    "independent_fields",
]


def dimensions(start: Mapping[str, Any], stream: str = "primary") -> list[list[str]]:
    """The independent axes of a run's ``stream``: one list of field names per dimension.

    Read from ``start["hints"]["dimensions"]`` (``[[["motor"], "primary"], ...]``). Without
    hints, each motor of ``start["motors"]`` is one dimension; with neither, the run has
    one dimension, ``time``.
    """
    hinted = (start.get("hints") or {}).get("dimensions")
    if hinted:
        return [list(fields) for fields, s in hinted if s == stream]
    motors = start.get("motors") or []
    if motors:
        return [[m] for m in motors]
    return [["time"]]


def independent_fields(start: Mapping[str, Any], stream: str = "primary") -> list[str]:
    """The first field of each dimension of ``stream`` (``time`` for a count)."""
    return [fields[0] for fields in dimensions(start, stream) if fields]


def is_scalar(data_key: Mapping[str, Any]) -> bool:
    """Whether a data key describes one number, string or boolean per event."""
    return not data_key.get("shape") and data_key.get("dtype") != "array"


def is_external(data_key: Mapping[str, Any]) -> bool:
    """Whether the value lives outside the event (a file referenced by resources)."""
    return bool(data_key.get("external"))


def is_numeric(data_key: Mapping[str, Any]) -> bool:
    """Whether a data key describes one number per event, in the event (plottable, fittable).

    Strings (a shutter's ``"open"``), booleans, arrays and external values are not.
    """
    return (
        is_scalar(data_key)
        and data_key.get("dtype") in ("number", "integer")
        and not is_external(data_key)
    )


def hinted_fields(descriptor: Mapping[str, Any], *, fallback: bool = True) -> list[str]:
    """The fields a descriptor's hints ask to show, in object order, without repeats.

    With no hints at all and ``fallback``, every scalar number of ``data_keys``.
    """
    data_keys: Mapping[str, Any] = descriptor.get("data_keys") or {}
    fields: list[str] = []
    for hint in (descriptor.get("hints") or {}).values():
        for f in (hint or {}).get("fields") or ():
            if f in data_keys and f not in fields:
                fields.append(f)
    if fields or not fallback:
        return fields
    return [
        k
        for k, v in data_keys.items()
        if is_scalar(v) and v.get("dtype") in ("number", "integer") and not is_external(v)
    ]


def image_fields(descriptor: Mapping[str, Any], detectors: Sequence[str] = ()) -> list[str]:
    """Fields holding 2D frames (``shape`` of 2, or 3 with a leading frame axis).

    Hinted frame fields, and the frame fields of the hinted objects or of ``detectors``
    (an area detector usually hints a total, not its frames).
    """
    data_keys: Mapping[str, Any] = descriptor.get("data_keys") or {}
    objects = set(descriptor.get("hints") or {}) | set(detectors)
    object_keys: Mapping[str, Any] = descriptor.get("object_keys") or {}
    candidates = list(hinted_fields(descriptor, fallback=False))
    for obj, keys in object_keys.items():
        if obj in objects:
            candidates += [k for k in keys if k not in candidates]
    return [
        f
        for f in candidates
        if f in data_keys
        and (len(data_keys[f].get("shape") or ()) == 2 or _frames_3d(data_keys[f]))
    ]


def _frames_3d(data_key: Mapping[str, Any]) -> bool:
    shape: Sequence[int] = data_key.get("shape") or ()
    return len(shape) == 3 and shape[0] == 1
