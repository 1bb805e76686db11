"""A 0MQ transport speaking Bluesky's protocol, so Bluesky's consumers follow cielo's runs.

``zmq://HOST:PORT?serializer=json&prefix=NAME`` connects to the input port of a Bluesky
0MQ proxy (``bluesky-0MQ-proxy IN OUT``) and sends each document as Bluesky's
``Publisher`` does: one message ``PREFIX NAME PAYLOAD`` (space-separated). Bluesky's
``RemoteDispatcher(OUT, deserializer=...)`` then delivers them; pick the matching
deserializer (``json.loads`` or ``msgpack.unpackb``; pickle is refused here).

0MQ forwards and keeps nothing: documents sent while no one listens are gone, and there
are no consumer groups or replay (use ``redis://`` for those). A fresh connection waits
up to ``wait`` seconds for the proxy to report a subscriber before its first message,
so a run's first documents are not lost to 0MQ's slow-joiner race.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from ._codec import BusError, codec, parse_uri
from ._transport import Entry

__all__ = ["ZmqProxyTransport"]


class ZmqProxyTransport:
    """Send documents to a Bluesky 0MQ proxy, unchanged (event pages stay pages, events events).

    :param uri: ``zmq://HOST:PORT`` (the proxy's input port).
    :param serializer: ``"json"`` (default here) or ``"msgpack"``.
    :param prefix: Bluesky's publisher prefix (no spaces), to tell publishers apart.
    :param wait: seconds to wait for a subscriber before the first message.
    """

    def __init__(
        self,
        uri: str,
        *,
        serializer: str | None = None,
        prefix: str | None = None,
        wait: float | None = None,
    ) -> None:
        try:
            import zmq
        except ImportError as exc:
            raise BusError("zmq:// needs pyzmq: pip install 'cielo[bus]'") from exc
        parsed = parse_uri(uri)
        if parsed.port is None:
            raise BusError(
                f"bus URI {uri!r} names no port; write zmq://HOST:PORT (the proxy's input port)"
            )
        unknown = set(parsed.options) - {"serializer", "prefix", "wait"}
        if unknown:
            raise BusError(
                f"bus URI {uri!r}: unknown option(s) {', '.join(sorted(unknown))} "
                "(known: serializer, prefix, wait)"
            )
        self.uri = uri
        self.codec = codec(serializer or parsed.options.get("serializer", "json"))
        self.prefix = (prefix if prefix is not None else parsed.options.get("prefix", "")).encode()
        if b" " in self.prefix:
            raise BusError(f"bus URI {uri!r}: prefix {self.prefix!r} may not contain spaces")
        self.wait = float(wait if wait is not None else parsed.options.get("wait", 2.0))
        self._zmq = zmq
        self._context = zmq.Context()
        # XPUB rather than PUB: it hears the proxy's subscriptions, so we can wait for one
        self._socket = self._context.socket(zmq.XPUB)
        self._socket.setsockopt(zmq.LINGER, 2000)
        self._socket.connect(f"tcp://{parsed.host}:{parsed.port}")
        self._ready = False

    def _wait_for_subscriber(self) -> None:
        deadline = time.monotonic() + self.wait
        while (remaining := deadline - time.monotonic()) > 0:
            if self._socket.poll(int(remaining * 1000), self._zmq.POLLIN):
                self._socket.recv()  # a subscription message: someone listens
                break
        self._ready = True

    def publish(self, entries: Sequence[Entry]) -> None:
        """Send each document as ``PREFIX NAME PAYLOAD`` (never blocks: 0MQ queues or drops)."""
        if not self._ready:
            self._wait_for_subscriber()
        dumps, send, prefix = self.codec.dumps, self._socket.send, self.prefix
        for entry in entries:
            send(b" ".join([prefix, entry.name.encode(), dumps(entry.doc)]))

    def close(self) -> None:
        self._socket.close()
        self._context.term()


def zmq_transport(uri: str, **options: Any) -> ZmqProxyTransport:
    """``cielo_bus_transports`` factory for ``zmq://``."""
    return ZmqProxyTransport(uri, **options)
