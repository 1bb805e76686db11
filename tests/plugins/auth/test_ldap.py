"""``cielo serve --auth ldap:...``: HTTP Basic checked by binding to a real slapd on
loopback (StartTLS and ldaps with a throwaway CA), roles from LDAP groups."""

from __future__ import annotations

import base64
import pathlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from cielo.hookspecs import AuthenticationError
from cielo.plugins.auth import LdapAuthenticator
from cielo.testing import QueueServer, free_port

pytestmark = pytest.mark.slow

SUFFIX = "dc=cielo,dc=test"
ROLES = "beamline-staff:admin+users:user"
ITEM = {"item": {"item_type": "plan", "name": "count", "args": [["det"]]}}


def basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def template(slapd: Any, **more: Any) -> dict[str, Any]:
    """Options of a user_dn template over StartTLS, checked against the test CA."""
    return {
        "url": slapd.url,
        "user_dn": f"uid={{user}},ou=people,{SUFFIX}",
        "group_base": f"ou=groups,{SUFFIX}",
        "roles": ROLES,
        "start_tls": "true",
        "ca_file": str(slapd.ca_file),
        **more,
    }


def test_users_bind_and_get_the_roles_of_their_groups(slapd: Any) -> None:
    ldap = LdapAuthenticator(**template(slapd, cache="0"))
    assert ldap.authenticate("basic", basic("alice", "alice pw")).roles == ("admin",)
    assert ldap.authenticate("basic", basic("bob", "bob pw")).roles == ("user",)
    carol = ldap.authenticate("basic", basic("carol", "carol pw"))
    assert carol.name == "carol" and carol.roles == ("observer",)
    assert ldap.authenticate("apikey", "abc") is None  # not its kind: the next is asked


def test_the_dn_can_be_searched_by_a_service_account_over_ldaps(slapd: Any) -> None:
    ldap = LdapAuthenticator(
        url=slapd.ldaps,
        search_base=f"ou=people,{SUFFIX}",
        bind_dn=slapd.service_dn,
        bind_password_file=str(slapd.service_password_file),
        group_base=f"ou=groups,{SUFFIX}",
        roles={"beamline-staff": ["admin", "reviewer"], "users": "user"},
        role="none",
        ca_file=str(slapd.ca_file),
    )
    assert ldap.authenticate("basic", basic("alice", "alice pw")).roles == ("admin", "reviewer")
    with pytest.raises(AuthenticationError, match="in no group that grants a role"):
        ldap.authenticate("basic", basic("carol", "carol pw"))


@pytest.mark.parametrize(
    ("user", "password"),
    [
        ("alice", "bob pw"),  # another's password
        ("alice", ""),  # an empty password would be an anonymous bind, which succeeds
        ("nobody", "x"),
        ("*", "alice pw"),  # filter and DN syntax in the name is escaped, not obeyed
        ("alice)(uid=*", "alice pw"),
        ("alice,ou=people", "alice pw"),
    ],
)
def test_wrong_or_crafted_credentials_are_refused_alike(
    slapd: Any, user: str, password: str
) -> None:
    for options in (template(slapd), template(slapd, user_dn="", search_base=f"ou=people,{SUFFIX}",
                    bind_dn=slapd.service_dn, bind_password_file=str(slapd.service_password_file))):  # fmt: skip
        ldap = LdapAuthenticator(**options)
        with pytest.raises(AuthenticationError) as refused:
            ldap.authenticate("basic", basic(user, password))
        assert str(refused.value) == f"wrong user name or password for {user!r}"


def test_user_names_match_whatever_their_case_as_in_the_directory(slapd: Any) -> None:
    """slapd matches uid without case: 'BOB' and 'Bob' bind as bob, and are known by the
    name his entry holds, with his groups, whichever way the DN is found."""
    searched = {"user_dn": "", "search_base": f"ou=people,{SUFFIX}",
                "bind_dn": slapd.service_dn, "bind_password_file": str(slapd.service_password_file)}  # fmt: skip
    for options in (template(slapd, cache="0"), template(slapd, cache="0", **searched),
                    template(slapd, cache="0", group_base="")):  # fmt: skip
        ldap = LdapAuthenticator(**options)
        for typed in ("bob", "BOB", "Bob"):
            who = ldap.authenticate("basic", basic(typed, "bob pw"))
            expected = ("user",) if options["group_base"] else ("observer",)
            assert (who.name, who.roles) == ("bob", expected), (options, typed, who)
        with pytest.raises(AuthenticationError, match="wrong user name or password for 'BOB'"):
            ldap.authenticate("basic", basic("BOB", "alice pw"))


def test_a_config_file_serves_users_their_roles_end_to_end(
    slapd: Any, serve: Callable[..., QueueServer], tmp_path: pathlib.Path
) -> None:
    config = tmp_path / "ldap.toml"
    config.write_text(
        f'url = "{slapd.ldaps}"\nuser_dn = "uid={{user}},ou=people,{SUFFIX}"\n'
        f'group_base = "ou=groups,{SUFFIX}"\nca_file = "{slapd.ca_file}"\n'
        '[roles]\n"beamline-staff" = "admin"\nusers = "user"\n'
    )
    server = serve("--auth", f"ldap:config={config}")
    alice, bob, carol = (httpx.BasicAuth(u, u + " pw") for u in ("alice", "bob", "carol"))

    def post(path: str, auth: httpx.BasicAuth, body: Any) -> httpx.Response:
        return httpx.post(server.url + path, json=body, auth=auth, timeout=30)

    added = post("/api/queue/item/add", bob, ITEM).json()
    assert added["success"] and added["item"]["user"] == "bob"
    refused = post("/api/queue/item/add", carol, ITEM)
    assert refused.status_code == 403 and "write:queue:edit" in refused.text
    mine = added["item"]["item_uid"]
    assert not post("/api/queue/item/remove", carol, {"uid": mine}).is_success
    # 'Bob' is bob (the directory matches names without case): his item is his
    got = httpx.request("GET", server.url + "/api/queue/item/get", json={"uid": mine},
                        auth=httpx.BasicAuth("BOB", "bob pw"), timeout=30)  # fmt: skip
    assert got.json()["item"]["user"] == "bob", got.text
    moved = post("/api/queue/item/update", httpx.BasicAuth("Bob", "bob pw"),
                 {"item": {**added["item"], "kwargs": {"num": 2}}}).json()  # fmt: skip
    assert moved["success"] and moved["item"]["user"] == "bob", moved
    assert post("/api/queue/clear", alice, {}).json()["success"]  # admin: everything
    wrong = httpx.get(server.url + "/api/status", auth=httpx.BasicAuth("bob", "alice pw"))
    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "wrong user name or password for 'bob'"


def test_bad_ldap_options_are_refused_naming_them(slapd: Any, tmp_path: pathlib.Path) -> None:
    wrong_secret = tmp_path / "wrong.secret"
    wrong_secret.write_text("not it\n")
    dn = f"uid={{user}},ou=people,{SUFFIX}"
    search = {"search_base": f"ou=people,{SUFFIX}", "bind_dn": slapd.service_dn}
    cases = [
        ({"url": slapd.ldaps, "user_dn": dn}, "TLS with ldaps://127.0.0.1:"),
        ({"url": slapd.ldaps, "user_dn": dn}, "certificate verify failed: self-signed certificate in certificate chain); give the CA that signed its certificate with ca_file=PATH"),
        ({"url": slapd.url, "user_dn": dn, "start_tls": "true"}, "give the CA that signed its certificate with ca_file=PATH"),
        ({"url": slapd.url, **search, "bind_password_file": str(wrong_secret)}, f"refused bind_dn='{slapd.service_dn}' with the password in bind_password_file"),
        ({"url": slapd.url, **search}, "needs bind_password_file=PATH"),
        ({"url": slapd.url, **search, "user_dn": dn}, "give either user_dn"),
        ({"url": slapd.url, "user_dn": "uid=x"}, "user_dn='uid=x' has no {user} placeholder"),
        ({"url": slapd.url, "user_dn": dn, "grup_base": "x"}, "unknown option 'grup_base' (did you mean 'group_base'?)"),
        ({"url": "http://x", "user_dn": dn}, "url='http://x' is not ldap://HOST[:PORT]"),
        ({"url": slapd.url, "user_dn": dn, "ca_file": "/no/ca.pem"}, "ca_file='/no/ca.pem': no such file"),
        ({"url": slapd.url, "user_dn": dn, "start_tls": "maybe"}, "start_tls='maybe' is not true or false"),
    ]  # fmt: skip
    for options, says in cases:
        with pytest.raises(ValueError) as refused:
            LdapAuthenticator(**options)
        assert says in str(refused.value), (options, str(refused.value))


def test_an_unreachable_directory_or_unknown_role_stops_the_server(
    slapd: Any, refused: Callable[..., str]
) -> None:
    port = free_port()
    for spec, says in [
        (f"ldap:url=ldap://127.0.0.1:{port},user_dn=uid={{user}}", f"--auth ldap: cannot reach the LDAP server url='ldap://127.0.0.1:{port}' ([Errno 111] Connection refused); check the host and port"),
        (f"ldap:url={slapd.url},user_dn=uid={{user}},roles=users:maintainer", "--auth ldap: unknown role(s) ['maintainer']; roles: observer,"),
    ]:  # fmt: skip
        message = refused("--auth", spec)
        assert says in message, (spec, message)


def test_a_stalled_directory_holds_only_its_own_requests(
    slapd: Any, serve: Callable[..., QueueServer], tmp_path: pathlib.Path
) -> None:
    """slapd stopped (SIGSTOP): an LDAP login waits its timeout and gets 503 naming the
    directory and what to check, while requests with an API key answer at once."""
    import concurrent.futures
    import time

    config = tmp_path / "ldap.toml"
    config.write_text(
        f'url = "{slapd.url}"\nuser_dn = "uid={{user}},ou=people,{SUFFIX}"\n'
        f'group_base = "ou=groups,{SUFFIX}"\ntimeout = 2\ncache = 0\n'
    )
    server = serve("--auth", f"ldap:config={config}")
    bob = httpx.BasicAuth("bob", "bob pw")
    assert httpx.get(server.url + "/api/status", auth=bob, timeout=30).status_code == 200
    slapd.pause()
    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            start = time.perf_counter()
            stalled = pool.submit(httpx.get, server.url + "/api/status", auth=bob, timeout=30)
            time.sleep(0.3)
            took = []
            for _ in range(5):
                begin = time.perf_counter()
                assert httpx.get(server.url + "/api/status", headers=server.headers).is_success
                took.append(time.perf_counter() - begin)
            assert not stalled.done()
            answer = stalled.result()
            waited = time.perf_counter() - start
    finally:
        slapd.resume()
    assert max(took) < 1.0, took
    assert answer.status_code == 503  # not 401: the password may be right
    detail = answer.json()["detail"]
    assert detail.startswith(f"the LDAP directory {slapd.url} cannot be reached now ("), detail
    assert "check that the directory runs and that this server can reach it" in detail
    assert 1.5 < waited < 15, waited
    assert httpx.get(server.url + "/api/status", auth=bob, timeout=30).status_code == 200
