"""HTTP Basic authentication as an LDAP simple bind (ldap3, ``pip install 'cielo[ldap]'``).

The user's DN comes from a template (``user_dn = "uid={user},ou=people,dc=example,dc=org"``
or ``"{user}@example.org"`` for Active Directory) or from a search (``search_base``,
``search_filter``, as the service account ``bind_dn`` when anonymous search is not
allowed); the password is checked by binding as that DN. The user's groups come from a
group search (``group_base``, ``group_filter``) or, without ``group_base``, from the
entry's ``memberOf``; their names map to roles. A user name matches whatever its case,
as the directory matches it: the user is known by the name their entry holds
(``name_attribute``, default ``uid``), so ``Bob`` and ``bob`` own the same items. User
names are escaped for DNs and
filters; an empty password is refused before the directory is asked (an LDAP bind with
one is an anonymous bind, which succeeds).

Options are many and DNs hold commas, so they usually come from a TOML file
(``--auth ldap:config=/etc/cielo/ldap.toml``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import math
import re
import ssl
from typing import Any
from urllib.parse import urlsplit

from cielo.hookspecs import AuthenticationError, AuthenticatorUnavailableError, Identity

from ._options import Checked, Options, RoleMap, basic_credentials, wrong_credentials

__all__ = ["LdapAuthenticator"]

logger = logging.getLogger("cielo.plugins.auth")

OPTIONS = {
    "url": "the directory, ldap://HOST[:389] or ldaps://HOST[:636]",
    "user_dn": "the user's DN with {user}, e.g. uid={user},ou=people,dc=example,dc=org",
    "search_base": "where to search the user's DN (instead of user_dn)",
    "search_filter": "the search's filter with {user} (default (uid={user}))",
    "bind_dn": "the service account that searches (default: anonymous)",
    "bind_password_file": "a file holding the service account's password",
    "group_base": "where to search the user's groups (default: read the user's memberOf)",
    "group_filter": "the group search's filter with {dn} and {user} "
    "(default (|(member={dn})(uniqueMember={dn})(memberUid={user})))",
    "group_attribute": "the attribute naming a group (default cn)",
    "member_of_attribute": "the user's attribute listing their groups (default memberOf)",
    "name_attribute": "the user's attribute holding their name (default uid; Active "
    "Directory: sAMAccountName): a name typed in another case is the same user",
    "roles": "LDAP groups to roles, GROUP:ROLE+GROUP:ROLE (or a TOML table)",
    "role": "the role of users in none of those groups (default 'observer'; 'none' refuses them)",
    "group": "the users' group in the permissions file (default 'primary')",
    "start_tls": "upgrade ldap:// with StartTLS (default false)",
    "ca_file": "the CA certificates (PEM) the server's certificate is checked against",
    "verify": "check the server's certificate (default true; false for tests only)",
    "timeout": "seconds to connect and to wait for an answer (default 5)",
    "cache": "seconds a checked password is remembered (default 60; 0: bind every time)",
    "config": "a TOML file holding these options",
}


class LdapAuthenticator:
    """``Authorization: Basic ...`` checked by binding to an LDAP directory as the user;
    see the module's text for the options."""

    schemes = ("basic",)  # the web login offers a password field

    def __init__(self, **options: Any) -> None:
        try:
            import ldap3
        except ImportError:
            raise ImportError("LDAP needs ldap3: pip install 'cielo[ldap]'") from None
        self._ldap3 = ldap3
        opts = Options("ldap", options, OPTIONS, required=["url"])
        self.url = opts.text("url")
        parts = urlsplit(self.url)
        if parts.scheme not in ("ldap", "ldaps") or not parts.hostname:
            raise ValueError(f"url={self.url!r} is not ldap://HOST[:PORT] or ldaps://HOST[:PORT]")
        self.user_dn = opts.text("user_dn")
        self.search_base = opts.text("search_base")
        if bool(self.user_dn) == bool(self.search_base):
            raise ValueError(
                "give either user_dn (a template with {user}) or search_base (to search "
                "the user's DN), not " + ("both" if self.user_dn else "neither")
            )
        if self.user_dn and "{user}" not in self.user_dn:
            raise ValueError(f"user_dn={self.user_dn!r} has no {{user}} placeholder")
        self.search_filter = opts.text("search_filter", "(uid={user})")
        self.bind_dn = opts.text("bind_dn")
        secret = opts.file("bind_password_file")
        self._bind_password = secret.read_text().strip() if secret else ""
        if self.bind_dn and not self._bind_password:
            raise ValueError(
                f"bind_dn={self.bind_dn!r} needs bind_password_file=PATH (a file holding "
                "its password)"
            )
        self.group_base = opts.text("group_base")
        self.group_filter = opts.text(
            "group_filter", "(|(member={dn})(uniqueMember={dn})(memberUid={user}))"
        )
        self.group_attribute = opts.text("group_attribute", "cn")
        self.member_of = opts.text("member_of_attribute", "memberOf")
        self.name_attribute = opts.text("name_attribute", "uid")
        self.roles = RoleMap.parse(opts)
        self.group = opts.text("group", "primary")
        self.start_tls = opts.flag("start_tls", False)
        self.timeout = max(1, math.ceil(opts.number("timeout", 5.0)))  # ldap3 wants whole seconds
        ca_file = opts.file("ca_file")
        verify = opts.flag("verify", True)
        self._tls = ldap3.Tls(
            validate=ssl.CERT_REQUIRED if verify else ssl.CERT_NONE,
            ca_certs_file=str(ca_file) if ca_file else None,
        )
        self._checked = Checked(opts.number("cache", 60.0))
        if parts.scheme == "ldap" and not self.start_tls and not _is_loopback(parts.hostname):
            logger.warning(
                "ldap: passwords go to %s in clear text; use ldaps:// or start_tls=true",
                self.url,
            )
        self._check_reachable()

    def __repr__(self) -> str:
        return f"LdapAuthenticator({self.url!r})"

    @property
    def grants(self) -> tuple[str, ...]:
        return self.roles.grants

    def authenticate(self, scheme: str, credentials: str) -> Identity | None:
        if scheme != "basic":
            return None
        user, password = basic_credentials(credentials)
        known = self._checked.get(user, password)
        if known is not None:
            return known
        if not password or any(ord(c) < 32 for c in user):
            raise wrong_credentials(user)
        from ldap3.core.exceptions import LDAPException

        try:
            name, groups = self._check(user, password)
        except LDAPException as exc:  # the directory stopped answering mid-way
            raise _Unreachable(self.url, exc) from None
        identity = self.roles.identity(name, groups, self.group)
        self._checked.put(user, password, identity)
        return identity

    # -- the directory --------------------------------------------------------------------

    def _check(self, user: str, password: str) -> tuple[str, list[str]]:
        """Bind as ``user`` (refused if the password is wrong); their name as the
        directory spells it, and their groups' names."""
        service = self._service() if self.bind_dn or self.search_base else None
        try:
            dn = self._user_dn(service, user)
            conn = self._connection(dn, password)
            try:
                if not conn.bind():
                    self._refuse(user, conn.result)
                name, member_of = self._entry(service or conn, dn, user)
                if self.group_base:
                    return name, self._groups(service or conn, dn, name)
                return name, member_of
            finally:
                _close(conn)
        finally:
            if service is not None:
                _close(service)

    def _connection(self, dn: str | None, password: str | None) -> Any:
        """An open (and, with start_tls, encrypted) connection, not yet bound."""
        ldap3 = self._ldap3
        server = ldap3.Server(
            self.url,
            use_ssl=self.url.startswith("ldaps:"),
            tls=self._tls,
            connect_timeout=self.timeout,
            get_info=ldap3.NONE,
        )
        conn = ldap3.Connection(
            server,
            user=dn,
            password=password,
            authentication=ldap3.SIMPLE if dn else ldap3.ANONYMOUS,
            receive_timeout=self.timeout,
            read_only=True,
            raise_exceptions=False,
        )
        try:
            conn.open()
            if self.start_tls and not conn.start_tls():
                raise ldap3.core.exceptions.LDAPStartTLSError(conn.result)
        except ldap3.core.exceptions.LDAPException as exc:
            _close(conn)
            raise _Unreachable(self.url, exc) from None
        return conn

    def _refuse(self, user: str, result: Any) -> None:
        """The refusal of a failed bind: the user is told nothing of why (the log is)."""
        code = (result or {}).get("result")
        if code in (49, 50, 53):  # invalidCredentials, insufficientAccess, unwillingToPerform
            logger.info("ldap: bind of %r refused: %s", user, (result or {}).get("message"))
            raise wrong_credentials(user)
        logger.warning("ldap: bind of %r failed at %s: %s", user, self.url, result)
        raise AuthenticationError(
            f"the directory could not check the password of {user!r} (the log says why)"
        )

    def _service(self) -> Any:
        """A connection bound as the service account (or anonymous) for searches."""
        conn = self._connection(self.bind_dn or None, self._bind_password or None)
        if not conn.bind():
            _close(conn)
            logger.error("ldap: %s refused bind_dn %r: %s", self.url, self.bind_dn, conn.result)
            raise AuthenticationError(
                "the directory refused the server's own account (the server's log says why)"
            )
        return conn

    def _user_dn(self, service: Any, user: str) -> str:
        from ldap3.utils.conv import escape_filter_chars
        from ldap3.utils.dn import escape_rdn

        if self.user_dn:
            return self.user_dn.format(user=escape_rdn(user))
        query = self.search_filter.format(user=escape_filter_chars(user))
        service.search(self.search_base, query, attributes=[], size_limit=2)
        found = [e["dn"] for e in service.response or [] if e.get("type") == "searchResEntry"]
        if len(found) != 1:
            if len(found) > 1:
                logger.warning("ldap: %d entries match %s; refusing %r", len(found), query, user)
            raise wrong_credentials(user)
        return str(found[0])

    def _entry(self, conn: Any, dn: str, user: str) -> tuple[str, list[str]]:
        """The user's name as the directory spells it (the directory matches names
        whatever their case, so ``Bob`` and ``bob`` are one user, with one name for
        the items they own), else ``user`` in lower case; and the groups of their
        ``memberOf``."""
        from ldap3.utils.dn import parse_dn

        wanted = [self.name_attribute] + ([] if self.group_base else [self.member_of])
        conn.search(dn, "(objectClass=*)", search_scope="BASE", attributes=wanted)
        entries = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
        found = entries[0]["attributes"] if entries else {}
        spelt = found.get(self.name_attribute)
        spelt = spelt[0] if isinstance(spelt, list) and spelt else spelt
        name = spelt if isinstance(spelt, str) and spelt.casefold() == user.casefold() else None
        groups = [] if self.group_base else found.get(self.member_of) or []
        return name or user.casefold(), [parse_dn(v)[0][1] for v in groups if v]

    def _groups(self, conn: Any, dn: str, user: str) -> list[str]:
        """The names of the groups ``dn`` is in (searched under ``group_base``)."""
        from ldap3.utils.conv import escape_filter_chars

        query = self.group_filter.format(dn=escape_filter_chars(dn), user=escape_filter_chars(user))
        conn.search(self.group_base, query, attributes=[self.group_attribute])
        names = []
        for entry in conn.response or []:
            if entry.get("type") == "searchResEntry":
                value = entry["attributes"].get(self.group_attribute)
                names += value if isinstance(value, list) else [value]
        return [str(n) for n in names if n]

    def _check_reachable(self) -> None:
        """Connect (and bind the service account) once at start: a wrong url, a refused
        certificate or service account stops the server here."""
        try:
            conn = self._service() if self.bind_dn else self._connection(None, None)
        except _Unreachable as exc:
            raise ValueError(exc.advice()) from None
        except AuthenticationError:
            raise ValueError(
                f"{self.url} refused bind_dn={self.bind_dn!r} with the password in "
                "bind_password_file: check both"
            ) from None
        _close(conn)


class _Unreachable(AuthenticatorUnavailableError):
    """The directory cannot be reached (refused, timed out, TLS refused): 503."""

    def __init__(self, url: str, cause: Exception) -> None:
        self.url, self.cause = url, cause
        super().__init__(
            f"the LDAP directory {url} cannot be reached now ({self.reason()}), so the "
            "password could not be checked; try again, and if it lasts, ask the server's "
            "admin to check that the directory runs and that this server can reach it"
        )
        logger.warning("ldap: cannot reach %s: %s", url, cause)

    def reason(self) -> str:
        text = str(self.cause)  # ldap3 nests the reason in tuples: keep the reason
        found = re.search(r"\[SSL: \w+\] ([^'\"]+?) \(_ssl", text) or re.search(
            r"(\[Errno \d+\] [^'\")]+)", text
        )
        return found.group(1) if found else text

    def advice(self) -> str:
        text = self.reason()
        if "certificate" in text.lower() or "ssl" in text.lower() or "tls" in text.lower():
            return (
                f"TLS with {self.url} failed ({text}); give the CA that signed its "
                "certificate with ca_file=PATH"
            )
        return (
            f"cannot reach the LDAP server url={self.url!r} ({text}); check the host and "
            "port (ldap://HOST:389, ldaps://HOST:636) and that the server runs"
        )


def _close(conn: Any) -> None:
    """Unbind and close, whatever state the connection is in."""
    from ldap3.core.exceptions import LDAPException

    with contextlib.suppress(LDAPException, OSError):
        conn.unbind()


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
