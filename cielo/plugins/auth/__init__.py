"""Bundled plugin: authenticators for the queue server, offered through
``cielo_authenticators``.

- ``htpasswd``: HTTP Basic authentication against an Apache password file of bcrypt
  hashes (``htpasswd -B``); ``cielo serve --auth htpasswd:file=PATH[,role=user]
  [,group=primary]``. See :class:`HtpasswdAuthenticator`.

PAM, LDAP or OIDC come as plugins of their own, offering a factory by the same hook.
"""

from __future__ import annotations

from collections.abc import Mapping

from cielo.core import hookimpl
from cielo.hookspecs import AuthenticatorFactory

from ._htpasswd import HtpasswdAuthenticator

__all__ = ["HtpasswdAuthenticator", "cielo_authenticators"]


@hookimpl
def cielo_authenticators() -> Mapping[str, AuthenticatorFactory]:
    """Offer ``htpasswd``."""
    return {"htpasswd": HtpasswdAuthenticator}
