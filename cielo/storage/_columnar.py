"""Pages of events stored as columns (schema 8): a few bytes per scalar reading.

A page (``pack_events``'s event page, with the catalog's ``_cielo_ord``) becomes one
zlib-compressed buffer: a small JSON header, then one column per list of the page.
Floats are kept as their 64-bit patterns (bit-exact: NaN, -0.0), stored as differences
from the value before (times, positions) or, for timestamps, as the bits that differ from
the event's time; integers as differences; canonical uuids as 16 bytes; each column's
bytes are grouped by byte position, so the sign, exponent and high mantissa bytes that
barely change compress to almost nothing. A list of any other values (strings, arrays,
mixed types) is kept as JSON, so every page reads back as the same page.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

import numpy as np

from ._documents import dumps

__all__ = ["encode_page", "decode_page"]

MAGIC = b"\x01"  # the format's version
_INT64 = (-(2**63), 2**63 - 1)


def _shuffle(words: np.ndarray) -> bytes:
    return words.view(np.uint8).reshape(len(words), 8).T.tobytes()


def _unshuffle(raw: bytes, n: int) -> np.ndarray:
    return np.frombuffer(raw, dtype=np.uint8).reshape(8, n).T.copy().view(np.uint64).ravel()


#: The keys of a page, in the order ``pack_events`` and the writer give them.
ORDER = [
    "descriptor", "uid", "time", "seq_num", "data", "timestamps", "filled", "_cielo_ord", "_cielo_keys",
]  # fmt: skip
_WIDTH = {"f": 8, "x": 8, "i": 8, "b": 1, "u": 16}


def _column(values: list[Any], time_bits: np.ndarray | None) -> tuple[str, bytes]:
    """``(kind, bytes)`` of one list of a page."""
    kinds = set(map(type, values))
    if kinds == {float} or all(isinstance(v, float) for v in values):
        bits = np.asarray(values, dtype=np.float64).view(np.uint64)
        if time_bits is not None:
            return "x", _shuffle(bits ^ time_bits)
        return "f", _shuffle(np.diff(bits, prepend=np.uint64(0)))
    if kinds == {int} and _INT64[0] <= min(values) and max(values) <= _INT64[1]:
        ints = np.asarray(values, dtype=np.int64).view(np.uint64)
        return "i", _shuffle(np.diff(ints, prepend=np.uint64(0)))
    if kinds == {bool}:
        return "b", bytes(values)
    if kinds == {str}:
        packed = _uuids(values)
        if packed is not None:
            return "u", packed
    return "j", dumps(values).encode()


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


def encode_page(page: dict[str, Any]) -> bytes | None:
    """The page as columns, or None when it has no lists (nothing to gain)."""
    n = len(page.get("seq_num") or ())
    if n < 2:
        return None
    const: dict[str, Any] = {}
    cols: list[list[Any]] = []  # [key, (sub,) kind, (length of JSON)]
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
            cols.append([key, kind] + ([len(raw)] if kind == "j" else []))
            chunks.append(raw)
        elif isinstance(value, dict) and value and all(
            isinstance(v, list) and len(v) == n for v in value.values()
        ):
            for sub, column in value.items():
                kind, raw = _column(column, time_bits if key == "timestamps" else None)
                cols.append([key, sub, kind] + ([len(raw)] if kind == "j" else []))
                chunks.append(raw)
        else:
            const[key] = value
    header: dict[str, Any] = {"n": n, "c": const, "k": cols}
    if keys != [k for k in ORDER if k in page]:
        header["o"] = keys
    head = dumps(header).encode()
    body = len(head).to_bytes(2 if len(head) < 65_535 else 4, "big") + head
    if len(head) >= 65_535:
        body = b"\xff\xff" + body
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)  # raw deflate: no header, no checksum
    return MAGIC + compressor.compress(body + b"".join(chunks)) + compressor.flush()


def decode_page(blob: bytes) -> dict[str, Any]:
    """The page :func:`encode_page` stored, as it was."""
    if blob[:1] != MAGIC:
        raise ValueError(f"not a stored page of events (starts with {blob[:4]!r})")
    body = zlib.decompress(blob[1:], -15)
    size, at = int.from_bytes(body[:2], "big"), 2
    if size == 65_535:
        size, at = int.from_bytes(body[2:6], "big"), 6
    header = json.loads(body[at : at + size])
    at += size
    n = header["n"]
    columns: dict[str, Any] = {}
    time_bits = None
    for col in header["k"]:
        if isinstance(col[-1], int):  # [key, (sub,) "j", length of its JSON]
            path, kind, length = col[:-2], col[-2], col[-1]
        else:
            path, kind = col[:-1], col[-1]
            length = _WIDTH[kind] * n
        raw = body[at : at + length]
        at += length
        if kind == "f":
            bits = np.cumsum(_unshuffle(raw, n), dtype=np.uint64)
            values: Any = bits.view(np.float64).tolist()
            if path == ["time"]:
                time_bits = bits
        elif kind == "x":
            values = (_unshuffle(raw, n) ^ time_bits).view(np.float64).tolist()
        elif kind == "i":
            values = np.cumsum(_unshuffle(raw, n), dtype=np.uint64).view(np.int64).tolist()
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
        if len(path) == 1:
            columns[path[0]] = values
        else:
            columns.setdefault(path[0], {})[path[1]] = values
    const = header["c"]
    order = header.get("o") or [k for k in ORDER if k in const or k in columns]
    return {key: const[key] if key in const else columns[key] for key in order}
