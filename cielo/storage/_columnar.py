"""Pages of events stored as columns: a few bytes per scalar reading.

A page (``pack_events``'s event page, with the catalog's ``_cielo_ord``) becomes one
raw-deflate buffer: a small JSON header, then one column per list of the page. Floats are
kept as their 64-bit patterns (bit-exact: NaN, -0.0), stored as differences from the
value before (times, readings), as nothing but the ends when they are
``numpy.linspace``'s (a step scan's positions) or, for timestamps, as the bits that
differ from the event's time or the steps of their lag behind it; integers as
differences, or as their first value and step when they count evenly (``seq_num``,
places in the run); canonical uuids as 16 bytes; each
column's bytes are grouped by byte position, so the sign, exponent and high mantissa
bytes that barely change compress to almost nothing. A list of any other values
(strings, arrays, mixed types) is kept as JSON, so every page reads back as the same page.

Format 2 (schema 9) keeps small pages small: deflate starts from a preset dictionary of
the header's usual words (a 10-event page's header took ~190 of its 550 bytes), and the
page's descriptor uid, which its row holds as ``ref``, is not stored again. Format 1
pages (schema 8) still read; :func:`recode_page` moves one to format 2.
"""

from __future__ import annotations

import json
import math
import zlib
from typing import Any

import numpy as np

from ._documents import dumps

__all__ = ["encode_page", "decode_page", "recode_page"]

FORMAT_1, FORMAT_2 = b"\x01", b"\x02"  # a stored page's first byte: its format
_INT64 = (-(2**63), 2**63 - 1)
_ZERO, _ONE = np.uint64(0), np.uint64(1)

#: What deflate starts from in format 2 (never change it: stored pages depend on it).
#: The words most likely to follow come last (deflate reaches them in fewer bits).
PRESET = (
    b'"event_page","filled":{},"_cielo_keys":["uid","time","descriptor","seq_num","data",'
    b'"timestamps","filled"],"_cielo_keys":["uid","descriptor","time","seq_num","data",'
    b'"timestamps","filled"]},"o":["descriptor","uid","time","seq_num","data","timestamps",'
    b'"filled","_cielo_ord","_cielo_keys"],"k":[["u","uid"],["f","time"],["r",1,1,"seq_num"],'
    b'["i","data","],["b","data","],["j",["f","data","],["x","timestamps","],["r",2,1,"_cielo_ord"]]}'
    b'{"n":10,"d":1,"c":{"filled":{},"_cielo_keys":["uid","time","descriptor","seq_num",'
)


def _shuffle(words: np.ndarray) -> bytes:
    return words.view(np.uint8).reshape(len(words), 8).T.tobytes()


def _unshuffle(raw: bytes, n: int) -> np.ndarray:
    return np.frombuffer(raw, dtype=np.uint8).reshape(8, n).T.copy().view(np.uint64).ravel()


def _steps(words: np.ndarray) -> bytes:
    """The differences of ``words`` (wrapping), small negative ones kept small (zigzag:
    -1 is 1, 1 is 2), grouped by byte position."""
    signed = words.copy().view(np.int64)
    signed[1:] -= words[:-1].view(np.int64)
    return _shuffle(((signed << 1) ^ (signed >> 63)).view(np.uint64))


def _sums(raws: list[bytes], n: int, zigzag: bool) -> list[np.ndarray]:
    """The words of each column whose :func:`_steps` (format 1: differences without
    zigzag) are one of ``raws``."""
    if not raws:
        return []
    grouped = np.frombuffer(b"".join(raws), dtype=np.uint8).reshape(len(raws), 8, n)
    steps = grouped.transpose(0, 2, 1).copy().view(np.uint64).reshape(len(raws), n)
    if zigzag:
        steps = (steps >> _ONE) ^ (_ZERO - (steps & _ONE))
    return list(np.cumsum(steps, axis=1, dtype=np.uint64))


#: The keys of a page, in the order ``pack_events`` and the writer give them.
ORDER = [
    "descriptor", "uid", "time", "seq_num", "data", "timestamps", "filled", "_cielo_ord", "_cielo_keys",
]  # fmt: skip
_WIDTH = {"f": 8, "x": 8, "y": 8, "i": 8, "b": 1, "u": 16, "r": 0, "l": 0}
_NUMBERS = {"j": 1, "r": 2, "l": 2}
_SUMMED = {
    "f",
    "i",
    "y",
}  # kinds stored as differences  # numbers a column's kind has in the header


def _column(values: list[Any], time_bits: np.ndarray | None) -> tuple[list[Any], bytes]:
    """``([kind, ...], bytes)`` of one list of a page (``r``: first value and step)."""
    kinds = set(map(type, values))
    if kinds == {float} or all(isinstance(v, float) for v in values):
        bits = np.asarray(values, dtype=np.float64).view(np.uint64)
        if time_bits is not None:
            same = bits ^ time_bits
            if not same.any():
                return ["x"], _shuffle(same)
            # a fixed lag behind the event's time: its steps are near zero
            x, y = _shuffle(same), _steps(bits - time_bits)
            return (["x"], x) if x.count(0) >= y.count(0) else (["y"], y)
        first, last = values[0], values[-1]
        if (
            len(values) > 2
            and math.isfinite(first)
            and math.isfinite(last)
            and values[1] == first + (last - first) / (len(values) - 1)  # (cheap: most are not)
        ):
            even = np.linspace(first, last, len(values))
            if (even.view(np.uint64) == bits).all():  # the positions of a step scan
                return ["l", first, last], b""
        return ["f"], _steps(bits)
    if kinds == {int} and _INT64[0] <= min(values) and max(values) <= _INT64[1]:
        words = np.asarray(values, dtype=np.int64).view(np.uint64)
        steps = words[1:] - words[:-1]
        if (steps == steps[0]).all():  # (steps wrap as they add up)
            return ["r", values[0], int(steps[:1].view(np.int64)[0])], b""
        return ["i"], _steps(words)
    if kinds == {bool}:
        return ["b"], bytes(values)
    if kinds == {str}:
        packed = _uuids(values)
        if packed is not None:
            return ["u"], packed
    raw = dumps(values).encode()
    return ["j", len(raw)], raw


def _uuids(values: list[str]) -> bytes | None:
    """16 bytes each when every value is a uuid as ``str(uuid)`` writes it, else None."""
    n = len(values)
    joined = "".join(values)
    if len(joined) != 36 * n or any(joined[i::36] != "-" * n for i in (8, 13, 18, 23)):
        return None
    digits = joined.replace("-", "")
    if len(digits) != 32 * n or digits != digits.lower():
        return None
    try:
        packed = bytes.fromhex(digits)
    except ValueError:
        return None
    return packed if len(packed) == 16 * n else None


def encode_page(page: dict[str, Any], ref: str | None = None) -> bytes | None:
    """The page as columns (format 2), or None when it has no lists (nothing to gain).

    ``ref`` is what the page's row keeps as its descriptor: a page of that descriptor does
    not store it again (:func:`decode_page` is given it back).
    """
    n = len(page.get("seq_num") or ())
    if n < 2:
        return None
    const: dict[str, Any] = {}
    cols: list[list[Any]] = []  # [kind, (its numbers,) key, (sub)]
    chunks: list[bytes] = []
    times = page.get("time")
    time_bits = None
    keys = list(page)
    time_first = "timestamps" in page and keys.index("time") < keys.index("timestamps")
    if (
        isinstance(times, list)
        and len(times) == n
        and time_first
        and all(isinstance(t, float) for t in times)
    ):
        time_bits = np.asarray(times, dtype=np.float64).view(np.uint64)
    for key, value in page.items():
        if isinstance(value, list) and len(value) == n:
            kind, raw = _column(value, None)
            cols.append([*kind, key])
            chunks.append(raw)
        elif (
            isinstance(value, dict)
            and value
            and all(isinstance(v, list) and len(v) == n for v in value.values())
        ):
            for sub, column in value.items():
                kind, raw = _column(column, time_bits if key == "timestamps" else None)
                cols.append([*kind, key, sub])
                chunks.append(raw)
        else:
            const[key] = value
    header: dict[str, Any] = {"n": n}
    if ref is not None and const.get("descriptor", None) == ref and isinstance(ref, str):
        del const["descriptor"]
        header["d"] = 1
    header |= {"c": const, "k": cols}
    if keys != [k for k in ORDER if k in page]:
        header["o"] = keys
    head = dumps(header).encode()
    size = len(head)
    body = bytes([size >> 8 | 0x80, size & 0xFF]) if size >= 128 else bytes([size])
    if size >= 32_767:
        body = b"\xff\xff" + size.to_bytes(4, "big")
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY, PRESET)
    return FORMAT_2 + compressor.compress(body + head + b"".join(chunks)) + compressor.flush()


def decode_page(blob: bytes, ref: str | None = None) -> dict[str, Any]:
    """The page :func:`encode_page` stored, as it was (``ref``: its row's descriptor)."""
    if blob[:1] == FORMAT_2:
        body = zlib.decompressobj(-15, PRESET).decompress(blob[1:])
        if body[:2] == b"\xff\xff":
            size, at = int.from_bytes(body[2:6], "big"), 6
        elif body[0] & 0x80:
            size, at = (body[0] & 0x7F) << 8 | body[1], 2
        else:
            size, at = body[0], 1
    elif blob[:1] == FORMAT_1:
        body = zlib.decompress(blob[1:], -15)
        size, at = int.from_bytes(body[:2], "big"), 2
        if size == 65_535:
            size, at = int.from_bytes(body[2:6], "big"), 6
    else:
        raise ValueError(f"not a stored page of events (starts with {blob[:4]!r})")
    zigzag = blob[:1] == FORMAT_2
    header = json.loads(body[at : at + size])
    at += size
    n = header["n"]
    specs = []
    for col in header["k"]:
        path, kind, numbers = _spec(col, blob[:1])
        length = numbers[0] if kind == "j" else _WIDTH[kind] * n
        specs.append((path, kind, numbers, body[at : at + length]))
        at += length
    # the columns of differences, undone together (one numpy pass, however many columns)
    sums = iter(_sums([raw for _, kind, _, raw in specs if kind in _SUMMED], n, zigzag))
    columns: dict[str, Any] = {}
    time_bits = None
    for path, kind, numbers, raw in specs:
        values: Any
        if kind == "f":
            values = next(sums).view(np.float64).tolist()
        elif kind == "x":
            values = (_unshuffle(raw, n) ^ time_bits).view(np.float64).tolist()
        elif kind == "y":
            values = (next(sums) + time_bits).view(np.float64).tolist()
        elif kind == "l":
            values = np.linspace(float(numbers[0]), float(numbers[1]), n).tolist()
        elif kind in "ir":
            if kind == "r":
                steps = np.full(n, numbers[1], dtype=np.int64).view(np.uint64)
                steps[0] = np.int64(numbers[0]).view(np.uint64)
                values = np.cumsum(steps, dtype=np.uint64).view(np.int64).tolist()
            else:
                values = next(sums).view(np.int64).tolist()
        elif kind == "b":
            values = [bool(b) for b in raw]
        elif kind == "u":
            hexes = raw.hex()
            values = [
                f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
                for h in (hexes[i : i + 32] for i in range(0, 32 * n, 32))
            ]
        else:
            values = json.loads(raw)
        if path == ["time"] and kind in "fl":
            time_bits = np.asarray(values, dtype=np.float64).view(np.uint64)
        if len(path) == 1:
            columns[path[0]] = values
        else:
            columns.setdefault(path[0], {})[path[1]] = values
    const = header["c"]
    if header.get("d"):
        if ref is None:
            raise ValueError("this page of events keeps its descriptor in its row: pass it as ref")
        const["descriptor"] = ref
    order = header.get("o") or [k for k in ORDER if k in const or k in columns]
    return {key: const[key] if key in const else columns[key] for key in order}


def _spec(col: list[Any], version: bytes) -> tuple[list[str], str, list[Any]]:
    """``(path, kind, numbers)`` of a column of the header: ``[kind, (numbers,) key, (sub)]``
    (format 1: ``[key, (sub,) kind, (length of its JSON)]``)."""
    if version == FORMAT_1:
        if isinstance(col[-1], int):
            return col[:-2], col[-2], col[-1:]
        return col[:-1], col[-1], []
    at = 1 + _NUMBERS.get(col[0], 0)
    return col[at:], col[0], col[1:at]


def recode_page(blob: bytes, ref: str | None) -> bytes:
    """A stored page in format 2 (as it is when it is already)."""
    if blob[:1] == FORMAT_2:
        return blob
    new = encode_page(decode_page(blob), ref)
    return blob if new is None else new
