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

A key is 64 random hex digits shown once at creation; the server keeps only its
SHA-256 (a random 256-bit secret needs no slow hash) in ``keys.json`` in the server's
run directory, with its user, group, roles, optional narrower scopes and expiry.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ._store import QueueError

__all__ = [
    "ALL_SCOPES",
    "ROLES",
    "AccessError",
    "Authenticator",
    "Gate",
    "KeyInfo",
    "KeyRing",
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
    """Authentication failed (``status`` 401) or a permission is missing (403)."""

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
    """Turns credentials into a principal: ``None`` when they are not its kind (the next
    authenticator is asked), :class:`AccessError` (401) when they are wrong."""

    def authenticate(self, scheme: str, credentials: str) -> Principal | None: ...


class StaticKeys:
    """Keys given to the server at start (``CIELO_SERVER_API_KEY``): each an admin."""

    def __init__(self, keys: Mapping[str, str]) -> None:
        self._by_hash = {_hash(k): user for k, user in keys.items()}

    def __bool__(self) -> bool:
        return bool(self._by_hash)

    def authenticate(self, scheme: str, credentials: str) -> Principal | None:
        if scheme != "apikey":
            return None
        user = self._by_hash.get(_hash(credentials))
        return None if user is None else Principal(user)


@dataclass(frozen=True)
class KeyInfo:
    """An API key without its secret: ``id`` is its first eight characters."""

    id: str
    user: str
    group: str
    roles: tuple[str, ...]
    scopes: tuple[str, ...]
    created: float
    expires: float | None = None
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "roles": list(self.roles), "scopes": list(self.scopes)}

    def principal(self) -> Principal:
        return Principal(self.user, self.group, self.roles, frozenset(self.scopes))


class KeyRing:
    """API keys created and revoked at run time, stored hashed in a JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._keys: dict[str, KeyInfo] = {}  # hash -> info
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text())
                self._keys = {
                    h: KeyInfo(**{**k, "roles": tuple(k["roles"]), "scopes": tuple(k["scopes"])})
                    for h, k in data["keys"].items()
                }
            except (ValueError, KeyError, TypeError) as exc:
                raise QueueError(
                    f"cannot read the API keys in {self.path}: {exc}; restore the file "
                    "or remove it (every key it held is then revoked)"
                ) from None

    def __bool__(self) -> bool:
        return bool(self._keys)

    def create(
        self,
        user: str,
        roles: Sequence[str],
        *,
        group: str = "primary",
        scopes: Sequence[str] | None = None,
        expires_in: float | None = None,
        note: str = "",
    ) -> tuple[str, KeyInfo]:
        """A new key: ``(secret, info)``; the secret is not kept and cannot be shown again."""
        if not isinstance(user, str) or not user.strip():
            raise QueueError(f"a key needs a user name, got {user!r}")
        if expires_in is not None and not expires_in > 0:
            raise QueueError(f"expires_in must be a positive number of seconds, got {expires_in!r}")
        granted = scopes_of(roles, scopes)
        secret = secrets.token_hex(32)
        now = time.time()
        info = KeyInfo(
            id=secret[:8],
            user=user.strip(),
            group=group,
            roles=tuple(roles),
            scopes=tuple(sorted(granted)),
            created=now,
            expires=None if expires_in is None else now + expires_in,
            note=note,
        )
        with self._lock:
            self._keys[_hash(secret)] = info
            self._save()
        return secret, info

    def revoke(self, key_id: str) -> KeyInfo:
        """Forget the key whose id (first eight characters) is ``key_id``."""
        with self._lock:
            found = [h for h, k in self._keys.items() if k.id == key_id]
            if len(found) != 1:
                raise QueueError(
                    f"no API key with id {key_id!r}"
                    if not found
                    else f"{len(found)} keys have id {key_id!r}; revoke them by user"
                )
            info = self._keys.pop(found[0])
            self._save()
        return info

    def keys(self, user: str | None = None) -> list[KeyInfo]:
        """The keys (of ``user``), oldest first."""
        listed = sorted(self._keys.values(), key=lambda k: k.created)
        return [k for k in listed if user is None or k.user == user]

    def authenticate(self, scheme: str, credentials: str) -> Principal | None:
        if scheme != "apikey":
            return None
        info = self._keys.get(_hash(credentials))
        if info is None:
            return None
        if info.expires is not None and info.expires < time.time():
            when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(info.expires))
            raise AccessError(
                f"API key {info.id} of {info.user!r} expired at {when}; ask an admin for a new one",
                401,
            )
        return info.principal()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"keys": {h: k.as_json() for h, k in self._keys.items()}}
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".keys-")
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=1)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)


def _hash(secret: str) -> str:
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

    def identify(self, header: str | None) -> Principal:
        """Who sends ``header`` (``"ApiKey <key>"``), or :class:`AccessError` (401)."""
        if not header:
            if self.anonymous:
                return Principal("anonymous")
            raise AccessError("not authenticated: send 'Authorization: ApiKey <key>'", 401)
        scheme, _, credentials = header.partition(" ")
        credentials = credentials.strip()
        if not credentials:
            raise AccessError("send the key as 'Authorization: ApiKey <key>'", 401)
        for authenticator in self.authenticators:
            principal = authenticator.authenticate(scheme.lower(), credentials)
            if principal is not None:
                return principal
        if scheme.lower() != "apikey":
            raise AccessError(
                f"unknown authorization scheme {scheme!r}; send 'Authorization: ApiKey <key>'",
                401,
            )
        raise AccessError("invalid API key", 401)
