"""``cielo serve --auth oidc:...``: bearer JWTs checked against an OpenID issuer on
loopback (discovery document and key set over HTTP), signed with RSA and EC keys made in
the test; roles from a nested claim."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from cielo.hookspecs import AuthenticationError, AuthenticatorUnavailableError
from cielo.plugins.auth import OidcAuthenticator
from cielo.testing import QueueServer, free_port

pytestmark = pytest.mark.slow

ROLES = "beamline-staff:admin+users:user"
ITEM = {"item": {"item_type": "plan", "name": "count", "args": [["det"]]}}


def oidc(issuer: Any, **more: Any) -> OidcAuthenticator:
    options = {"issuer": issuer.url, "audience": "cielo", "roles_claim": "realm_access.roles",
               "roles": ROLES, **more}  # fmt: skip
    return OidcAuthenticator(**options)


def staff(**claims: Any) -> dict[str, Any]:
    return {"preferred_username": "alice", "realm_access": {"roles": ["beamline-staff"]}, **claims}


def test_tokens_signed_by_the_issuer_get_the_roles_of_their_claim(issuer: Any) -> None:
    auth = oidc(issuer)
    alice = auth.authenticate("bearer", issuer.token("rsa-1", **staff()))
    assert alice is not None and (alice.name, alice.roles) == ("alice", ("admin",))
    bob = auth.authenticate(
        "bearer",
        issuer.token("ec-1", preferred_username="bob", realm_access={"roles": ["users", "x"]}),
    )
    assert bob is not None and (bob.name, bob.roles) == ("bob", ("user",))
    carol = auth.authenticate("bearer", issuer.token(sub="carol-id"))  # no name, no roles
    assert carol is not None and (carol.name, carol.roles) == ("carol-id", ("observer",))
    assert auth.authenticate("basic", "YTpi") is None  # not its kind: the next is asked


def test_expiry_is_checked_with_the_clock_skew_allowed(issuer: Any) -> None:
    auth = oidc(issuer, leeway="30")
    now = int(time.time())
    assert auth.authenticate("bearer", issuer.token(exp=now - 10, **staff())) is not None
    with pytest.raises(AuthenticationError, match="has expired; get a new one"):
        auth.authenticate("bearer", issuer.token(exp=now - 60, **staff()))
    assert auth.authenticate("bearer", issuer.token(nbf=now + 10, **staff())) is not None
    with pytest.raises(AuthenticationError, match="not yet valid"):
        auth.authenticate("bearer", issuer.token(nbf=now + 120, **staff()))
    with pytest.raises(AuthenticationError, match="has expired"):
        oidc(issuer, leeway="0").authenticate("bearer", issuer.token(exp=now - 10))


def test_forged_or_foreign_tokens_are_refused(issuer: Any) -> None:
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    auth = oidc(issuer)
    good = issuer.token(**staff())
    head, body, signature = good.split(".")
    other_body = issuer.token(**staff(preferred_username="mallory")).split(".")[1]
    public_pem = (
        issuer.keys["rsa-1"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cases = {
        "wrong audience": (issuer.token(aud="another-app", **staff()), "Audience doesn't match"),
        "wrong issuer": (issuer.token(iss="http://127.0.0.1:1/evil", **staff()), "Invalid issuer"),
        "no expiry": (issuer.token(exp=None, **staff()), 'missing the "exp" claim'),
        "payload swapped": (f"{head}.{other_body}.{signature}", "does not verify"),
        "unknown key": (issuer.token("rsa-9", key=stranger, **staff()), "a key its issuer does not publish"),
        "own key, known kid": (issuer.token("rsa-1", key=stranger, **staff()), "does not verify"),
        "alg none": (jwt.encode({**staff(), "iss": issuer.url, "aud": "cielo", "exp": 2**31},
                                None, "none", headers={"kid": "rsa-1"}), "does not verify"),
        "HS256 keyed with the public key": (
            _hs256(public_pem, {**staff(), "iss": issuer.url, "aud": "cielo", "exp": 2**31}),
            "does not verify"),
        "not a JWT": ("abc.def", "not a JWT"),
    }  # fmt: skip
    for case, (token, says) in cases.items():
        with pytest.raises(AuthenticationError) as refused:
            auth.authenticate("bearer", token)
        assert says in str(refused.value), (case, str(refused.value))


def _hs256(secret: bytes, claims: dict[str, Any]) -> str:
    """An HS256 token keyed with ``secret`` (PyJWT refuses a PEM as an HMAC key, so it is
    signed by hand: the classic algorithm-confusion forgery)."""
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}).encode())
    signing += "." + b64(json.dumps(claims).encode())
    return signing + "." + b64(hmac.new(secret, signing.encode(), hashlib.sha256).digest())


def test_a_rotated_key_is_fetched_once_per_cooldown(issuer: Any) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    auth = oidc(issuer, cooldown="1")
    fetched = issuer.jwks_fetches
    issuer.keys["ec-2"] = ec.generate_private_key(ec.SECP256R1())  # the issuer rotates
    time.sleep(1.1)
    rotated = issuer.token("ec-2", **staff())
    assert auth.authenticate("bearer", rotated) is not None
    assert issuer.jwks_fetches == fetched + 1
    for _ in range(20):  # a flood of unknown kids fetches nothing within the cooldown
        with pytest.raises(AuthenticationError, match="does not publish"):
            auth.authenticate("bearer", issuer.token("ec-9", key=issuer.keys["ec-2"]))
    assert issuer.jwks_fetches == fetched + 1
    assert auth.authenticate("bearer", rotated) is not None  # known now: no fetch
    assert issuer.jwks_fetches == fetched + 1


def test_bad_oidc_options_are_refused_naming_them(issuer: Any) -> None:
    port = free_port()
    cases = [
        ({"issuer": f"http://127.0.0.1:{port}/realms/x", "audience": "cielo"},
         f"cannot read the issuer's discovery document http://127.0.0.1:{port}/realms/x/.well-known/openid-configuration ([Errno 111] Connection refused); check issuer="),
        ({"issuer": issuer.url + "/", "audience": "cielo"},
         f"issuer='{issuer.url}/' but {issuer.url}/.well-known/openid-configuration names issuer '{issuer.url}'"),
        ({"issuer": issuer.url}, "option 'audience' is required"),
        ({"issuer": issuer.url, "audience": "cielo", "algorithms": "RS256+HS256"}, "algorithms: ['HS256'] not accepted"),
        ({"issuer": issuer.url, "audience": "cielo", "leway": "5"}, "unknown option 'leway' (did you mean 'leeway'?)"),
        ({"issuer": issuer.url, "audience": "cielo", "discovery": issuer.url + "/nothing"}, "/realms/beamline/nothing (HTTP 404 Not Found)"),
    ]  # fmt: skip
    for options, says in cases:
        with pytest.raises(ValueError) as refused:
            OidcAuthenticator(**options)
        assert says in str(refused.value), (options, str(refused.value))


def test_bearer_tokens_end_to_end(issuer: Any, serve: Callable[..., QueueServer]) -> None:
    server = serve(
        "--auth",
        f"oidc:issuer={issuer.url},audience=cielo,roles_claim=realm_access.roles,roles={ROLES}",
    )

    def call(token: str, path: str, body: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        if body is None:
            return httpx.get(server.url + path, headers=headers, timeout=30)
        return httpx.post(server.url + path, json=body, headers=headers, timeout=30)

    bob = issuer.token("ec-1", preferred_username="bob", realm_access={"roles": ["users"]})
    carol = issuer.token(preferred_username="carol")
    assert call(bob, "/api/auth/whoami").json()["roles"] == ["user"]
    added = call(bob, "/api/queue/item/add", ITEM).json()
    assert added["success"] and added["item"]["user"] == "bob"
    refused = call(carol, "/api/queue/item/add", ITEM)
    assert refused.status_code == 403 and "write:queue:edit" in refused.text
    assert call(issuer.token(**staff()), "/api/queue/clear", {}).json()["success"]
    expired = call(issuer.token(exp=int(time.time()) - 120, **staff()), "/api/status")
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    # a token buys a short-lived API key of at most its roles (what a browser, which
    # cannot send a bearer token on a websocket, would hold)
    made = call(bob, "/api/auth/apikey", {"roles": ["user"], "expires_in": 600}).json()
    assert made["success"] and made["key"]["user"] == "bob"
    keyed = httpx.get(server.url + "/api/auth/whoami", timeout=30,
                      headers={"Authorization": f"ApiKey {made['secret']}"}).json()  # fmt: skip
    assert (keyed["user"], keyed["roles"]) == ("bob", ["user"])
    beyond = call(carol, "/api/auth/apikey", {"roles": ["user"]})
    assert "cannot give scope(s)" in beyond.text


def test_an_unreachable_issuer_stops_the_server(refused: Callable[..., str]) -> None:
    port = free_port()
    message = refused("--auth", f"oidc:issuer=http://127.0.0.1:{port},audience=cielo")
    assert (
        f"--auth oidc: cannot read the issuer's discovery document http://127.0.0.1:{port}/"
        in message
    )


def test_known_keys_serve_while_the_issuer_is_down(issuer: Any) -> None:
    auth = oidc(issuer, cooldown="0")
    token = issuer.token("ec-1", **staff())
    assert auth.authenticate("bearer", token) is not None
    issuer.close()
    assert auth.authenticate("bearer", token) is not None  # the key set is cached
    with pytest.raises(AuthenticatorUnavailableError, match="keys .* cannot be fetched now"):
        auth.authenticate("bearer", issuer.token("ec-7", key=issuer.keys["ec-1"]))


def test_an_issuer_down_at_login_is_503_not_401(
    issuer: Any, serve: Callable[..., QueueServer]
) -> None:
    """A token whose key the server must fetch while the issuer is down could not be
    checked: 503 naming the issuer's key set and what to check (not 401: the token may
    be good); API keys still answer."""
    server = serve("--auth", f"oidc:issuer={issuer.url},audience=cielo,cooldown=0")
    token = issuer.token("ec-7", key=issuer.keys["ec-1"], **staff())  # a key not yet fetched
    jwks = issuer.url + "/jwks"
    issuer.close()
    answer = httpx.get(
        server.url + "/api/status", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert answer.status_code == 503, answer.text
    detail = answer.json()["detail"]
    assert "cannot be fetched now, so the token could not be checked" in detail, detail
    assert jwks in detail and "check that the issuer runs" in detail, detail
    assert httpx.get(server.url + "/api/status", headers=server.headers).is_success
