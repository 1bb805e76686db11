"""Bundled plugin: authenticators for the queue server, offered through
``cielo_authenticators`` (``cielo serve --auth NAME:KEY=VALUE,...``).

- ``htpasswd``: HTTP Basic against an Apache password file of bcrypt hashes
  (``htpasswd:file=PATH[,role=user][,group=primary]``). See :class:`HtpasswdAuthenticator`.
- ``pam``: HTTP Basic against a PAM service, roles from Unix groups (extra ``pam``).
  See :class:`PamAuthenticator`.
- ``ldap``: HTTP Basic as an LDAP simple bind, roles from LDAP groups (extra ``ldap``).
  See :class:`LdapAuthenticator`.
- ``oidc``: OpenID Connect bearer tokens (JWTs) checked against the issuer's keys, roles
  from a claim (extra ``oidc``). See :class:`OidcAuthenticator`.

Each library is imported when its authenticator is built, so the others work without it.
"""

from __future__ import annotations

from collections.abc import Mapping

from cielo.core import hookimpl
from cielo.hookspecs import AuthenticatorFactory

from ._htpasswd import HtpasswdAuthenticator
from ._ldap import LdapAuthenticator
from ._oidc import OidcAuthenticator
from ._pam import PamAuthenticator

__all__ = [
    "HtpasswdAuthenticator",
    "LdapAuthenticator",
    "OidcAuthenticator",
    "PamAuthenticator",
    "cielo_authenticators",
]


@hookimpl
def cielo_authenticators() -> Mapping[str, AuthenticatorFactory]:
    """Offer ``htpasswd``, ``pam``, ``ldap`` and ``oidc``."""
    return {
        "htpasswd": HtpasswdAuthenticator,
        "ldap": LdapAuthenticator,
        "oidc": OidcAuthenticator,
        "pam": PamAuthenticator,
    }
