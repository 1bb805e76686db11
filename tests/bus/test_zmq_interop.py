"""Bluesky's consumers follow cielo's runs: bluesky-0MQ-proxy and bluesky's RemoteDispatcher,
each in its own process, receive a cielo run's documents unchanged (JSON and msgpack)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from cielo import RunEngine, load_profile
from cielo.bus import Publisher, ZmqProxyTransport

pytest.importorskip("bluesky.callbacks.zmq")
pytestmark = pytest.mark.interop

LISTENER = textwrap.dedent(
    """
    import json, sys
    import msgpack
    from bluesky.callbacks.zmq import RemoteDispatcher

    address, serializer, out = sys.argv[1], sys.argv[2], sys.argv[3]
    loads = json.loads if serializer == "json" else msgpack.unpackb
    dispatcher = RemoteDispatcher(address, deserializer=loads)
    received = []

    def keep(name, doc):
        received.append([name, doc])
        if name == "stop":
            with open(out, "w") as f:
                json.dump(received, f)
            dispatcher.stop()

    dispatcher.subscribe(keep)
    print("listening", flush=True)
    dispatcher.start()
    """
)


@pytest.mark.parametrize("serializer", ["json", "msgpack"])
def test_bluesky_remote_dispatcher_receives_a_cielo_run_unchanged(
    zmq_proxy, serializer, tmp_path, validate
):
    in_port, out_port = zmq_proxy
    out = tmp_path / "received.json"
    listener = subprocess.Popen(
        [sys.executable, "-c", LISTENER, f"127.0.0.1:{out_port}", serializer, str(out)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert listener.stdout is not None and listener.stdout.readline().strip() == "listening"
        sim = load_profile("sim")
        seen: list[list] = []
        transport = ZmqProxyTransport(f"zmq://127.0.0.1:{in_port}?serializer={serializer}&wait=10")
        with (
            Publisher(transport) as publisher,
            RunEngine(plugin_manager=sim.pm, scan_id_file=None) as RE,
        ):
            RE.subscribe(publisher)
            RE.subscribe(lambda name, doc: seen.append([name, doc]))
            RE(sim.plans["scan"]([sim.devices["det"]], sim.devices["motor"], -1, 1, 5))
        listener.wait(30)
    finally:
        listener.kill()
    received = json.loads(out.read_text())
    assert received == json.loads(json.dumps(seen))  # every document, in order, unchanged
    assert [n for n, _ in received] == ["start", "descriptor", *["event"] * 5, "stop"]
    for name, doc in received:
        validate(name, doc)
