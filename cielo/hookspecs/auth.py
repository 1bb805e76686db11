"""Hook through which plugins offer authenticators for the queue server (PAM, LDAP, OIDC,
a password file...)."""

from __future__ import annotations

from collections.abc import Mapping

from cielo.core.plugins import hookspec

from .types import AuthenticatorFactory

__all__ = ["cielo_authenticators"]


@hookspec
def cielo_authenticators() -> Mapping[str, AuthenticatorFactory] | None:
    """Offer authenticators that the queue server may ask who sent a request.

    Fires once per plugin manager, when the registry of contributions is built;
    ``cielo serve --auth NAME:KEY=VALUE,...`` builds the authenticator ``NAME``.

    :returns: a mapping from authenticator name to a factory called as
        ``factory(**options)`` with the ``--auth`` options (strings); the authenticator
        it returns has ``authenticate(scheme, credentials) -> Identity | None`` (see
        :class:`~cielo.hookspecs.types.AuthenticatorLike`), is asked after the server's
        API keys, and raises :class:`~cielo.hookspecs.types.AuthenticationError` for
        wrong credentials of its kind, or
        :class:`~cielo.hookspecs.types.AuthenticatorUnavailableError` (the server answers
        503) when the service it asks cannot be reached. The server calls ``authenticate`` in a thread (it
        may block on a network or PAM; give it a timeout), never in its event loop. An
        optional attribute ``grants`` lists every role it may give, checked at start; an
        optional ``schemes`` names the ``Authorization`` schemes it reads (``("basic",)``:
        the web login offers a user name and password; ``("bearer",)``: a token). A
        factory refuses bad options with ``ValueError`` naming the option and the fix.
        ``None`` offers nothing. A name offered by two plugins is an error that names
        both.
    """
