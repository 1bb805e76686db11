"""Fixtures of the authenticator tests: a throwaway Unix user and PAM service, a real
``slapd`` on a free loopback port, an OpenID issuer on loopback, and ``serve`` to run a
real ``cielo serve`` with ``--auth``."""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from cielo.testing import QueueServer, in_ci, require_server


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
    password: str


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True)


@pytest.fixture(scope="module")
def unix_users() -> Iterator[UnixUsers]:
    """Two new Unix users (random names; one in a new group) and a PAM service file of
    pam_unix for them, all removed afterwards. Needs root (CI runs as root)."""
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
        password=f"pw {secrets.token_hex(6)}:x",  # a space and a colon: the split is the first
    )
    service_file = pathlib.Path("/etc/pam.d") / users.service
    made: list[tuple[str, ...]] = []
    try:
        _run("groupadd", users.group)
        made.append(("groupdel", users.group))
        for name, groups in ((users.member, ["-G", users.group]), (users.other, [])):
            _run("useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", *groups, name)
            made.append(("userdel", name))
            subprocess.run(["chpasswd"], input=f"{name}:{users.password}", text=True, check=True)
        # pam_unix alone, with its default delay (about 2 s) after a wrong password
        service_file.write_text("auth required pam_unix.so\naccount required pam_unix.so\n")
        yield users
    finally:
        service_file.unlink(missing_ok=True)
        for command in reversed(made):
            subprocess.run(command, capture_output=True)


# -- LDAP: a real slapd on free loopback ports ------------------------------------------------

SUFFIX = "dc=cielo,dc=test"


@dataclass
class Slapd:
    """A running slapd: ``url`` (ldap://, StartTLS offered), ``ldaps`` (ldaps://),
    ``ca_file`` (the CA of its certificate), ``service_dn`` and ``service_password_file``
    (an account that may search), users ``alice`` (group beamline-staff), ``bob`` (group
    users), ``carol`` (no group), each with password ``f"{name} pw"``."""

    url: str
    ldaps: str
    ca_file: pathlib.Path
    service_dn: str
    service_password_file: pathlib.Path
    process: subprocess.Popen[bytes]
    dir: pathlib.Path


def _certificates(folder: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path, pathlib.Path]:
    """A throwaway CA and a certificate for 127.0.0.1 signed by it (PEM files)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cielo test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def _hashed(password: str) -> str:
    return subprocess.run(
        ["slappasswd", "-s", password], check=True, capture_output=True, text=True
    ).stdout.strip()


def _directory(service_dn: str) -> str:
    """The test directory as LDIF: people, a service account and two groups."""
    people = "".join(
        f"dn: uid={u},ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: {u}\ncn: {u}\n"
        f"sn: {u}\nuserPassword: {_hashed(u + ' pw')}\n\n"
        for u in ("alice", "bob", "carol")
    )
    groups = "".join(
        f"dn: cn={g},ou=groups,{SUFFIX}\nobjectClass: groupOfNames\ncn: {g}\n"
        f"member: uid={m},ou=people,{SUFFIX}\n\n"
        for g, m in (("beamline-staff", "alice"), ("users", "bob"))
    )
    return (
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: cielo\ndc: cielo\n\n"
        + "".join(
            f"dn: ou={ou},{SUFFIX}\nobjectClass: organizationalUnit\nou: {ou}\n\n"
            for ou in ("people", "groups", "services")
        )
        + f"dn: {service_dn}\nobjectClass: account\nobjectClass: simpleSecurityObject\n"
        f"uid: cielo\nuserPassword: {_hashed('service pw')}\n\n" + people + groups
    )


def _slapd_config(folder: pathlib.Path, root_password: str, service_dn: str) -> pathlib.Path:
    ca, cert, key = _certificates(folder)
    (folder / "data").mkdir()
    schema = "".join(
        f"include /etc/ldap/schema/{s}.schema\n" for s in ("core", "cosine", "inetorgperson", "nis")
    )
    config = folder / "slapd.conf"
    config.write_text(
        f"""{schema}
pidfile {folder}/slapd.pid
argsfile {folder}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCACertificateFile {ca}
TLSCertificateFile {cert}
TLSCertificateKeyFile {key}
database mdb
maxsize 10485760
suffix "{SUFFIX}"
rootdn "cn=admin,{SUFFIX}"
rootpw {_hashed(root_password)}
directory {folder}/data
access to attrs=userPassword by anonymous auth by * none
access to * by dn.exact="{service_dn}" read by users read by * none
"""
    )
    return config


@pytest.fixture(scope="module")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    """A real slapd (Debian's) on two free loopback ports from a temporary config,
    loaded with ``ldapadd``, stopped by PID. Skipped without it; failed under CI."""
    import time

    from cielo.testing import free_port

    binary = "/usr/sbin/slapd"
    if not pathlib.Path(binary).exists() or not shutil.which("ldapadd"):
        require_server("slapd and ldapadd are not installed (apt-get install slapd ldap-utils)")
    if importlib.util.find_spec("ldap3") is None:
        _require("ldap3 is not installed: pip install 'cielo[ldap]'")
    folder = tmp_path_factory.mktemp("slapd")
    root_password = secrets.token_hex(8)
    service_dn = f"uid=cielo,ou=services,{SUFFIX}"
    config = _slapd_config(folder, root_password, service_dn)
    port, tls_port = free_port(), free_port()
    url, ldaps = f"ldap://127.0.0.1:{port}", f"ldaps://127.0.0.1:{tls_port}"
    log = open(folder / "slapd.log", "wb")
    process = subprocess.Popen(
        [binary, "-f", str(config), "-h", f"{url}/ {ldaps}/", "-d", "0"],
        stdout=log,
        stderr=log,
    )
    try:
        import socket

        deadline = time.monotonic() + 20
        listening = False
        while not listening and time.monotonic() < deadline and process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                listening = True
            except OSError:
                time.sleep(0.05)
        loaded = subprocess.run(
            ["ldapadd", "-x", "-H", url, "-D", f"cn=admin,{SUFFIX}", "-w", root_password],
            input=_directory(service_dn),
            capture_output=True,
            text=True,
        )
        if not listening or loaded.returncode != 0:
            require_server(
                f"slapd did not start or load its directory: {loaded.stderr}\n"
                + (folder / "slapd.log").read_text(errors="replace")[-2000:]
            )
        secret = folder / "service.secret"
        secret.write_text("service pw\n")
        yield Slapd(url, ldaps, folder / "ca.pem", service_dn, secret, process, folder)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


# -- OIDC: an issuer on loopback serving discovery and its key set ----------------------------


class Issuer:
    """An OpenID issuer on a free loopback port (a real HTTP server in a thread): its
    discovery document and key set (JWKS) of ``keys`` (``{kid: private key}``, RSA and
    EC made here); ``token(**claims)`` signs a JWT; ``jwks_fetches`` counts key-set GETs."""

    def __init__(self) -> None:
        import http.server
        import threading

        from cryptography.hazmat.primitives.asymmetric import ec, rsa

        self.keys: dict[str, Any] = {
            "rsa-1": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ec-1": ec.generate_private_key(ec.SECP256R1()),
        }
        self.jwks_fetches = 0
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/realms/beamline/.well-known/openid-configuration":
                    body = {"issuer": issuer.url, "jwks_uri": issuer.url + "/jwks",
                            "id_token_signing_alg_values_supported": ["RS256", "ES256"]}  # fmt: skip
                elif self.path == "/realms/beamline/jwks":
                    issuer.jwks_fetches += 1
                    body = issuer.jwks()
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/realms/beamline"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def jwks(self) -> dict[str, Any]:
        import jwt

        keys = []
        for kid, key in self.keys.items():
            rsa = kid.startswith("rsa")
            algorithm = jwt.algorithms.RSAAlgorithm if rsa else jwt.algorithms.ECAlgorithm
            jwk = algorithm.to_jwk(key.public_key(), as_dict=True)
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256" if rsa else "ES256"})
        return {"keys": keys}

    def token(self, kid: str = "rsa-1", key: Any = None, **claims: Any) -> str:
        """A JWT signed with key ``kid`` (or ``key``): ``iss``, ``aud`` 'cielo', ``sub``,
        ``iat`` and ``exp`` in 5 minutes unless ``claims`` say otherwise (``None``: left
        out)."""
        import time

        import jwt

        now = int(time.time())
        body = {"iss": self.url, "aud": "cielo", "sub": "u-1", "iat": now, "exp": now + 300,
                **claims}  # fmt: skip
        body = {k: v for k, v in body.items() if v is not None}
        algorithm = "RS256" if kid.startswith("rsa") else "ES256"
        return str(jwt.encode(body, key or self.keys[kid], algorithm, headers={"kid": kid}))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    if importlib.util.find_spec("jwt") is None:
        _require("PyJWT is not installed: pip install 'cielo[oidc]'")
    made = Issuer()
    try:
        yield made
    finally:
        made.close()
