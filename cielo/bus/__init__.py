"""The document bus: publish every document to a durable, replayable bus and consume it
elsewhere (Redis Streams bundled, a Bluesky-compatible 0MQ publisher, more as plugins)."""

from ._codec import CODECS, BusError, BusURI, Codec, codec, parse_uri
from ._consumer import BusConsumer, RemoteDispatcher
from ._ingest import CatalogIngest
from ._profile import check_publish, open_publisher, publish_to_profile_bus, publish_uri
from ._publisher import Publisher
from ._redis import RedisGroupReader, RedisStream
from ._transport import (
    BusUnavailable,
    Entry,
    GroupReader,
    Received,
    Transport,
    TransportFactory,
    iter_entries,
    open_transport,
)
from ._zmq import ZmqProxyTransport, zmq_transport

__all__ = [
    "CODECS",
    "BusConsumer",
    "BusError",
    "BusURI",
    "BusUnavailable",
    "CatalogIngest",
    "Codec",
    "Entry",
    "GroupReader",
    "Publisher",
    "Received",
    "RedisGroupReader",
    "RedisStream",
    "RemoteDispatcher",
    "Transport",
    "TransportFactory",
    "ZmqProxyTransport",
    "check_publish",
    "codec",
    "iter_entries",
    "open_publisher",
    "open_transport",
    "parse_uri",
    "publish_to_profile_bus",
    "publish_uri",
    "zmq_transport",
]
