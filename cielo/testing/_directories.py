"""Identity services for tests of the queue server's authenticators, on loopback:
:class:`SlapdServer`, Debian's OpenLDAP ``slapd`` from a temporary config with a small
directory, and :class:`OidcIssuer`, an OpenID issuer serving its discovery document and
key set over HTTP and signing tokens. Each is stopped by :meth:`close`."""

from __future__ import annotations

import json
import pathlib
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import Any

from ._servers import free_port

__all__ = ["OidcIssuer", "SlapdServer"]

#: The test directory's suffix.
SUFFIX = "dc=cielo,dc=test"


class SlapdServer:
    """A running slapd on two free loopback ports: ``url`` (ldap://, StartTLS offered)
    and ``ldaps`` (ldaps://), its certificate signed by a throwaway CA (``ca_file``);
    ``service_dn`` and ``service_password_file``, an account that may search; users
    ``alice`` (group ``beamline-staff``), ``bob`` (group ``users``) and ``carol`` (no
    group), each with the password ``f"{name} pw"``. :class:`RuntimeError` when it
    cannot start (``apt-get install slapd ldap-utils``)."""

    suffix = SUFFIX

    def __init__(self, timeout: float = 20.0) -> None:
        binary = "/usr/sbin/slapd"
        if not pathlib.Path(binary).exists() or not shutil.which("ldapadd"):
            raise RuntimeError(
                "slapd and ldapadd are not installed (apt-get install slapd ldap-utils)"
            )
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="cielo-slapd-"))
        root_password = secrets.token_hex(8)
        self.service_dn = f"uid=cielo,ou=services,{SUFFIX}"
        config = _slapd_config(self.dir, root_password, self.service_dn)
        self.ca_file = self.dir / "ca.pem"
        port = free_port()
        self.url, self.ldaps = f"ldap://127.0.0.1:{port}", f"ldaps://127.0.0.1:{free_port()}"
        with open(self.dir / "slapd.log", "wb") as log:
            self.process = subprocess.Popen(
                [binary, "-f", str(config), "-h", f"{self.url}/ {self.ldaps}/", "-d", "0"],
                stdout=log,
                stderr=log,
            )
        try:
            deadline = time.monotonic() + timeout
            listening = False
            while not listening and time.monotonic() < deadline and self.process.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    listening = True
                except OSError:
                    time.sleep(0.05)
            loaded = subprocess.run(
                ["ldapadd", "-x", "-H", self.url, "-D", f"cn=admin,{SUFFIX}", "-w", root_password],
                input=_directory(self.service_dn),
                capture_output=True,
                text=True,
            )
            if not listening or loaded.returncode != 0:
                log_text = (self.dir / "slapd.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(
                    f"slapd did not start or load its directory: {loaded.stderr}\n{log_text}"
                )
        except BaseException:
            self.close()
            raise
        self.service_password_file = self.dir / "service.secret"
        self.service_password_file.write_text("service pw\n")

    def pause(self) -> None:
        """SIGSTOP: the server accepts connections and answers nothing."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def close(self) -> None:
        """Stop the server started here (by PID) and remove its folder."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


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


class OidcIssuer:
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
