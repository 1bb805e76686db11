"""Real EPICS IOCs on loopback for the EPICS plugin's tests.

A session fixture starts two demo IOCs (pythonSoftIOC) as subprocesses, each on its own
Channel Access port on 127.0.0.1, plus a caproto repeater (so libca does not complain
about a missing caRepeater), and points this process's Channel Access client at exactly
those ports *before* pyepics creates its context. A third port is reserved for IOCs that
a test starts and kills (:func:`victim_ioc`), a fourth for caproto's fake motor record
IOC (:func:`motor_record_ioc`, started when a test first asks for it). Every process is
stopped by its PID.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cielo.testing import in_ci, require_server

# Only look for softioc: importing it here would load a second copy of EPICS base into
# this process next to pyepics' own libca, and libca then never calls back.
if importlib.util.find_spec("softioc") is None or importlib.util.find_spec("epics") is None:
    if in_ci():
        raise RuntimeError("the EPICS tests need softioc and pyepics (pip install -e '.[test]')")
    pytest.skip("the demo IOC needs softioc (pythonSoftIOC) and pyepics", allow_module_level=True)

from cielo.plugins.epics import reset_context
from cielo.plugins.epics.demo_ioc import READY_MARK

#: Prefix of the main test IOC: the demo's own, so the bundled ``epics`` profile drives it.
PREFIX = "CIELO:"
PREFIX2 = "CIELO2:"
#: Prefix of caproto's fake motor record IOC: it serves ``CMR:mtr1`` .. ``CMR:mtr3``.
MOTOR_RECORD_PREFIX = "CMR:"
#: What caproto's server logs once it serves its PVs.
CAPROTO_READY_MARK = "Server startup complete."
#: The main IOC also serves ``CIELO:pv:0`` .. ``CIELO:pv:99``.
EXTRA_PVS = 100
_victims = itertools.count(1)


def free_port() -> int:
    """A port free for both TCP and UDP on loopback (as a CA server needs)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = int(tcp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
        return port
    raise RuntimeError("no free TCP+UDP port on 127.0.0.1")


@dataclass
class Ioc:
    """A demo IOC subprocess."""

    prefix: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    ready_mark: str = READY_MARK

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready_mark in self.log.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"IOC {self.prefix} on port {self.port} did not start; its log:\n"
            + self.log.read_text(errors="replace")
        )

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the IOC by its PID (SIGKILL if it does not end within 5 s)."""
        if self.process.poll() is None:
            os.kill(self.pid, sig)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.process.wait(5)

    def kill(self) -> None:
        """Kill the IOC abruptly, as a crash would."""
        self.stop(signal.SIGKILL)


def start_ioc(prefix: str, port: int, logdir: Path, env: dict[str, str], extra_pvs: int = 0) -> Ioc:
    log = logdir / f"ioc-{prefix.strip(':')}-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cielo.plugins.epics.demo_ioc",
                "--port",
                str(port),
                "--prefix",
                prefix,
                "--interface",
                "127.0.0.1",
                "--extra-pvs",
                str(extra_pvs),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    return Ioc(prefix, port, process, log)


def start_motor_record_ioc(prefix: str, port: int, logdir: Path, env: dict[str, str]) -> Ioc:
    """caproto's ``fake_motor_record`` example IOC: motor records ``mtr1``..``mtr3``.

    Served on loopback only (``--interfaces`` and ``EPICS_CAS_INTF_ADDR_LIST``), on
    ``port`` for both TCP and UDP (``EPICS_CAS_SERVER_PORT``/``EPICS_CA_SERVER_PORT``).
    """
    log = logdir / f"ioc-{prefix.strip(':')}-{port}.log"
    ioc_env = env | {
        "EPICS_CAS_SERVER_PORT": str(port),
        "EPICS_CA_SERVER_PORT": str(port),
        "EPICS_CAS_INTF_ADDR_LIST": "127.0.0.1",
        "EPICS_CAS_AUTO_BEACON_ADDR_LIST": "NO",
        "EPICS_CAS_BEACON_ADDR_LIST": "127.0.0.1",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "caproto.ioc_examples.fake_motor_record",
                "--prefix",
                prefix,
                "--interfaces",
                "127.0.0.1",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=ioc_env,
        )
    return Ioc(prefix, port, process, log, ready_mark=CAPROTO_READY_MARK)


@dataclass
class IocSet:
    """The session's IOCs and the port reserved for tests' own IOCs."""

    main: Ioc
    second: Ioc
    spare_port: int
    motor_record_port: int
    logdir: Path
    env: dict[str, str]


@pytest.fixture(scope="session")
def epics_iocs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IocSet]:
    """Two demo IOCs (``CIELO:`` and ``CIELO2:``) on loopback, the client env set for them."""
    logdir = tmp_path_factory.mktemp("iocs")
    ports = [free_port() for _ in range(4)]
    while len(set(ports)) < 4:
        ports = [free_port() for _ in range(4)]
    repeater_port = free_port()
    env = dict(os.environ)
    env["EPICS_CA_REPEATER_PORT"] = str(repeater_port)
    repeater = None
    exe = shutil.which("caproto-repeater") or str(
        Path(sys.executable).with_name("caproto-repeater")
    )
    if Path(exe).exists():
        repeater = subprocess.Popen(
            [exe, "--quiet"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
    main = start_ioc(PREFIX, ports[0], logdir, env, extra_pvs=EXTRA_PVS)
    second = start_ioc(PREFIX2, ports[1], logdir, env)
    saved = {k: os.environ.get(k) for k in _CLIENT_KEYS}
    client = {
        "EPICS_CA_ADDR_LIST": " ".join(f"127.0.0.1:{p}" for p in ports),
        "EPICS_CA_AUTO_ADDR_LIST": "NO",
        "EPICS_CA_REPEATER_PORT": str(repeater_port),
        "EPICS_CA_CONN_TMO": "2",
    }
    os.environ.update(client)
    reset_context()  # a context made earlier in this process read another environment
    try:
        main.wait_ready()
        second.wait_ready()
        yield IocSet(main, second, ports[2], ports[3], logdir, env | client)
    finally:
        main.stop()
        second.stop()
        if repeater is not None:
            repeater.terminate()
            repeater.wait(5)
        reset_context()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


_CLIENT_KEYS = (
    "EPICS_CA_ADDR_LIST",
    "EPICS_CA_AUTO_ADDR_LIST",
    "EPICS_CA_REPEATER_PORT",
    "EPICS_CA_CONN_TMO",
)


@pytest.fixture
def ioc(epics_iocs: IocSet) -> Ioc:
    """The main demo IOC (prefix ``CIELO:``)."""
    return epics_iocs.main


@pytest.fixture
def victim_ioc(epics_iocs: IocSet) -> Iterator[Ioc]:
    """A fresh demo IOC on the spare port, with a prefix of its own, for tests to kill."""
    prefix = f"CVIC{next(_victims)}:"
    victim = start_ioc(prefix, epics_iocs.spare_port, epics_iocs.logdir, epics_iocs.env)
    try:
        victim.wait_ready()
        yield victim
    finally:
        victim.stop()


@pytest.fixture(scope="session")
def motor_record_ioc(epics_iocs: IocSet) -> Iterator[Ioc]:
    """caproto's fake motor record IOC (``CMR:mtr1``..``CMR:mtr3``) on its reserved port."""
    if importlib.util.find_spec("caproto") is None:
        require_server("the fake motor record IOC needs caproto")
    ioc = start_motor_record_ioc(
        MOTOR_RECORD_PREFIX, epics_iocs.motor_record_port, epics_iocs.logdir, epics_iocs.env
    )
    try:
        ioc.wait_ready()
        yield ioc
    finally:
        ioc.stop()
