"""DBR structures as numpy records: the layout of each type, values out, values in.

pyepics' ``epics.dbr`` names every DBR structure as a ctypes type; a numpy record type
of the same layout lets a whole batch of one type be decoded a column at a time (values,
time stamps, severities), where reading ctypes attributes would cost microseconds per
channel.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._transport import epics_module

__all__ = [
    "UNANSWERED",
    "Answers",
    "Value",
    "array_value",
    "ctrl_values",
    "dtype",
    "encode",
    "event_value",
    "time_values",
]

#: Marker left in a record's status field until an answer overwrites it.
UNANSWERED = -1
STRING, ENUM, CHAR = 0, 3, 4
#: Native DBR type -> numpy dtype of its elements.
NUMPY = {1: "<i2", 2: "<f4", 3: "<u2", 4: "|u1", 5: "<i4", 6: "<f8"}
#: ``(value, timestamp, severity)`` of one get or monitor update.
Value = tuple[Any, float, int]

_dtypes: dict[int, np.dtype[Any]] = {}


def dtype(dbr_type: int) -> np.dtype[Any]:
    """The numpy record type of one ``dbr_type`` structure holding one element."""
    found = _dtypes.get(dbr_type)
    if found is not None:
        return found
    dbr = epics_module().dbr
    struct = dbr.Map[dbr_type]
    names: list[str] = []
    formats: list[Any] = []
    offsets: list[int] = []
    for name, ctype in struct._fields_:
        offset = getattr(struct, name).offset
        if name.startswith("RISC"):
            continue
        if name == "stamp":
            names += ["secs", "nsec"]
            formats += ["<u4", "<u4"]
            offsets += [offset, offset + 4]
            continue
        if name == "value":
            native = dbr.native_type(dbr_type)
            fmt: Any = "S40" if native == STRING else NUMPY[native]
        elif issubclass(ctype, ctypes.Array) and ctype._type_ is ctypes.c_char:
            fmt = f"S{ctype._length_}"
        elif issubclass(ctype, ctypes.Array):  # enum strings: char[16][26]
            fmt = (f"S{ctype._type_._length_}", ctype._length_)
        else:
            fmt = np.dtype(ctype)
        names.append(name)
        formats.append(fmt)
        offsets.append(offset)
    found = np.dtype(
        {"names": names, "formats": formats, "offsets": offsets, "itemsize": ctypes.sizeof(struct)}
    )
    _dtypes[dbr_type] = found
    return found


class Answers:
    """The answers to a batch of gets: per request, a record of its DBR structure (and
    the whole value of an array), or the text of why there is none."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.errors: dict[int, str] = {}
        #: ``(request indices, records)``: scalars of one DBR type share one array.
        self.groups: list[tuple[list[int], np.ndarray[Any, Any]]] = []
        #: request index -> ``(record, value)`` of an array.
        self.arrays: dict[int, tuple[Any, Any]] = {}


def text(raw: bytes) -> str:
    """A C string of a DBR (NUL-terminated, maybe followed by garbage)."""
    return raw.split(b"\0", 1)[0].decode(errors="replace")


def array_value(raw: np.ndarray[Any, Any], dbr_type: int, count: int, offset: int) -> Any:
    """The ``count`` elements at ``offset`` of a DBR's bytes: a list of strings or a
    numpy array (a copy)."""
    native = epics_module().dbr.native_type(dbr_type)
    if native == STRING:
        chunk = raw[offset : offset + 40 * count].tobytes()
        return [text(chunk[i : i + 40]) for i in range(0, len(chunk), 40)]
    return np.frombuffer(raw, dtype=NUMPY[native], count=count, offset=offset).copy()


def _stamp(secs: int, nsec: int) -> float:
    """The Unix time of an EPICS time stamp (computed alike for gets and monitors)."""
    epoch: float = epics_module().dbr.EPICS2UNIX_EPOCH
    return (secs + epoch) + 1e-9 * nsec


def time_values(answers: Answers) -> list[Value | str]:
    """``(value, timestamp, severity)`` of each ``DBR_TIME_*`` answer, or why it failed."""
    epoch = epics_module().dbr.EPICS2UNIX_EPOCH
    out: list[Value | str] = [""] * answers.size
    for indices, records in answers.groups:
        values = records["value"].tolist()
        if records.dtype["value"].kind == "S":
            values = [text(v) for v in values]
        stamps = ((records["secs"] + epoch) + 1e-9 * records["nsec"]).tolist()
        severities = records["severity"].tolist()
        for i, value, stamp, severity in zip(indices, values, stamps, severities, strict=True):
            out[i] = (value, stamp, severity)
    for i, (record, value) in answers.arrays.items():
        out[i] = (value, _stamp(int(record["secs"]), int(record["nsec"])), int(record["severity"]))
    for i, error in answers.errors.items():
        out[i] = error
    return out


def ctrl_values(answers: Answers) -> list[dict[str, Any] | None]:
    """The control information (units, precision, limits, enum strings, keyed as pyepics
    names them) of each ``DBR_CTRL_*`` answer; ``None`` where it failed."""
    out: list[dict[str, Any] | None] = [None] * answers.size
    for indices, records in answers.groups:
        names = [n for n in records.dtype.names or () if n not in ("status", "value")]
        columns = [records[n].tolist() for n in names]
        for k, i in enumerate(indices):
            md = {n: column[k] for n, column in zip(names, columns, strict=True)}
            if "units" in md:
                md["units"] = text(md["units"])
            if "strs" in md:
                md["enum_strs"] = tuple(text(t) for t in md.pop("strs")[: md.pop("no_str")])
            out[i] = md
    for i in answers.errors:
        out[i] = None
    return out


def event_value(raw: bytes, dbr_type: int, count: int, offset: int, *, array: bool) -> Value:
    """``(value, timestamp, severity)`` of one ``DBR_TIME_*`` structure holding ``count``
    elements (a callback's); ``array``: return an array even for one element."""
    layout = dtype(dbr_type)
    if len(raw) < layout.itemsize:  # libca's size leaves out the structure's padding
        raw += bytes(layout.itemsize - len(raw))
    record = np.frombuffer(raw, dtype=layout, count=1)[0]
    if not array:
        value = record["value"].item()
        if isinstance(value, bytes):
            value = text(value)
    else:
        value = array_value(np.frombuffer(raw, np.uint8), dbr_type, count, offset)
    return value, _stamp(int(record["secs"]), int(record["nsec"])), int(record["severity"])


def encode(value: Any, native: int, nelm: int, enum_strs: Sequence[str] = ()) -> tuple[Any, int]:
    """``(buffer, count)`` holding ``value`` as the channel's native type.

    Enum strings become their index; text written to a char array becomes its bytes and
    a NUL. Raises ``ValueError`` saying why when the value does not fit.
    """
    if native == ENUM and isinstance(value, str):
        if value not in enum_strs:
            raise ValueError(f"not one of its states {list(enum_strs)}")
        value = list(enum_strs).index(value)
    if native == STRING:
        items = [value] if isinstance(value, (str, bytes)) else list(value)
        count = min(len(items), nelm) or 1
        buffer = ctypes.create_string_buffer(40 * count)
        for i, item in enumerate(items[:count]):
            raw = item if isinstance(item, bytes) else str(item).encode()
            if len(raw) > 39:
                raise ValueError(f"{len(raw)} characters; an EPICS string holds 39 at most")
            ctypes.memmove(ctypes.addressof(buffer) + 40 * i, raw, len(raw))
        return buffer, count
    if native == CHAR and isinstance(value, (str, bytes)) and nelm > 1:
        raw = value if isinstance(value, bytes) else value.encode()
        value = list(raw[: nelm - 1]) + [0]
    try:
        array = np.ascontiguousarray(np.atleast_1d(np.asarray(value)), dtype=NUMPY[native])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not a {NUMPY[native]} value ({exc})") from exc
    return array, min(array.size, nelm) or 1
