"""OpenID Connect bearer tokens (PyJWT, ``pip install 'cielo[oidc]'``).

``Authorization: Bearer <JWT>`` from the facility's identity provider (Keycloak, an
institutional SSO...). At start the issuer's discovery document
(``ISSUER/.well-known/openid-configuration``) gives its key set (``jwks_uri``), fetched
once to check it. A token is accepted when its signature verifies with one of those
keys (by ``kid``; an unknown ``kid`` fetches the set again, at most once per
``cooldown``: keys rotate), its ``alg`` is an accepted asymmetric one (never ``none``
or HMAC), and its ``iss``, ``aud``, ``exp`` (and ``nbf``, ``iat`` if present) hold,
within ``leeway`` seconds of clock skew. The user is the ``user_claim``; roles come from
the values of ``roles_claim`` (dotted for nested claims: Keycloak's
``realm_access.roles``) through the ``roles`` map.
"""

from __future__ import annotations

import json
import logging
import ssl
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from cielo.hookspecs import AuthenticationError, AuthenticatorUnavailableError, Identity

from ._options import Options, RoleMap

__all__ = ["OidcAuthenticator"]

logger = logging.getLogger("cielo.plugins.auth")

#: Asymmetric algorithms only: an HMAC would take the public key as its secret.
ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)

OPTIONS = {
    "issuer": "the issuer's URL, exactly as its tokens' 'iss' claim says",
    "audience": "the audience tokens must name in 'aud' (the client or API id)",
    "roles_claim": "the claim listing the user's groups or roles, dotted for nested ones "
    "(default 'roles'; Keycloak: realm_access.roles)",
    "user_claim": "the claim naming the user (default preferred_username, else sub)",
    "roles": "claim values to roles, VALUE:ROLE+VALUE:ROLE (or a TOML table)",
    "role": "the role of users none of whose values is mapped (default 'observer'; 'none' refuses them)",
    "group": "the users' group in the permissions file (default 'primary')",
    "algorithms": f"the signature algorithms accepted (default {'+'.join(ALGORITHMS)})",
    "leeway": "seconds of clock skew allowed on exp, nbf and iat (default 30)",
    "discovery": "the discovery document's URL (default ISSUER/.well-known/openid-configuration)",
    "cooldown": "seconds before an unknown key id fetches the key set again (default 30)",
    "ca_file": "the CA certificates (PEM) the issuer's certificate is checked against",
    "verify": "check the issuer's certificate (default true; false for tests only)",
    "timeout": "seconds to wait for the issuer (default 5)",
    "config": "a TOML file holding these options",
}


class OidcAuthenticator:
    """``Authorization: Bearer <JWT>`` checked against an OpenID issuer's keys; see the
    module's text for the options."""

    schemes = ("bearer",)  # the web login offers a token field

    def __init__(self, **options: Any) -> None:
        try:
            import jwt
        except ImportError:
            raise ImportError("OIDC needs PyJWT: pip install 'cielo[oidc]'") from None
        self._jwt = jwt
        opts = Options("oidc", options, OPTIONS, required=["issuer", "audience"])
        self.issuer = opts.text("issuer")
        self.audience = opts.text("audience")
        self.roles_claim = opts.text("roles_claim", "roles")
        self.user_claim = opts.text("user_claim", "preferred_username")
        self.roles = RoleMap.parse(opts)
        self.group = opts.text("group", "primary")
        self.algorithms = list(opts.listed("algorithms", ALGORITHMS))
        bad = [a for a in self.algorithms if a not in ALGORITHMS]
        if bad:
            raise ValueError(
                f"algorithms: {bad} not accepted; choose among {'+'.join(ALGORITHMS)} "
                "(symmetric and 'none' never are)"
            )
        self.leeway = opts.number("leeway", 30.0)
        self.timeout = opts.number("timeout", 5.0) or 5.0
        ca_file = opts.file("ca_file")
        self._ssl = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        if not opts.flag("verify", True):
            self._ssl.check_hostname = False
            self._ssl.verify_mode = ssl.CERT_NONE
        discovery = opts.text("discovery") or self.issuer.rstrip("/") + (
            "/.well-known/openid-configuration"
        )
        self.jwks_uri = self._discover(discovery)
        host = urlsplit(self.jwks_uri).hostname or ""
        if urlsplit(self.jwks_uri).scheme == "http" and host not in (
            "127.0.0.1",
            "::1",
            "localhost",
        ):
            logger.warning("oidc: the issuer's keys come over plain http from %s", host)
        self._keys = jwt.PyJWKClient(
            self.jwks_uri,
            cache_jwk_set=True,
            lifespan=300,
            timeout=self.timeout,
            ssl_context=self._ssl,
            cooldown_duration=opts.number("cooldown", 30.0),
        )
        try:
            if not self._keys.get_signing_keys():
                raise ValueError(f"the key set {self.jwks_uri} holds no signing key")
        except jwt.PyJWKClientError as exc:
            raise ValueError(
                f"cannot read the issuer's key set {self.jwks_uri} ({exc}); check that the "
                "issuer runs and publishes it"
            ) from None

    def __repr__(self) -> str:
        return f"OidcAuthenticator({self.issuer!r})"

    @property
    def grants(self) -> tuple[str, ...]:
        return self.roles.grants

    def authenticate(self, scheme: str, credentials: str) -> Identity | None:
        if scheme != "bearer":
            return None
        claims = self._verified(credentials)
        user = claims.get(self.user_claim) or claims.get("sub")
        if not isinstance(user, str) or not user:
            raise AuthenticationError(
                f"the bearer token names no user (neither {self.user_claim!r} nor 'sub')"
            )
        return self.roles.identity(user, self._values(claims), self.group)

    def _verified(self, token: str) -> dict[str, Any]:
        """The token's claims once its signature and claims hold."""
        jwt = self._jwt
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise AuthenticationError("the bearer token is not a JWT") from None
        try:
            if kid is None:
                keys = self._keys.get_signing_keys()
                if len(keys) != 1:
                    raise AuthenticationError("the bearer token names no key ('kid')")
                key = keys[0]
            else:
                key = self._keys.get_signing_key(str(kid))
        except jwt.PyJWKClientConnectionError as exc:
            logger.warning("oidc: cannot fetch %s: %s", self.jwks_uri, exc)
            raise AuthenticatorUnavailableError(
                f"the token issuer's keys ({self.jwks_uri}) cannot be fetched now, so the "
                "token could not be checked; try again, and if it lasts, ask the server's "
                "admin to check that the issuer runs and that this server can reach it"
            ) from None
        except jwt.PyJWKClientError:
            raise AuthenticationError(
                "the bearer token is signed by a key its issuer does not publish"
            ) from None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationError("the bearer token has expired; get a new one") from None
        except (
            jwt.InvalidAudienceError,
            jwt.InvalidIssuerError,
            jwt.ImmatureSignatureError,
            jwt.MissingRequiredClaimError,
            jwt.InvalidIssuedAtError,
        ) as exc:
            raise AuthenticationError(f"the bearer token is refused: {exc}") from None
        except jwt.PyJWTError as exc:
            logger.info("oidc: token refused: %s", exc)
            raise AuthenticationError(
                "the bearer token's signature does not verify with its issuer's keys"
            ) from None
        return claims

    def _values(self, claims: dict[str, Any]) -> list[str]:
        """The values of the (dotted) roles claim: a list, or a space-separated text."""
        found: Any = claims
        for part in self.roles_claim.split("."):
            found = found.get(part) if isinstance(found, dict) else None
        if isinstance(found, str):
            return found.split()
        return [v for v in found if isinstance(v, str)] if isinstance(found, list) else []

    def _discover(self, url: str) -> str:
        """The ``jwks_uri`` of the discovery document at ``url``, checked."""
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"the discovery document's URL {url!r} is not http(s)")
        try:
            with urllib.request.urlopen(url, timeout=self.timeout, context=self._ssl) as answer:
                document = json.loads(answer.read())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(exc, urllib.error.HTTPError):
                reason = f"HTTP {exc.code} {exc.reason}"
            raise ValueError(
                f"cannot read the issuer's discovery document {url} ({reason}); check "
                "issuer= (or discovery=) and that the issuer runs"
            ) from None
        if not isinstance(document, dict):
            raise ValueError(f"{url} is not a discovery document (not a JSON object)")
        if document.get("issuer") != self.issuer:
            raise ValueError(
                f"issuer={self.issuer!r} but {url} names issuer {document.get('issuer')!r}; "
                "give issuer= exactly as the issuer names itself"
            )
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or urlsplit(jwks_uri).scheme not in ("http", "https"):
            raise ValueError(f"{url} has no http(s) jwks_uri: {jwks_uri!r}")
        return jwks_uri
