"""HTTP Basic authentication against PAM (python-pam, ``pip install 'cielo[pam]'``).

The user name and password go through the PAM service named ``service`` (its file in
``/etc/pam.d/``): ``pam_authenticate`` then ``pam_acct_mgmt`` (an expired or locked
account is refused too); the server's own credentials are never set. The user's Unix
groups (``os.getgrouplist``) map to roles. Each check builds its own PAM handle, so
checks may run in parallel threads.

``pam_unix`` reads ``/etc/shadow``: a server that does not run as root must be in the
``shadow`` group for it to check other users' passwords (``pam_sss`` and Kerberos
modules need no such thing).
"""

from __future__ import annotations

import grp
import logging
import os
import pwd
from pathlib import Path
from typing import Any

from cielo.core.suggest import did_you_mean
from cielo.hookspecs import AuthenticationError, Identity

from ._options import Checked, Options, RoleMap, basic_credentials, wrong_credentials

__all__ = ["PamAuthenticator"]

logger = logging.getLogger("cielo.plugins.auth")

_PAM_DIRS = (Path("/etc/pam.d"), Path("/usr/lib/pam.d"), Path("/lib/pam.d"))

OPTIONS = {
    "service": "the PAM service, a file in /etc/pam.d/ (default 'cielo')",
    "roles": "Unix groups to roles, GROUP:ROLE+GROUP:ROLE (e.g. staff:admin+users:user)",
    "role": "the role of users in none of those groups (default 'observer'; 'none' refuses them)",
    "group": "the users' group in the permissions file (default 'primary')",
    "cache": "seconds a checked password is remembered (default 60; 0: ask PAM every time)",
    "config": "a TOML file holding these options",
}


class PamAuthenticator:
    """``Authorization: Basic ...`` checked by PAM; see the module's text for the options
    (``cielo serve --auth pam:service=cielo,roles=staff:admin+users:user``)."""

    schemes = ("basic",)  # the web login offers a password field

    def __init__(self, **options: Any) -> None:
        try:
            import pam
        except ImportError:
            raise ImportError("PAM needs python-pam: pip install 'cielo[pam]'") from None
        self._pam = pam
        opts = Options("pam", options, OPTIONS)
        self.service = opts.text("service", "cielo")
        self.roles = RoleMap.parse(opts)
        self.group = opts.text("group", "primary")
        self._checked = Checked(opts.number("cache", 60.0))
        self._check_service()
        self._check_groups()
        if os.geteuid() != 0 and not os.access("/etc/shadow", os.R_OK):
            logger.warning(
                "pam: this server cannot read /etc/shadow, so pam_unix can check only its "
                "own user's password; run it in the 'shadow' group, or use pam_sss"
            )

    def __repr__(self) -> str:
        return f"PamAuthenticator(service={self.service!r})"

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
        if not password or "\0" in user or "\0" in password:
            raise wrong_credentials(user)
        handle = self._pam.PamAuthenticator()  # one per check: a handle is not thread-safe
        if not handle.authenticate(user, password, service=self.service, resetcreds=False):
            self._refuse(user, handle.code, handle.reason)
        identity = self.roles.identity(user, _unix_groups(user), self.group)
        self._checked.put(user, password, identity)
        return identity

    def _refuse(self, user: str, code: int, reason: Any) -> None:
        """The refusal of a failed check: the user is told nothing of why (the log is)."""
        pam = self._pam
        refused = {
            pam.PAM_AUTH_ERR,
            pam.PAM_USER_UNKNOWN,
            pam.PAM_MAXTRIES,
            pam.PAM_ACCT_EXPIRED,
            pam.PAM_PERM_DENIED,
            pam.PAM_NEW_AUTHTOK_REQD,
            pam.PAM_AUTHTOK_EXPIRED,
            pam.PAM_CRED_INSUFFICIENT,
        }
        if code in refused:
            logger.info("pam: %r refused by service %r: %s", user, self.service, reason)
            raise wrong_credentials(user)
        logger.warning(
            "pam: service %r failed checking %r: %s (%s)", self.service, user, reason, code
        )
        raise AuthenticationError(
            f"PAM could not check the password of {user!r} (the server's log says why)"
        )

    def _check_service(self) -> None:
        """A missing service file would fall back to PAM's ``other`` stack: refuse it."""
        if not self.service or "/" in self.service or self.service.startswith("."):
            raise ValueError(f"service={self.service!r} is not a PAM service name")
        if any((d / self.service).is_file() for d in _PAM_DIRS):
            return
        names = sorted({p.name for d in _PAM_DIRS if d.is_dir() for p in d.iterdir()})
        hint = did_you_mean(self.service, names, before=" (", after=")")
        raise ValueError(
            f"no PAM service {self.service!r}: /etc/pam.d/{self.service} does not exist{hint}; "
            f"create it (e.g. '@include common-auth' and '@include common-account') or name "
            "an existing service with service=NAME"
        )

    def _check_groups(self) -> None:
        """Every group of the role map exists (a typo would grant nothing)."""
        for name in self.roles.by_group:
            try:
                grp.getgrnam(name)
            except KeyError:
                names = [g.gr_name for g in grp.getgrall()]
                hint = did_you_mean(name, names, before=" (", after=")")
                raise ValueError(
                    f"roles: no Unix group {name!r}{hint}; 'getent group' lists them"
                ) from None


def _unix_groups(user: str) -> list[str]:
    """The names of the groups ``user`` is in (primary and supplementary)."""
    try:
        gid = pwd.getpwnam(user).pw_gid
    except KeyError:  # PAM knew them (sssd, LDAP) but NSS does not: no groups
        return []
    names = []
    for number in os.getgrouplist(user, gid):
        try:
            names.append(grp.getgrgid(number).gr_name)
        except KeyError:
            continue
    return names
