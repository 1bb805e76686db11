"""The types of what hooks take and return: import them to annotate a plugin.

``from cielo.hookspecs.types import PlanFunction, DeviceFactory, ...`` (or from
``cielo.hookspecs``). Factories that a profile calls with its table's parameters are
``Callable[..., T]``: their own typed signature is what cielo checks those parameters
against. What they return is described by the protocols below, which name only what
cielo calls.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, runtime_checkable

from cielo.core import Msg

if TYPE_CHECKING:
    from cielo.core.engine import CommandContext

__all__ = [
    "AgentFactory",
    "AgentLike",
    "AuthenticationError",
    "AuthenticatorUnavailableError",
    "AuthenticatorFactory",
    "AuthenticatorLike",
    "BusTransportFactory",
    "CallbackFactory",
    "CatalogLike",
    "CatalogOpener",
    "CommandHandler",
    "DeviceFactory",
    "Document",
    "DocumentCallback",
    "Identity",
    "MsgGenerator",
    "PlanForm",
    "PlanFunction",
    "ReaderFactory",
    "ReaderLike",
    "Subcommands",
    "SuitcaseFactory",
    "TransportLike",
]

#: An event-model document: JSON values by key.
Document: TypeAlias = dict[str, Any]
#: ``callback(name, doc)``: a consumer of event-model documents (its result is ignored).
DocumentCallback: TypeAlias = Callable[[str, Document], object]
#: What a plan returns: a generator of :class:`~cielo.Msg`, sent each reply.
MsgGenerator: TypeAlias = Generator[Msg, Any, Any]
#: A plan: called with the user's arguments, returns a :data:`MsgGenerator`.
PlanFunction: TypeAlias = Callable[..., MsgGenerator]
#: ``factory(name=..., **params) -> device``; parameters come from a profile's device
#: table and are checked against the factory's signature. A device is any object with a
#: ``name`` and the Bluesky protocols it supports (:mod:`cielo.core.protocols`).
DeviceFactory: TypeAlias = Callable[..., object]
#: ``factory(**params) -> DocumentCallback``; the callback may see many runs.
CallbackFactory: TypeAlias = Callable[..., DocumentCallback]
#: ``factory(**params) -> DocumentCallback`` writing each run it sees to storage.
SuitcaseFactory: TypeAlias = Callable[..., DocumentCallback]


@runtime_checkable
class CatalogLike(Protocol):
    """A catalog of runs, as a catalog backend opens it (see :class:`cielo.storage.Catalog`)."""

    @property
    def uri(self) -> str: ...

    def close(self) -> None: ...


#: ``opener(uri, **options) -> catalog`` for one URI scheme (``sqlite``, ``postgresql``).
CatalogOpener: TypeAlias = Callable[..., CatalogLike]


class ReaderLike(Protocol):
    """Reads the data of one resource or stream_resource document."""

    def read(self, start: int, stop: int) -> Any:
        """The array of frames ``start`` to ``stop`` (a datum's or stream_datum's slice)."""
        ...


#: ``factory(resource_or_stream_resource_doc, root_map=...) -> reader``.
ReaderFactory: TypeAlias = Callable[..., ReaderLike]


@runtime_checkable
class AgentLike(Protocol):
    """An adaptive agent: told measurements, asked where to measure next."""

    def tell(self, x: Any, y: Any) -> object: ...

    def ask(self, n: int) -> tuple[Sequence[Any], Mapping[str, Any]]: ...

    def report(self) -> Mapping[str, Any]: ...


#: ``factory(**params) -> agent``.
AgentFactory: TypeAlias = Callable[..., AgentLike]


@dataclass(frozen=True)
class Identity:
    """Who an authenticator says sent a request: a user name, the roles the server maps to
    scopes (``observer``, ``proposer``, ``user``, ``reviewer``, ``admin``) and the group
    the permissions file restricts."""

    name: str
    roles: tuple[str, ...] = ("user",)
    group: str = "primary"


class AuthenticationError(Exception):
    """Credentials of an authenticator's kind that are wrong (the server answers 401 with
    the message: name the user, never echo the secret)."""


class AuthenticatorUnavailableError(AuthenticationError):
    """The service an authenticator asks (a directory, a token issuer) cannot be reached
    now, so the credentials could not be checked: the server answers 503 with the message
    (say which service and what to check), not 401."""


@runtime_checkable
class AuthenticatorLike(Protocol):
    """Checks a request's ``Authorization`` header (``scheme`` lower-cased, ``credentials``
    the rest): an :class:`Identity`, ``None`` when the credentials are not its kind (the
    next authenticator is asked), :class:`AuthenticationError` when they are wrong."""

    def authenticate(self, scheme: str, credentials: str) -> Identity | None: ...


#: ``factory(**options) -> authenticator``; the options are ``cielo serve --auth
#: NAME:KEY=VALUE,...``'s, as strings.
AuthenticatorFactory: TypeAlias = Callable[..., AuthenticatorLike]


class CommandHandler(Protocol):
    """``handler(ctx, msg)``: runs one Msg command.

    Returns the value sent back into the plan, or an awaitable (a coroutine, a status)
    whose result is. ``ctx`` is the engine's :class:`~cielo.core.engine.CommandContext`.
    """

    def __call__(self, ctx: CommandContext, msg: Msg, /) -> object: ...


@runtime_checkable
class TransportLike(Protocol):
    """A connection to one bus destination (see :class:`cielo.bus.Transport`)."""

    uri: str

    def publish(self, entries: Sequence[Any]) -> None: ...

    def close(self) -> None: ...


#: ``factory(uri, **options) -> transport`` for one bus URI scheme (``redis``, ``zmq``).
BusTransportFactory: TypeAlias = Callable[..., TransportLike]


class Subcommands(Protocol):
    """Where ``cielo_add_commands`` adds its commands: ``add_parser`` as argparse's.

    ``add_parser(name, help=..., description=...)`` returns the command's
    :class:`argparse.ArgumentParser`; add arguments to it and
    ``parser.set_defaults(func=handler)``, where ``handler(args) -> int | None`` returns
    the exit status (``None`` means 0).
    """

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...


@dataclass(frozen=True)
class PlanForm:
    """A plan's own form in the web application, offered by ``cielo_plan_forms``.

    The web application draws every plan's form from its parameter schema; a
    ``PlanForm`` arranges that form the way a facility's users know it.

    :param ui: JSON: a uiSchema of the form library (``{"mode": {"ui:widget": "radio"}}``,
        ``"ui:title"``, ``"ui:help"``, ``"ui:placeholder"``...) plus cielo's layout keys:
        ``"ui:layout"``, rows of parameter names drawn side by side (parameters in no
        row are folded away beneath), where a row may instead be
        ``{"intervals": {"bounds": P, "between": [Q, ...], "title": T}}``: the array
        parameter ``P`` (region boundaries) drawn as one table row with the arrays
        ``Q...`` (one value per region) in rows beneath, between the boundaries.
    :param check: ``check(*args, **kwargs)`` called with a queue item's arguments
        (devices by name) as the user fills the form: raises
        :class:`~cielo.core.PlanParameterError` naming the parameter (``"parameter
        bounds: ..."``) where the plan would refuse them, else returns a JSON mapping
        whose ``"text"`` the form shows (points, duration...).
    """

    ui: Mapping[str, Any]
    check: Callable[..., Mapping[str, Any]] | None = field(default=None, compare=False)
