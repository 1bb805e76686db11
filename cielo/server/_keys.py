"""API keys created at run time, kept where every manager sharing the queue store sees
them: a table in the queue store's SQLite file, or a hash beside its keys in Redis.

A key is 64 random hex digits shown once at creation; only its SHA-256 is stored (a
random 256-bit secret needs no slow hash), with its user, group, roles, optional
narrower scopes and expiry. Every request looks its key up in the shared storage (one
indexed read, tens of µs on SQLite; on Redis an ``HGET`` awaited on an asyncio client,
so a slow Redis delays that request only, never the server's event loop), so a key
revoked on one manager is refused by all at once. Keys of an older server's ``keys.json`` are imported on start, and the file is
renamed ``keys.json.imported``.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit, urlunsplit

from ._access import AccessError, Principal, scopes_of, secret_digest
from ._store import QueueError

__all__ = ["KeyInfo", "KeyRing", "open_keyring"]


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

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KeyInfo:
        return cls(**{**data, "roles": tuple(data["roles"]), "scopes": tuple(data["scopes"])})

    def principal(self) -> Principal:
        return Principal(self.user, self.group, self.roles, frozenset(self.scopes))


class _Storage(Protocol):
    """Where a key ring keeps ``hash -> KeyInfo as JSON``."""

    def get(self, digest: str) -> str | None: ...
    async def aget(self, digest: str) -> str | None: ...
    async def aany(self) -> bool: ...
    def put(self, digest: str, info: str) -> None: ...
    def delete(self, digest: str) -> None: ...
    def items(self) -> dict[str, str]: ...
    def any(self) -> bool: ...
    def close(self) -> None: ...
    async def aclose(self) -> None: ...


class _SQLiteStorage:
    """Table ``api_keys`` in the queue store's SQLite file (its own connection)."""

    def __init__(self, path: str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=30.0
        )
        self._db.execute("PRAGMA busy_timeout = 30000")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS api_keys (hash TEXT PRIMARY KEY, info TEXT NOT NULL)"
        )

    def _run(self, sql: str, *args: str) -> list[tuple[str, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def get(self, digest: str) -> str | None:
        rows = self._run("SELECT info FROM api_keys WHERE hash = ?", digest)
        return rows[0][0] if rows else None

    def put(self, digest: str, info: str) -> None:
        self._run("INSERT OR REPLACE INTO api_keys (hash, info) VALUES (?, ?)", digest, info)

    def delete(self, digest: str) -> None:
        self._run("DELETE FROM api_keys WHERE hash = ?", digest)

    def items(self) -> dict[str, str]:
        return dict(self._run("SELECT hash, info FROM api_keys"))  # type: ignore[arg-type]

    def any(self) -> bool:
        return bool(self._run("SELECT 1 FROM api_keys LIMIT 1"))

    # a local indexed read (WAL: readers do not wait for writers) is called in the loop
    async def aget(self, digest: str) -> str | None:
        return self.get(digest)

    async def aany(self) -> bool:
        return self.any()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    async def aclose(self) -> None:
        pass


class _RedisStorage:
    """Hash ``<prefix>:apikeys`` beside the Redis queue store's keys."""

    def __init__(self, uri: str) -> None:
        import redis

        parts = urlsplit(uri)
        query = parse_qs(parts.query)
        prefix = (query.pop("prefix", ["cielo:queue"])[0] or "cielo:queue").rstrip(":")
        rest = "&".join(f"{k}={v}" for k, values in query.items() for v in values)
        self._key = f"{prefix}:apikeys"
        self._url = urlunsplit((parts.scheme, parts.netloc, parts.path, rest, ""))
        self._redis = redis.Redis.from_url(self._url, decode_responses=True)
        self._async: tuple[asyncio.AbstractEventLoop, Any] | None = None

    def get(self, digest: str) -> str | None:
        found: str | None = self._redis.hget(self._key, digest)  # type: ignore[assignment]
        return found

    def put(self, digest: str, info: str) -> None:
        self._redis.hset(self._key, digest, info)

    def delete(self, digest: str) -> None:
        self._redis.hdel(self._key, digest)

    def items(self) -> dict[str, str]:
        return dict(self._redis.hgetall(self._key))  # type: ignore[arg-type]

    def any(self) -> bool:
        return bool(self._redis.hlen(self._key))

    def _client(self) -> Any:
        """The asyncio client of the running loop (one per loop: its connections belong
        to the loop that opened them)."""
        loop = asyncio.get_running_loop()
        if self._async is None or self._async[0] is not loop:
            import redis.asyncio

            self._async = (loop, redis.asyncio.Redis.from_url(self._url, decode_responses=True))
        return self._async[1]

    async def aget(self, digest: str) -> str | None:
        found: str | None = await self._client().hget(self._key, digest)
        return found

    async def aany(self) -> bool:
        return bool(await self._client().hlen(self._key))

    def close(self) -> None:
        self._redis.close()

    async def aclose(self) -> None:
        opened, self._async = self._async, None
        if opened is not None and opened[0] is asyncio.get_running_loop():
            await opened[1].aclose()


class KeyRing:
    """API keys created and revoked at run time, stored hashed in shared storage."""

    def __init__(self, storage: _Storage) -> None:
        self._storage = storage
        self._lock = threading.Lock()
        self._decoded: dict[str, tuple[KeyInfo, Principal]] = {}

    def __bool__(self) -> bool:
        return self._storage.any()

    def close(self) -> None:
        self._storage.close()

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
        self._storage.put(secret_digest(secret), json.dumps(info.as_json()))
        return secret, info

    def revoke(self, key_id: str) -> KeyInfo:
        """Forget the key whose id (first eight characters) is ``key_id``."""
        with self._lock:
            found = [(h, k) for h, k in self._all().items() if k.id == key_id]
            if len(found) != 1:
                raise QueueError(
                    f"no API key with id {key_id!r}"
                    if not found
                    else f"{len(found)} keys have id {key_id!r}; revoke them by user"
                )
            digest, info = found[0]
            self._storage.delete(digest)
        return info

    def keys(self, user: str | None = None) -> list[KeyInfo]:
        """The keys (of ``user``), oldest first."""
        listed = sorted(self._all().values(), key=lambda k: k.created)
        return [k for k in listed if user is None or k.user == user]

    async def aclose(self) -> None:
        """Close the asyncio connections of the running loop (lookups by requests)."""
        await self._storage.aclose()

    def authenticate(self, scheme: str, credentials: str) -> Principal | None:
        if scheme != "apikey":
            return None
        return self._principal(self._storage.get(secret_digest(credentials)))

    async def authenticate_async(self, scheme: str, credentials: str) -> Principal | None:
        """:meth:`authenticate` awaiting the storage (the server's requests use this)."""
        if scheme != "apikey":
            return None
        return self._principal(await self._storage.aget(secret_digest(credentials)))

    async def exists_async(self) -> bool:
        """Whether any key is stored (``bool(keyring)`` awaiting the storage)."""
        return await self._storage.aany()

    def _principal(self, stored: str | None) -> Principal | None:
        if stored is None:
            return None
        known = self._decoded.get(stored)
        if known is None:  # decoded once per stored text (revocation is still looked up)
            if len(self._decoded) > 1024:
                self._decoded.clear()
            info = KeyInfo.from_json(json.loads(stored))
            known = self._decoded[stored] = (info, info.principal())
        info, principal = known
        if info.expires is not None and info.expires < time.time():
            when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(info.expires))
            raise AccessError(
                f"API key {info.id} of {info.user!r} expired at {when}; ask an admin for a new one",
                401,
            )
        return principal

    def import_file(self, path: Path) -> int:
        """Add the keys of an older server's ``keys.json`` not stored yet, then rename the
        file ``keys.json.imported``; the number of keys added."""
        if not path.exists():
            return 0
        try:
            data = json.loads(path.read_text())["keys"]
            infos = {h: KeyInfo.from_json(k) for h, k in data.items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise QueueError(
                f"cannot read the API keys in {path}: {exc}; restore the file or remove it "
                "(every key it held is then revoked)"
            ) from None
        known = self._storage.items()
        added = [h for h in infos if h not in known]
        for digest in added:
            self._storage.put(digest, json.dumps(infos[digest].as_json()))
        os.replace(path, path.with_name(path.name + ".imported"))
        return len(added)

    def _all(self) -> dict[str, KeyInfo]:
        return {h: KeyInfo.from_json(json.loads(k)) for h, k in self._storage.items().items()}


def open_keyring(store_uri: str) -> KeyRing:
    """The key ring kept beside the queue store at ``store_uri`` (``sqlite:///...``, a
    plain path, or ``redis://...``)."""
    scheme, sep, rest = store_uri.partition("://")
    if not sep:
        return KeyRing(_SQLiteStorage(store_uri))
    if scheme == "sqlite":
        return KeyRing(_SQLiteStorage(rest[1:] if rest.startswith("/") else rest))
    if scheme in ("redis", "rediss"):
        return KeyRing(_RedisStorage(store_uri))
    raise QueueError(
        f"API keys cannot be kept beside the queue store {store_uri!r}: only SQLite and "
        "Redis stores hold them"
    )
