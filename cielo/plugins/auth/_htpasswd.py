"""HTTP Basic authentication against an htpasswd file of bcrypt hashes.

Each line is ``user:$2y$...`` as Apache's ``htpasswd -B`` writes it, with an optional
third field (nginx's comment field) naming the user's roles, ``+``-separated
(``alice:$2y$...:admin``, ``bob:$2y$...:user+reviewer``); users without it get the
authenticator's ``role``. Lines of other hash kinds (MD5 ``$apr1$``, SHA-1, crypt) are
refused when the file is read: they are too fast to guess. The server checks the roles
(an unknown one is refused naming the user). The file is read again when
it changes, so adding or removing a user needs no restart. A checked password is
remembered (by its SHA-256) until the file changes, so bcrypt's deliberate slowness is
paid once per user, not per request.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path

from cielo.hookspecs import AuthenticationError, Identity

from ._options import basic_credentials, wrong_credentials

__all__ = ["HtpasswdAuthenticator"]

_BCRYPT = ("$2y$", "$2b$", "$2a$")
logger = logging.getLogger("cielo.plugins.auth")


class HtpasswdAuthenticator:
    """``Authorization: Basic base64(user:password)`` checked against ``file``.

    :param file: the htpasswd file (bcrypt lines only).
    :param role: the role of users whose line names none (default ``user``).
    :param group: the users' group in the permissions file (default ``primary``).
    """

    #: the ``Authorization`` scheme it reads (the web login offers a password field)
    schemes = ("basic",)

    def __init__(self, file: str, role: str = "user", group: str = "primary") -> None:
        self.path = Path(file).expanduser()
        self.role = role
        self.group = group
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._users: dict[str, tuple[bytes, tuple[str, ...]]] = {}
        self._checked: dict[tuple[str, str], Identity] = {}
        self._load()  # a missing or malformed file is refused at start

    def __repr__(self) -> str:
        return f"HtpasswdAuthenticator({str(self.path)!r})"

    def authenticate(self, scheme: str, credentials: str) -> Identity | None:
        if scheme != "basic":
            return None
        user, password = basic_credentials(credentials)
        try:
            self._load()
        except AuthenticationError as exc:  # a bad edit: the users read before stay
            logger.warning("%s; the users read before stay", exc)
        digest = hashlib.sha256(password.encode()).hexdigest()
        known = self._checked.get((user, digest))
        if known is not None:
            return known
        entry = self._users.get(user)
        import bcrypt

        if entry is None or not bcrypt.checkpw(password.encode(), entry[0]):
            raise wrong_credentials(user)
        identity = Identity(user, entry[1] or (self.role,), self.group)
        with self._lock:
            self._checked[(user, digest)] = identity
        return identity

    def _load(self) -> None:
        """Read the file if it changed since the last read (stat costs about a µs)."""
        try:
            stat = self.path.stat()
        except OSError as exc:
            raise AuthenticationError(f"cannot read the htpasswd file {self.path}: {exc}") from None
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        users: dict[str, tuple[bytes, tuple[str, ...]]] = {}
        for number, line in enumerate(self.path.read_text().splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            user, _, rest = line.strip().partition(":")
            hashed, _, comment = rest.partition(":")
            where = f"{self.path} line {number} ({user!r})"
            if not hashed.startswith(_BCRYPT):
                raise AuthenticationError(
                    f"{where}: not a bcrypt hash; write it with 'htpasswd -B {self.path} {user}'"
                )
            roles = tuple(r for r in comment.strip().split("+") if r)
            users[user] = (hashed.encode(), roles)
        with self._lock:
            self._users, self._checked, self._stamp = users, {}, stamp
