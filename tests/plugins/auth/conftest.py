"""Fixtures of the authenticator tests: a throwaway Unix user and PAM service, a real
``slapd`` and an OpenID issuer on loopback (:mod:`cielo.testing`), ``serve`` to run a
real ``cielo serve`` with ``--auth`` and ``refused`` for one that must not start."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from cielo.testing import OidcIssuer, QueueServer, SlapdServer, in_ci, require_server


def _require(reason: str) -> None:
    """Skip without what the test needs; fail under CI, where it must be there."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set: it must be installed there)")
    pytest.skip(reason)


@pytest.fixture
def serve(tmp_path: pathlib.Path) -> Iterator[Callable[..., QueueServer]]:
    """``serve("--auth", spec)``: a started ``cielo serve`` (environment closed), stopped
    after the test."""
    started: list[QueueServer] = []

    def start(*args: str) -> QueueServer:
        base = tmp_path / f"server{len(started)}"
        base.mkdir()
        server = QueueServer(base, open=False, args=list(args))
        started.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def refused(tmp_path: pathlib.Path) -> Callable[..., str]:
    """``refused("--auth", spec)``: what ``cielo serve`` says when those arguments stop it
    at start (it must not start)."""
    count = iter(range(1000))

    def start(*args: str) -> str:
        base = tmp_path / f"refused{next(count)}"
        base.mkdir()
        server = QueueServer(base, open=False, args=list(args))
        try:
            with pytest.raises(RuntimeError) as failed:
                server.start()
        finally:
            server.stop()
        return str(failed.value)

    return start


# -- PAM: a throwaway Unix user, group and PAM service ---------------------------------------


@dataclass(frozen=True)
class UnixUsers:
    service: str  # the PAM service name (a file in /etc/pam.d/)
    group: str  # a Unix group granting the role "user"
    member: str  # in ``group``
    other: str  # in no mapped group
    expired: str  # in ``group``, their account expired (chage -E 0)
    password: str


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True)


@pytest.fixture(scope="module")
def unix_users() -> Iterator[UnixUsers]:
    """Three new Unix users (random names; two in a new group, one of them expired) and a
    PAM service file of pam_unix for them, all removed afterwards. Needs root (CI runs as
    root)."""
    if importlib.util.find_spec("pam") is None:
        _require("python-pam is not installed: pip install 'cielo[pam]'")
    if os.geteuid() != 0 or not shutil.which("useradd"):
        _require("creating a Unix user for the PAM test needs root and useradd")
    tag = secrets.token_hex(3)
    users = UnixUsers(
        service=f"cielo-test-{tag}",
        group=f"cielo-beam-{tag}",
        member=f"ciel-a{tag}",
        other=f"ciel-b{tag}",
        expired=f"ciel-c{tag}",
        password=f"pw {secrets.token_hex(6)}:x",  # a space and a colon: the split is the first
    )
    service_file = pathlib.Path("/etc/pam.d") / users.service
    made: list[tuple[str, ...]] = []
    try:
        _run("groupadd", users.group)
        made.append(("groupdel", users.group))
        member = ["-G", users.group]
        for name, groups in ((users.member, member), (users.other, []), (users.expired, member)):
            _run("useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", *groups, name)
            made.append(("userdel", name))
            subprocess.run(["chpasswd"], input=f"{name}:{users.password}", text=True, check=True)
        _run("chage", "-E", "0", users.expired)  # expired on 1970-01-01
        # pam_unix alone, with its default delay (about 2 s) after a wrong password
        service_file.write_text("auth required pam_unix.so\naccount required pam_unix.so\n")
        yield users
    finally:
        service_file.unlink(missing_ok=True)
        for command in reversed(made):
            subprocess.run(command, capture_output=True)


# -- LDAP and OIDC: a real slapd and an OpenID issuer on loopback ----------------------------


@pytest.fixture(scope="module")
def slapd() -> Iterator[SlapdServer]:
    """A real slapd (Debian's) on free loopback ports; skipped without it, failed under
    CI (see :class:`~cielo.testing.SlapdServer`)."""
    if importlib.util.find_spec("ldap3") is None:
        _require("ldap3 is not installed: pip install 'cielo[ldap]'")
    try:
        server = SlapdServer()
    except RuntimeError as exc:
        require_server(str(exc))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def issuer() -> Iterator[OidcIssuer]:
    """An OpenID issuer on a free loopback port (see :class:`~cielo.testing.OidcIssuer`)."""
    if importlib.util.find_spec("jwt") is None:
        _require("PyJWT is not installed: pip install 'cielo[oidc]'")
    made = OidcIssuer()
    try:
        yield made
    finally:
        made.close()
