"""Hook through which plugins offer document-bus transports (Redis Streams, 0MQ, Kafka, NATS)."""

from __future__ import annotations

from collections.abc import Mapping

from cielo.core.plugins import hookspec

from .types import BusTransportFactory

__all__ = ["cielo_bus_transports"]


@hookspec
def cielo_bus_transports() -> Mapping[str, BusTransportFactory] | None:
    """Offer document-bus transports, by URI scheme.

    Fires once per plugin manager, when the registry of contributions is built (a
    profile's ``[publish] uri``, ``cielo run --publish URI`` and ``cielo bus`` open
    their URI through it).

    :returns: a mapping from URI scheme (``"redis"``, ``"zmq"``, ``"kafka"``) to a factory
        called as ``factory(uri, **options)`` that returns a transport: an object with
        ``uri``, ``publish(entries)`` (send :class:`cielo.bus.Entry` items in order; raise
        :class:`cielo.bus.BusUnavailable` while the bus is down, so the publisher buffers
        and retries) and ``close()``. A transport that keeps documents also offers
        ``group_reader(group, consumer, start=)`` (consumer groups with
        acknowledgements), ``replay(run=None, since=, until=)`` and ``follow(start)``
        (see :class:`cielo.bus.RedisStream`). ``None`` offers nothing. A scheme offered
        by two plugins is an error that names both.
    """
