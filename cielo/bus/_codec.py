"""Serializing documents for the bus (msgpack or JSON, never pickle) and parsing bus URIs.

numpy arrays and scalars become lists and numbers on the way out, so what a consumer
decodes is the plain-Python document an event-model validator accepts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from cielo.core import CieloError
from cielo.core import jsonable as _plain  # numpy values -> lists and numbers

__all__ = ["BusError", "BusURI", "CODECS", "Codec", "codec", "parse_uri"]

Document = dict[str, Any]


class BusError(CieloError):
    """A bus URI, option or transport is wrong or cannot be reached."""


@dataclass(frozen=True)
class Codec:
    """A named pair ``dumps(doc) -> bytes`` / ``loads(bytes) -> doc``."""

    name: str
    dumps: Callable[[Any], bytes]
    loads: Callable[[bytes], Any]


def _json_codec() -> Codec:
    encoder = json.JSONEncoder(default=_plain, separators=(",", ":"), allow_nan=True)
    return Codec("json", lambda doc: encoder.encode(doc).encode(), json.loads)


def _msgpack_codec() -> Codec:
    try:
        import msgpack
    except ImportError as exc:  # pragma: no cover - msgpack is in the bus extra
        raise BusError("the msgpack serializer needs msgpack: pip install 'cielo[bus]'") from exc
    packer = msgpack.Packer(default=_plain, use_bin_type=True)

    def dumps(doc: Any) -> bytes:
        return packer.pack(doc)

    def loads(data: bytes) -> Any:
        return msgpack.unpackb(data, raw=False, strict_map_key=False)

    return Codec("msgpack", dumps, loads)


#: Serializers by name; pickle is deliberately absent (it runs code on the reading side).
CODECS: Mapping[str, Callable[[], Codec]] = {"msgpack": _msgpack_codec, "json": _json_codec}


def codec(name: str) -> Codec:
    """The serializer called ``name`` (``"msgpack"`` or ``"json"``)."""
    if name not in CODECS:
        hint = " (pickle is refused: it runs code when read)" if name == "pickle" else ""
        raise BusError(f"unknown serializer {name!r}{hint}; use one of {', '.join(CODECS)}")
    return CODECS[name]()


@dataclass(frozen=True)
class BusURI:
    """A parsed bus URI: ``scheme://host:port/path?option=value``.

    ``path`` is the stream (Redis) or empty (0MQ); ``options`` are the query's
    ``key=value`` pairs as strings.
    """

    text: str
    scheme: str
    host: str
    port: int | None
    path: str
    options: Mapping[str, str] = field(default_factory=dict)


def parse_uri(uri: str) -> BusURI:
    """Split a bus URI, naming what is wrong and what a good one looks like."""
    if not isinstance(uri, str) or "://" not in uri:
        raise BusError(
            f"bus URI {uri!r} has no scheme; write e.g. redis://127.0.0.1:6379/STREAM "
            "or zmq://127.0.0.1:5577"
        )
    parts = urlsplit(uri)
    try:
        port = parts.port
    except ValueError as exc:
        raise BusError(f"bus URI {uri!r}: bad port ({exc})") from exc
    if not parts.hostname:
        raise BusError(f"bus URI {uri!r} names no host; write {parts.scheme}://HOST:PORT/...")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    return BusURI(uri, parts.scheme, parts.hostname, port, parts.path.strip("/"), options)
