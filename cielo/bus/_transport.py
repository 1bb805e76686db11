"""What a bus transport is: the protocol a Redis, 0MQ, Kafka or NATS transport implements.

A transport is opened from a URI by the factory its plugin offers through the
``cielo_bus_transports`` hook (one per URI scheme). Publishing needs only
:meth:`Transport.publish`; transports that keep what they receive (Redis Streams) also
offer consumer groups (:meth:`Transport.group_reader`) and replay (:meth:`Transport.replay`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple, Protocol, runtime_checkable

from cielo.core.suggest import did_you_mean

from ._codec import BusError

__all__ = [
    "BusUnavailable",
    "Entry",
    "GroupReader",
    "Received",
    "Transport",
    "TransportFactory",
    "open_transport",
]

Document = dict[str, Any]


class BusUnavailable(BusError):
    """The bus cannot be reached now (a transport raises it; the publisher buffers and retries)."""


class Entry(NamedTuple):
    """One document as published: its name, body, the uid of its run, and whether the
    publisher packed it from single events (consumers unpack those again)."""

    name: str
    doc: Document
    run: str | None
    packed: bool = False


class Received(NamedTuple):
    """One entry read back from the bus, with its position (``id``) in the stream."""

    id: str
    name: str
    doc: Document
    run: str | None
    packed: bool = False


@runtime_checkable
class GroupReader(Protocol):
    """A member of a consumer group: reads entries, then acknowledges them.

    ``read(count, block)`` returns entries nobody in the group has read yet, waiting up to
    ``block`` seconds for some; ``read(count, block, pending_after=ID)`` returns this
    member's entries after ``ID`` (``"0"``: from the first) that were delivered before and
    never acknowledged, oldest first, an empty list when none are left. ``ack(ids)``
    marks entries as done.
    ``missed()`` is the number of entries the group lost because retention trimmed them
    before the group read them (0 when the transport cannot tell).
    """

    def read(
        self, count: int, block: float, *, pending_after: str | None = None
    ) -> list[Received]: ...

    def ack(self, ids: Sequence[str]) -> None: ...

    def missed(self) -> int: ...


@runtime_checkable
class Transport(Protocol):
    """A connection to one bus destination (a Redis stream, a 0MQ proxy, a Kafka topic)."""

    uri: str

    def publish(self, entries: Sequence[Entry]) -> None:
        """Send ``entries`` in order; raise :class:`BusUnavailable` when the bus is down."""
        ...

    def close(self) -> None: ...


#: ``factory(uri, **options) -> Transport``, offered per URI scheme by plugins.
TransportFactory = Callable[..., Transport]


def open_transport(
    uri: str, transports: Mapping[str, TransportFactory] | None = None, **options: Any
) -> Transport:
    """Open ``uri`` with the factory registered for its scheme (a clear error otherwise).

    :param transports: factories by scheme (an environment's ``env.bus_transports``);
        by default those of the installed plugins (``cielo_bus_transports``).
    :param options: passed to the factory (e.g. ``serializer``, ``maxlen``).
    """

    if transports is None:
        from cielo.core import make_plugin_manager
        from cielo.core.plugins import Registry

        transports = Registry(make_plugin_manager()).get("bus_transports")

    from ._codec import parse_uri

    scheme = parse_uri(uri).scheme
    if scheme not in transports:
        hint = did_you_mean(scheme, transports, before="; ", show=lambda c: f"{c}://")
        raise BusError(
            f"no bus transport for {scheme}:// in {uri!r}{hint} "
            f"(known: {', '.join(sorted(transports)) or 'none'}; a plugin offers more "
            "through cielo_bus_transports)"
        )
    return transports[scheme](uri, **options)


def replayable(transport: Transport, what: str) -> Any:
    """``transport`` if it keeps what it receives (consumer groups, replay), else a clear error."""
    if not callable(getattr(transport, "replay", None)):
        raise BusError(
            f"{transport.uri!r} cannot be {what}: its transport only forwards documents "
            "(use a redis:// stream, which keeps them)"
        )
    return transport


def iter_entries(entries: Sequence[Received]) -> Iterator[tuple[str, Document]]:
    """``(name, doc)`` of received entries, with publisher-packed pages unpacked into events."""
    from cielo.core import unpack_event_page

    for entry in entries:
        if entry.packed:
            for event in unpack_event_page(entry.doc):
                yield "event", event
        else:
            yield entry.name, entry.doc
