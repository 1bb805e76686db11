"""Who may do what: roles and their scopes, API keys (stored hashed, with an expiry), and
the authenticators that turn a request's credentials into a :class:`Principal`.

Routes declare the scopes they need; a key holds roles, each a set of scopes:

============  ==============================================================
``observer``  reads status, queue, history, plans and devices, console
``proposer``  an observer who may propose items for review
``user``      an observer who edits *their own* items, runs the queue and plans
``reviewer``  an observer who approves or rejects proposals
``admin``     everything: anyone's items, history, keys, the permissions file
============  ==============================================================

API keys created at run time live in :mod:`cielo.server._keys`; other authenticators
(PAM, LDAP, OIDC, a password file) are plugins of the ``cielo_authenticators`` hook,
whose :class:`~cielo.hookspecs.Identity` the gate turns into a principal here.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cielo.hookspecs import AuthenticationError, AuthenticatorUnavailableError, Identity

from ._store import QueueError

__all__ = [
    "ALL_SCOPES",
    "ROLES",
    "AccessError",
    "Authenticator",
    "Gate",
    "Principal",
    "StaticKeys",
    "scopes_of",
]

_READ = frozenset({"read:status", "read:queue", "read:history", "read:resources", "read:console"})
_USER = _READ | {
    "write:queue:edit",
    "write:queue:control",
    "write:execute",
    "write:manager:control",
    "write:plan:control",
    "write:propose",
}
#: Every scope a route may ask for.
ALL_SCOPES = _USER | {
    "write:queue:edit:any",  # items of other users, and clearing the queue
    "write:history:edit",
    "write:review",
    "admin:keys",  # keys of other users
    "admin:permissions",
}
#: Role -> the scopes it grants.
ROLES: dict[str, frozenset[str]] = {
    "observer": _READ,
    "proposer": _READ | {"write:propose"},
    "user": _USER,
    "reviewer": _READ | {"write:review"},
    "admin": ALL_SCOPES,
}


class AccessError(QueueError):
    """Authentication failed (``status`` 401), a permission is missing (403), or the
    service that checks credentials cannot be reached (503)."""

    def __init__(self, msg: str, status: int = 403) -> None:
        super().__init__(msg)
        self.status = status


def scopes_of(roles: Iterable[str], narrowed: Iterable[str] | None = None) -> frozenset[str]:
    """The scopes ``roles`` grant, within ``narrowed`` if given; unknown names refused."""
    roles = list(roles)
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise QueueError(
            f"unknown role(s) {unknown}; roles: {', '.join(ROLES)}"
            if unknown
            else f"a key needs at least one role ({', '.join(ROLES)})"
        )
    granted = frozenset().union(*(ROLES[r] for r in roles))
    if narrowed is None:
        return granted
    narrowed = frozenset(narrowed)
    beyond = sorted(narrowed - granted)
    if beyond:
        raise QueueError(
            f"scope(s) {beyond} are not granted by role(s) {roles}; "
            f"those roles grant: {', '.join(sorted(granted))}"
        )
    return narrowed


@dataclass(frozen=True)
class Principal:
    """Who sent a request: a user name, a group (for the permissions file), roles and
    the scopes they grant."""

    name: str
    group: str = "primary"
    roles: tuple[str, ...] = ("admin",)
    scopes: frozenset[str] = field(default_factory=lambda: ALL_SCOPES)

    def require(self, scopes: Iterable[str]) -> None:
        """:class:`AccessError` (403) naming the scopes this principal lacks."""
        missing = sorted(set(scopes) - self.scopes)
        if missing:
            raise AccessError(
                f"{self.name!r} (role {', '.join(self.roles)}) lacks scope(s) {missing}; "
                "ask an admin for a key with a role that grants them"
            )


class Authenticator(Protocol):
    """Turns credentials into a principal (or a plugin's :class:`~cielo.hookspecs.Identity`):
    ``None`` when they are not its kind (the next authenticator is asked),
    :class:`AccessError` or :class:`~cielo.hookspecs.AuthenticationError` (401) when they
    are wrong."""

    def authenticate(self, scheme: str, credentials: str) -> Principal | Identity | None: ...


class StaticKeys:
    """Keys given to the server at start (``CIELO_SERVER_API_KEY``): each an admin."""

    inline = True  # a dictionary lookup: called in the event loop

    def __init__(self, keys: Mapping[str, str]) -> None:
        self._by_hash = {secret_digest(k): user for k, user in keys.items()}

    def __bool__(self) -> bool:
        return bool(self._by_hash)

    def authenticate(self, scheme: str, credentials: str) -> Principal | None:
        if scheme != "apikey":
            return None
        user = self._by_hash.get(secret_digest(credentials))
        return None if user is None else Principal(user)


def secret_digest(secret: str) -> str:
    """The SHA-256 (hex) under which a key is known."""
    return hashlib.sha256(secret.encode()).hexdigest()


class Gate:
    """The server's door: which authenticators it asks, and whether a request without
    credentials is let in (only on loopback when no key exists at all)."""

    def __init__(self, authenticators: Sequence[Authenticator], *, loopback: bool) -> None:
        self.authenticators = list(authenticators)
        self.loopback = loopback

    @property
    def anonymous(self) -> bool:
        return self.loopback and not any(map(bool, self.authenticators))

    def schemes(self) -> list[str]:
        """The ``Authorization`` schemes the server takes: ``apikey`` (keys can always be
        made), then those the authenticators declare in a ``schemes`` attribute
        (``basic``, ``bearer``...), in order, each once."""
        found = ["apikey"]
        for authenticator in self.authenticators:
            for scheme in getattr(authenticator, "schemes", ()):
                if str(scheme).lower() not in found:
                    found.append(str(scheme).lower())
        return found

    def identify(self, header: str | None) -> Principal:
        """Who sends ``header`` (``"ApiKey <key>"``), or :class:`AccessError` (401)."""
        if not header:
            return self._nobody(self.anonymous)
        scheme, credentials = _split(header)
        for authenticator in self.authenticators:
            found = _asked(authenticator.authenticate, scheme, credentials)
            if found is not None:
                return _principal(found)
        raise _unknown(scheme)

    async def identify_async(self, header: str | None) -> Principal:
        """:meth:`identify` without blocking the event loop: an authenticator with an
        ``authenticate_async`` coroutine (the key ring on Redis) is awaited, one marked
        ``inline`` (a dictionary or a local SQLite read) is called, any other (a plugin:
        bcrypt, LDAP, PAM...) runs in a thread, so a slow lookup delays only its request."""
        if not header:
            if not self.loopback:
                return self._nobody(False)
            for authenticator in self.authenticators:
                exists = getattr(authenticator, "exists_async", None)
                if await exists() if exists is not None else bool(authenticator):
                    return self._nobody(False)
            return self._nobody(True)
        scheme, credentials = _split(header)
        for authenticator in self.authenticators:
            ask = getattr(authenticator, "authenticate_async", None)
            if ask is not None:
                found = await _asked_async(ask, scheme, credentials)
            elif getattr(authenticator, "inline", False):
                found = _asked(authenticator.authenticate, scheme, credentials)
            else:
                found = await asyncio.to_thread(
                    _asked, authenticator.authenticate, scheme, credentials
                )
            if found is not None:
                return _principal(found)
        raise _unknown(scheme)

    @staticmethod
    def _nobody(anonymous: bool) -> Principal:
        if anonymous:
            return Principal("anonymous")
        raise AccessError("not authenticated: send 'Authorization: ApiKey <key>'", 401)


def _split(header: str) -> tuple[str, str]:
    """``(scheme in lower case, credentials)`` of an ``Authorization`` header."""
    scheme, _, credentials = header.partition(" ")
    credentials = credentials.strip()
    if not credentials:
        raise AccessError("send the key as 'Authorization: ApiKey <key>'", 401)
    return scheme.lower(), credentials


def _asked(
    authenticate: Callable[[str, str], Principal | Identity | None], scheme: str, credentials: str
) -> Principal | Identity | None:
    try:
        return authenticate(scheme, credentials)
    except AuthenticationError as exc:
        raise _refusal(exc) from None


async def _asked_async(
    authenticate: Callable[[str, str], Awaitable[Principal | Identity | None]],
    scheme: str,
    credentials: str,
) -> Principal | Identity | None:
    try:
        return await authenticate(scheme, credentials)
    except AuthenticationError as exc:
        raise _refusal(exc) from None


def _refusal(exc: AuthenticationError) -> AccessError:
    """401 for wrong credentials; 503 when they could not be checked (the directory or
    issuer is unreachable: the client should try again, not doubt its password)."""
    return AccessError(str(exc), 503 if isinstance(exc, AuthenticatorUnavailableError) else 401)


def _unknown(scheme: str) -> AccessError:
    if scheme != "apikey":
        return AccessError(
            f"unknown authorization scheme {scheme!r}; send 'Authorization: ApiKey <key>'", 401
        )
    return AccessError("invalid API key", 401)


def _principal(found: Principal | Identity) -> Principal:
    """``found`` as a principal: an authenticator's identity gets its roles' scopes."""
    if isinstance(found, Principal):
        return found
    identity = found
    try:
        scopes = scopes_of(identity.roles)
    except QueueError as exc:
        raise AccessError(f"user {identity.name!r}: {exc}", 401) from None
    return Principal(identity.name, identity.group, tuple(identity.roles), scopes)
