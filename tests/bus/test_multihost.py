"""Publisher and Redis on one host, a consumer on another: two network namespaces joined
by a veth pair stand for the hosts (skipped where the machine cannot make namespaces)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CONSUMER = textwrap.dedent(
    """
    import json, sys
    from cielo.bus import RemoteDispatcher, open_transport
    uri, out = sys.argv[1], sys.argv[2]
    got = []
    dispatcher = RemoteDispatcher(open_transport(uri), group="remote", consumer="host-b", start="0")
    dispatcher.subscribe(lambda name, doc: got.append([name, doc]))
    dispatcher.start(idle_timeout=3.0)
    with open(out, "w") as f:
        json.dump(got, f)
    """
)


def sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=30)


@pytest.fixture
def two_hosts() -> Iterator[tuple[str, str, str]]:
    """``(namespace A, namespace B, A's address)``; removed afterwards."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("network namespaces need root and iproute2")
    tag = uuid.uuid4().hex[:6]
    a, b = f"cielo-a-{tag}", f"cielo-b-{tag}"
    net = f"10.{int(tag[:2], 16) % 250 + 1}.{int(tag[2:4], 16)}"
    try:
        sh("ip", "netns", "add", a)
        sh("ip", "netns", "add", b)
        sh("ip", "link", "add", f"va{tag}", "type", "veth", "peer", "name", f"vb{tag}")
        sh("ip", "link", "set", f"va{tag}", "netns", a)
        sh("ip", "link", "set", f"vb{tag}", "netns", b)
        for ns, dev, addr in ((a, f"va{tag}", f"{net}.1"), (b, f"vb{tag}", f"{net}.2")):
            sh("ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
    except (subprocess.CalledProcessError, OSError) as exc:
        for ns in (a, b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        pytest.skip(f"cannot make network namespaces here: {exc}")
    try:
        yield a, b, f"{net}.1"
    finally:
        for ns in (a, b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def test_a_consumer_on_another_host_gets_every_document(two_hosts, tmp_path: Path):
    a, b, address = two_hosts
    redis = subprocess.Popen(
        ["ip", "netns", "exec", a, shutil.which("redis-server") or "redis-server", "--bind", address,
         "--port", "6379", "--save", "", "--appendonly", "no", "--dir", str(tmp_path),
         "--protected-mode", "no"],  # reachable from host B; the namespaces are private
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    env = {**os.environ, "CIELO_STATE_DIR": str(tmp_path / "state"),
           "CIELO_CATALOG": f"sqlite:///{tmp_path / 'runs.db'}"}  # fmt: skip
    cli = [sys.executable, "-c", "import sys; from cielo.cli import main; sys.exit(main())"]
    uri = f"redis://{address}:6379/beamline"
    out = tmp_path / "got.json"
    try:
        run = subprocess.run(
            ["ip", "netns", "exec", a, *cli, "run", "-q", "--publish", uri, "count([det], num=25)"],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        (uid,) = run.stdout.split()
        subprocess.run(
            ["ip", "netns", "exec", b, sys.executable, "-c", CONSUMER, uri, str(out)],
            env=env, check=True, timeout=120,
        )  # fmt: skip
        replay = subprocess.run(
            ["ip", "netns", "exec", a, *cli, "bus", "replay", uri, "--run", uid, "--json"],
            env=env, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
    finally:
        redis.kill()
        redis.wait(10)
    published = [json.loads(line) for line in replay.stdout.splitlines()]
    got = json.loads(out.read_text())
    assert got == published
    assert [n for n, _ in got] == ["start", "descriptor", *["event"] * 25, "stop"]
    assert got[0][1]["uid"] == uid
