"""The settings of one queue server: profile, store, address, keys, run directory, timings."""

from __future__ import annotations

import ipaddress
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cielo.core.paths import state_dir

from ._store import QueueError

__all__ = ["API_KEY_ENV", "Settings", "is_loopback", "parse_auth", "state_dir"]

#: The environment variable whose value becomes a single-user API key with every scope.
API_KEY_ENV = "CIELO_SERVER_API_KEY"
#: Unix socket paths are limited to about 107 bytes.
_MAX_SOCKET_PATH = 100


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (``127.0.0.1``, ``::1``, ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_auth(text: str) -> tuple[str, dict[str, str]]:
    """``"NAME:KEY=VALUE,KEY=VALUE"`` (``--auth``) as ``(NAME, {KEY: VALUE})``."""
    name, _, rest = text.partition(":")
    options: dict[str, str] = {}
    for part in filter(None, rest.split(",")):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise QueueError(
                f"--auth {text!r}: option {part!r} is not KEY=VALUE; write "
                "NAME:KEY=VALUE,KEY=VALUE (e.g. htpasswd:file=/etc/cielo/users)"
            )
        options[key.strip()] = value.strip()
    if not name.strip():
        raise QueueError(f"--auth {text!r} names no authenticator; write NAME:KEY=VALUE,...")
    return name.strip(), options


@dataclass
class Settings:
    """What :func:`~cielo.server.build_app` needs to build one server.

    :param profile: the profile the worker loads (name or path).
    :param store: the queue store's URI (default: ``queue.sqlite`` in :attr:`run_dir`).
    :param run_dir: where the worker's socket and log live (default: ``server/<profile>``
        in cielo's state directory).
    :param api_keys: API key -> user name, each an admin (``$CIELO_SERVER_API_KEY``);
        more keys, with roles, are created at run time (``/api/auth/apikey``) and kept
        hashed beside the queue store (every manager sharing the store shares them).
    :param auth: authenticators offered by plugins (``cielo_authenticators``), asked
        after the API keys: each ``(name, options)``, from ``--auth NAME:KEY=VALUE,...``.
    :param permissions: a permissions file (which plans and devices each group may use;
        see :mod:`cielo.server._permissions`); none: every group may use everything.
    :param heartbeat: seconds between the worker's heartbeats.
    :param heartbeat_timeout: a worker silent this long is looked at: if its process is
        stopped it is declared hung (and killed); if it is using CPU or waiting for one,
        it is busy (a plan holding the interpreter) and is left alone.
    :param hang_timeout: a worker silent this long while its process sleeps and uses no
        CPU is declared hung (and killed); without ``/proc`` (not Linux), any worker
        silent this long.
    :param orphan_timeout: a worker left without a manager this long, with nothing running,
        closes its environment (releasing the instrument) and exits
        (``$CIELO_SERVER_ORPHAN_TIMEOUT`` overrides it).
    :param open_timeout: seconds a worker may take to load its profile.
    :param max_body: the largest request body accepted, in bytes.
    :param open_environment: open the environment (start the worker) at start-up.
    :param prestart: keep a worker started ahead while the environment is closed (its
        imports and plugin modules loaded), so ``environment_open`` only reads the
        profile; ``environment_reload`` always starts a fresh one.
    """

    profile: str = "sim"
    store: str | None = None
    host: str = "127.0.0.1"
    port: int = 60610
    run_dir: Path | None = None
    api_keys: Mapping[str, str] = field(default_factory=dict)
    permissions: Path | None = None
    auth: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    heartbeat: float = 0.2
    heartbeat_timeout: float = 1.0
    hang_timeout: float = 10.0
    orphan_timeout: float = 60.0
    open_timeout: float = 60.0
    max_body: int = 64 * 1024 * 1024
    open_environment: bool = False
    prestart: bool = True

    def __post_init__(self) -> None:
        if self.run_dir is None:
            name = Path(self.profile).stem if os.sep in self.profile else self.profile
            self.run_dir = state_dir() / "server" / name
        self.run_dir = Path(self.run_dir)
        if self.permissions is not None:
            self.permissions = Path(self.permissions)
        if self.store is None:
            self.store = f"sqlite:///{self.run_dir / 'queue.sqlite'}"

    @classmethod
    def from_environment(cls, **kwargs: Any) -> Settings:
        """Settings with the single-user key of ``$CIELO_SERVER_API_KEY`` (if set)."""
        key = os.environ.get(API_KEY_ENV, "").strip()
        keys = dict(kwargs.pop("api_keys", {}) or {})
        if key:
            keys[key] = "single-user"
        orphan = os.environ.get("CIELO_SERVER_ORPHAN_TIMEOUT")
        if orphan and "orphan_timeout" not in kwargs:
            kwargs["orphan_timeout"] = float(orphan)
        return cls(api_keys=keys, **kwargs)

    @property
    def socket_path(self) -> Path:
        """The worker's Unix socket (in :attr:`run_dir`, or the temp directory if that
        path is too long for a socket)."""
        return self._socket("worker")

    @property
    def standby_socket_path(self) -> Path:
        """The socket of the worker started ahead (see :attr:`prestart`)."""
        return self._socket("standby")

    def _socket(self, name: str) -> Path:
        assert self.run_dir is not None
        path = self.run_dir / f"{name}.sock"
        if len(str(path).encode()) > _MAX_SOCKET_PATH:
            import hashlib

            digest = hashlib.sha256(str(self.run_dir).encode()).hexdigest()[:16]
            path = Path(tempfile.gettempdir()) / f"cielo-{name}-{digest}.sock"
        return path

    @property
    def log_path(self) -> Path:
        """The worker's stdout and stderr."""
        assert self.run_dir is not None
        return self.run_dir / "worker.log"

    @property
    def keys_path(self) -> Path:
        """Where an older server kept its API keys (imported into the store at start)."""
        assert self.run_dir is not None
        return self.run_dir / "keys.json"

    def check(self, *, other_keys: bool = False) -> None:
        """Refuse to serve beyond loopback without authentication (``other_keys``: keys
        exist besides :attr:`api_keys`)."""
        if not is_loopback(self.host) and not self.api_keys and not other_keys:
            raise QueueError(
                f"refusing to serve on {self.host!r} without authentication: anyone on the "
                f"network could drive the instrument; set {API_KEY_ENV}=<a long random key> "
                "(clients send it as 'Authorization: ApiKey <key>'), or serve on 127.0.0.1 "
                "behind an authenticating reverse proxy"
            )
