"""What an authenticator costs a request: LDAP and OIDC, in-process and through a real
``cielo serve``.

Run: ``.venv/bin/python benchmarks/bench_auth.py`` (``--repeat N``). Needs Debian's
``slapd`` and ``ldap-utils`` and the extras ``ldap`` and ``oidc``. It starts a throwaway
slapd and an OpenID issuer on loopback (:mod:`cielo.testing`) and prints, with the
machine's load (figures are medians and p90 in ms):

* ``in-process``: one ``authenticate`` call: an LDAP bind and group search as the user
  (``cache=0``) over ldap:// and ldaps://, a remembered LDAP password (``cache=60``), an
  OIDC token signed with RS256 and with ES256 (the issuer's keys cached);
* ``HTTP``: ``GET /api/auth/whoami`` on one connection with an API key, LDAP Basic
  credentials (remembered) and an OIDC bearer token: what the authenticator adds to a
  round trip (plugin authenticators run in a thread).
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median and p90 of ``call`` in ms, after one warm-up call."""
    call()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return statistics.median(times), times[int(0.9 * (len(times) - 1))]


def show(what: str, figures: tuple[float, float]) -> None:
    print(f"  {what:<44} p50 {figures[0]:8.3f} ms   p90 {figures[1]:8.3f} ms", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    from cielo.plugins.auth import LdapAuthenticator, OidcAuthenticator
    from cielo.testing import OidcIssuer, QueueServer, SlapdServer

    print(f"load before: {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} cores", flush=True)
    slapd, issuer = SlapdServer(), OidcIssuer()
    base = Path(tempfile.mkdtemp(prefix="cielo-bench-auth-"))
    server = None
    try:
        suffix = slapd.suffix
        ldap_options = {
            "user_dn": f"uid={{user}},ou=people,{suffix}",
            "group_base": f"ou=groups,{suffix}",
            "roles": "beamline-staff:admin+users:user",
            "ca_file": str(slapd.ca_file),
        }
        bob = base64.b64encode(b"bob:bob pw").decode()
        print("in-process, one authenticate call:")
        for url, cache in ((slapd.url, "0"), (slapd.ldaps, "0"), (slapd.url, "60")):
            ldap = LdapAuthenticator(url=url, cache=cache, **ldap_options)
            kind = "remembered password" if cache != "0" else "bind + group search"
            show(
                f"LDAP {url.split(':')[0]}, {kind}",
                timed(lambda a=ldap: a.authenticate("basic", bob), args.repeat),
            )
        oidc = OidcAuthenticator(issuer=issuer.url, audience="cielo", roles="users:user")
        for kid in ("rsa-1", "ec-1"):
            token = issuer.token(kid, preferred_username="bob")
            algorithm = "RS256 (2048-bit)" if kid.startswith("rsa") else "ES256 (P-256)"
            show(
                f"OIDC {algorithm}",
                timed(lambda t=token: oidc.authenticate("bearer", t), args.repeat),
            )

        import httpx

        config = base / "ldap.toml"
        config.write_text(
            "".join(f'{k} = "{v}"\n' for k, v in {"url": slapd.url, **ldap_options}.items())
        )
        server = QueueServer(base, open=False, args=[
            "--auth", f"ldap:config={config}",
            "--auth", f"oidc:issuer={issuer.url},audience=cielo,roles=users:user",
        ])  # fmt: skip
        server.start()
        time.sleep(3)  # the standby worker's imports done
        token = issuer.token("ec-1", preferred_username="bob", roles=["users"])
        print(
            f"HTTP GET /api/auth/whoami (cielo serve, one connection), load {os.getloadavg()[0]:.1f}:"
        )
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for what, headers in [
                ("API key", server.headers),
                ("LDAP Basic (remembered)", {"Authorization": f"Basic {bob}"}),
                ("OIDC bearer (ES256)", {"Authorization": f"Bearer {token}"}),
            ]:
                assert client.get("/api/auth/whoami", headers=headers).status_code == 200
                show(
                    what,
                    timed(lambda h=headers: client.get("/api/auth/whoami", headers=h), args.repeat),
                )
    finally:
        if server is not None:
            server.stop()
        issuer.close()
        slapd.close()
    print(f"load after: {os.getloadavg()[0]:.1f} (1 min)")


if __name__ == "__main__":
    main()
