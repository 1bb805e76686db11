"""``cielo serve --auth pam:...``: HTTP Basic checked by a real PAM stack (pam_unix) for
throwaway Unix users, roles from their Unix groups, against a real ``cielo serve``."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from cielo.testing import QueueServer

pytestmark = pytest.mark.slow

ITEM = {"item": {"item_type": "plan", "name": "count", "args": [["det"]]}}


def spec(users: Any, **more: str) -> str:
    options = {"service": users.service, "roles": f"{users.group}:user", **more}
    return "pam:" + ",".join(f"{k}={v}" for k, v in options.items())


def test_unix_users_log_in_with_the_roles_of_their_groups(
    unix_users: Any, serve: Callable[..., QueueServer]
) -> None:
    server = serve("--auth", spec(unix_users))
    member = httpx.BasicAuth(unix_users.member, unix_users.password)
    other = httpx.BasicAuth(unix_users.other, unix_users.password)
    me = httpx.get(server.url + "/api/auth/whoami", auth=member, timeout=30).json()
    assert me["user"] == unix_users.member and me["roles"] == ["user"]
    added = httpx.post(server.url + "/api/queue/item/add", json=ITEM, auth=member, timeout=30)
    assert added.json()["success"] and added.json()["item"]["user"] == unix_users.member
    # in no mapped group: the default role, observer, reads but may not add
    assert httpx.get(server.url + "/api/auth/whoami", auth=other, timeout=30).json()["roles"] == [
        "observer"
    ]
    assert httpx.get(server.url + "/api/queue/get", auth=other, timeout=30).status_code == 200
    refused = httpx.post(server.url + "/api/queue/item/add", json=ITEM, auth=other, timeout=30)
    assert refused.status_code == 403 and "write:queue:edit" in refused.text


def test_a_wrong_password_or_user_is_refused_without_saying_which(
    unix_users: Any, serve: Callable[..., QueueServer]
) -> None:
    server = serve("--auth", spec(unix_users, role="none"))
    answers = {
        who: httpx.get(server.url + "/api/status", auth=httpx.BasicAuth(who, pw), timeout=30)
        for who, pw in [
            (unix_users.member, "not the password"),
            ("nobody-" + unix_users.member, unix_users.password),
            (unix_users.member, ""),
            (unix_users.expired, unix_users.password),  # right password, expired account
        ]
    }
    for who, answer in answers.items():
        assert answer.status_code == 401
        assert answer.json()["detail"] == f"wrong user name or password for {who!r}"
    # role=none: a right password but no mapped group is refused, naming the reason
    other = httpx.BasicAuth(unix_users.other, unix_users.password)
    answer = httpx.get(server.url + "/api/status", auth=other, timeout=30)
    assert answer.status_code == 401 and "in no group that grants a role" in answer.text


def test_a_slow_pam_check_does_not_hold_other_requests(
    unix_users: Any, serve: Callable[..., QueueServer]
) -> None:
    """pam_unix waits about 2 s after a wrong password; the server answers others
    meanwhile, because it asks PAM in a thread."""
    server = serve("--auth", spec(unix_users))
    wrong = httpx.BasicAuth(unix_users.member, "wrong")

    def refused() -> tuple[int, float]:
        answer = httpx.get(server.url + "/api/status", auth=wrong, timeout=30)
        return answer.status_code, time.perf_counter()

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        started = time.perf_counter()
        slow = [pool.submit(refused) for _ in range(2)]
        time.sleep(0.3)  # both checks are in PAM's delay now
        answered = []
        for _ in range(5):
            assert httpx.get(server.url + "/api/status", headers=server.headers).status_code == 200
            answered.append(time.perf_counter())
        results = [f.result() for f in slow]
    assert [code for code, _ in results] == [401, 401]
    assert min(t for _, t in results) - started > 1.0, "PAM answered without its delay"
    # Every other request was answered while both checks still waited in PAM: on a
    # loaded machine each may be slow, but none waits for PAM (a time limit did not tell).
    assert max(answered) < min(t for _, t in results), (answered, results)


def test_bad_pam_options_stop_the_server_naming_them(
    unix_users: Any, refused: Callable[..., str]
) -> None:
    for options, says in [
        ("pam:service=no-such-service", "no PAM service 'no-such-service'"),
        (f"pam:servce={unix_users.service}", "unknown option 'servce' (did you mean 'service'?)"),
        (spec(unix_users, roles="no-such-group-x:user"), "no Unix group 'no-such-group-x'"),
        (
            spec(unix_users, roles=f"{unix_users.group}:admn"),
            "unknown role(s) ['admn'] (did you mean 'admin'?)",
        ),
        (spec(unix_users, cache="soon"), "option cache='soon' is not a number"),
        ("pam:config=/no/such.toml", "cannot read config=/no/such.toml"),
    ]:
        message = refused("--auth", options)
        assert says in message, (options, message)
