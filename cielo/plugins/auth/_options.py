"""What the bundled authenticators share: their options (from ``--auth`` and a TOML file),
the mapping of a facility's groups to cielo's roles, HTTP Basic credentials, and a short
memory of checked passwords.

``--auth NAME:config=FILE`` reads the options from a TOML file (top-level keys; an LDAP
DN holds commas, which ``--auth`` cannot carry); options given beside it override the
file's. An unknown option, a missing one or a bad value raises ``ValueError`` naming it
and the fix, which stops ``cielo serve`` at start.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cielo.core.suggest import did_you_mean
from cielo.hookspecs import AuthenticationError, Identity

__all__ = ["Checked", "Options", "RoleMap", "basic_credentials", "wrong_credentials"]


class Options:
    """The options of authenticator ``kind``: ``known`` maps each name to what it means
    (shown when one is missing or mistyped)."""

    def __init__(
        self,
        kind: str,
        given: Mapping[str, Any],
        known: Mapping[str, str],
        required: Iterable[str] = (),
    ) -> None:
        self.kind = kind
        self.known = known
        values = dict(given)
        config = values.pop("config", None)
        if config is not None:
            values = {**_read_config(kind, Path(str(config)).expanduser()), **values}
        for name in values:
            if name not in known:
                hint = did_you_mean(name, known, before=" (", after=")")
                raise ValueError(f"unknown option {name!r}{hint}; {kind} takes: {', '.join(known)}")
        for name in required:
            if values.get(name) in (None, ""):
                raise ValueError(f"option {name!r} is required: {known[name]}")
        self.values = values

    def text(self, name: str, default: str = "") -> str:
        value = self.values.get(name, default)
        if not isinstance(value, str):
            raise ValueError(f"option {name}={value!r} must be text: {self.known[name]}")
        return value

    def number(self, name: str, default: float) -> float:
        value = self.values.get(name, default)
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = -1.0
        if number < 0 or number != number:
            raise ValueError(
                f"option {name}={value!r} is not a number of seconds ≥ 0: {self.known[name]}"
            )
        return number

    def flag(self, name: str, default: bool) -> bool:
        value = self.values.get(name, default)
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"option {name}={value!r} is not true or false: {self.known[name]}")

    def listed(self, name: str, default: Iterable[str] = ()) -> tuple[str, ...]:
        """A list: a TOML array, or text with items separated by ``+``."""
        value = self.values.get(name)
        if value is None:
            return tuple(default)
        items = value.split("+") if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise ValueError(f"option {name}={value!r} is not a list of names: {self.known[name]}")
        return tuple(i.strip() for i in items if i.strip())

    def file(self, name: str) -> Path | None:
        """A file that must exist (``None`` when the option is not given)."""
        text = self.text(name)
        if not text:
            return None
        path = Path(text).expanduser()
        if not path.is_file():
            raise ValueError(f"option {name}={text!r}: no such file; {self.known[name]}")
        return path


def _read_config(kind: str, path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ValueError(f"cannot read config={path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"config={path} is not TOML: {exc}") from None
    if "config" in data:
        raise ValueError(f"config={path}: a config file cannot name another ('config' key)")
    return data


#: The role of authenticated users whom no group mapping names: ``none`` refuses them.
NO_ROLE = "none"


@dataclass(frozen=True)
class RoleMap:
    """A facility's groups (Unix, LDAP, a token's claim) mapped to cielo's roles.

    ``roles`` is ``GROUP:ROLE`` pairs separated by ``+`` (``--auth``:
    ``roles=beamline-staff:admin+users:user``), or a TOML table ``{GROUP = ROLE or
    [ROLE, ...]}``; a user gets the roles of every group they are in, else ``default``
    (``()``: refused).
    """

    by_group: Mapping[str, tuple[str, ...]]
    default: tuple[str, ...]

    @classmethod
    def parse(cls, options: Options, default_role: str = "observer") -> RoleMap:
        value = options.values.get("roles", {})
        pairs: list[tuple[str, str]] = []
        if isinstance(value, str):
            for part in filter(None, (p.strip() for p in value.split("+"))):
                group, sep, role = part.rpartition(":")
                if not sep or not group or not role:
                    raise ValueError(
                        f"roles: {part!r} is not GROUP:ROLE; write e.g. "
                        "roles=beamline-staff:admin+users:user"
                    )
                pairs.append((group.strip(), role.strip()))
        elif isinstance(value, dict):
            for group, roles in value.items():
                for role in [roles] if isinstance(roles, str) else roles:
                    if not isinstance(role, str):
                        raise ValueError(f"roles: {group} = {roles!r} is not a role or a list")
                    pairs.append((group, role))
        else:
            raise ValueError(f"roles = {value!r} is neither 'GROUP:ROLE+...' nor a table")
        by_group: dict[str, tuple[str, ...]] = {}
        for group, role in pairs:
            by_group[group] = (*by_group.get(group, ()), role)
        role = options.text("role", default_role).strip()
        return cls(by_group, () if role == NO_ROLE else (role,))

    @property
    def grants(self) -> tuple[str, ...]:
        """Every role this map may give (the server checks them at start)."""
        roles = [r for rs in self.by_group.values() for r in rs]
        return tuple(dict.fromkeys([*roles, *self.default]))

    def identity(self, user: str, groups: Iterable[str], group: str) -> Identity:
        """The identity of ``user`` in ``groups``; refused when no role is theirs."""
        roles = [r for g in groups for r in self.by_group.get(g, ())]
        roles = list(dict.fromkeys(roles)) or list(self.default)
        if not roles:
            raise AuthenticationError(
                f"{user!r} is in no group that grants a role here; ask the beamline's "
                "staff to add them to one"
            )
        return Identity(user, tuple(roles), group)


def basic_credentials(credentials: str) -> tuple[str, str]:
    """``(user, password)`` of HTTP Basic ``credentials`` (base64 of ``user:password``)."""
    try:
        decoded = base64.b64decode(credentials, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise AuthenticationError("Basic credentials must be base64 of 'user:password'") from None
    user, sep, password = decoded.partition(":")
    if not sep or not user:
        raise AuthenticationError("Basic credentials must be base64 of 'user:password'")
    return user, password


def wrong_credentials(user: str) -> AuthenticationError:
    """The one refusal for a wrong user name or password: it never says which."""
    return AuthenticationError(f"wrong user name or password for {user!r}")


class Checked:
    """Identities of recently checked passwords, for ``seconds`` (``0``: none kept), so
    a directory or PAM stack is asked once per user and minute, not per request.

    Passwords are kept as an HMAC under a key made at start and never stored, so the
    memory holds nothing that could be tried offline.
    """

    def __init__(self, seconds: float, size: int = 1024) -> None:
        self.seconds = seconds
        self.size = size
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._known: dict[tuple[str, bytes], tuple[float, Identity]] = {}

    def _tag(self, user: str, secret: str) -> tuple[str, bytes]:
        return user, hmac.new(self._key, secret.encode(), hashlib.sha256).digest()

    def get(self, user: str, secret: str) -> Identity | None:
        if not self.seconds:
            return None
        found = self._known.get(self._tag(user, secret))
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def put(self, user: str, secret: str, identity: Identity) -> None:
        if not self.seconds:
            return
        with self._lock:
            if len(self._known) >= self.size:
                now = time.monotonic()
                self._known = {k: v for k, v in self._known.items() if v[0] >= now}
                if len(self._known) >= self.size:
                    self._known.clear()
            self._known[self._tag(user, secret)] = (time.monotonic() + self.seconds, identity)
