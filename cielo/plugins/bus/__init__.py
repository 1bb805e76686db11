"""Bundled plugin: document-bus transports, Redis Streams (``redis://``) and a Bluesky 0MQ
proxy (``zmq://``). Kafka or NATS transports are plugins offering their own schemes."""

from __future__ import annotations

from collections.abc import Mapping

from cielo import hookimpl
from cielo.bus import RedisStream, zmq_transport
from cielo.hookspecs import BusTransportFactory

__all__ = ["cielo_bus_transports"]


@hookimpl
def cielo_bus_transports() -> Mapping[str, BusTransportFactory]:
    return {"redis": RedisStream, "zmq": zmq_transport}
