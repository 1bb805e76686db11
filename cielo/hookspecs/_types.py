"""Type aliases for what the hooks return, shared by the hookspec modules."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, TypeAlias

from cielo.core import Msg

__all__ = [
    "Document",
    "DocumentCallback",
    "DeviceFactory",
    "PlanFunction",
    "CallbackFactory",
    "SuitcaseFactory",
    "CatalogOpener",
    "ReaderFactory",
    "AgentFactory",
    "CommandHandler",
    "BusTransportFactory",
]

Document: TypeAlias = dict[str, Any]
#: ``callback(name, doc)``: a consumer of event-model documents.
DocumentCallback: TypeAlias = Callable[[str, Document], Any]
#: ``factory(name=..., **params) -> device``; parameters come from a profile's device table.
DeviceFactory: TypeAlias = Callable[..., Any]
#: A plan: a callable returning a generator of :class:`~cielo.Msg`.
PlanFunction: TypeAlias = Callable[..., Generator[Msg, Any, Any]]
#: ``factory(**params) -> DocumentCallback``; the callback may see many runs.
CallbackFactory: TypeAlias = Callable[..., DocumentCallback]
#: ``factory(**params) -> DocumentCallback`` writing each run it sees to storage.
SuitcaseFactory: TypeAlias = Callable[..., DocumentCallback]
#: ``opener(uri, **options) -> catalog`` for one URI scheme (``sqlite``, ``postgresql``).
CatalogOpener: TypeAlias = Callable[..., Any]
#: ``factory(resource_or_stream_resource_doc, root_map) -> reader`` for one mimetype/spec.
ReaderFactory: TypeAlias = Callable[..., Any]
#: ``factory(**params) -> agent`` with ``tell``/``ask``/``report``.
AgentFactory: TypeAlias = Callable[..., Any]
#: ``handler(ctx, msg)``: runs one Msg command; may return a value or an awaitable,
#: whose result is sent back into the plan. ``ctx`` is the engine's command context.
CommandHandler: TypeAlias = Callable[[Any, Msg], Any]
#: ``factory(uri, **options) -> transport`` for one bus URI scheme (``redis``, ``zmq``).
BusTransportFactory: TypeAlias = Callable[..., Any]
