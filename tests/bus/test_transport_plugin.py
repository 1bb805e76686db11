"""A transport offered by a third-party plugin (``cielo_bus_transports``), as a Kafka or
NATS one would be: a profile's ``[publish]`` table reaches it exactly as it reaches the
bundled Redis and 0MQ transports."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cielo import RunEngine, hookimpl
from cielo.bus import Entry, Transport, check_publish, open_publisher, parse_uri
from cielo.core import load_profile, make_plugin_manager, read_profile


class JsonLinesTransport:
    """Appends each entry to a file, one JSON line each (a stand-in for a broker)."""

    def __init__(self, uri: str, *, maxlen: int | None = None) -> None:
        self.uri = uri
        self.path = Path("/" + parse_uri(uri).path)
        self.maxlen = maxlen  # a [publish] option, given by the profile
        self.file = self.path.open("a")

    def publish(self, entries: Sequence[Entry]) -> None:
        for entry in entries:
            self.file.write(json.dumps([entry.name, entry.run, entry.doc]) + "\n")
        self.file.flush()

    def close(self) -> None:
        self.file.close()


class LinesPlugin:
    @hookimpl
    def cielo_bus_transports(self) -> Mapping[str, Any]:
        return {"jsonl": JsonLinesTransport}


def lines(path: Path) -> list[list[Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def profile_publishing_to(tmp_path: Path, uri: str, extra: str = "") -> Any:
    """The sim profile with ``[publish] uri``, loaded with the plugin offering ``jsonl``."""
    path = tmp_path / "lines.toml"
    sim = Path(read_profile("sim").path).read_text()
    path.write_text("catalog = false\n" + sim[: sim.index("[catalog]")]
                    + f'[publish]\nuri = "{uri}"\n{extra}')  # fmt: skip
    pm = make_plugin_manager(plugins=[("jsonl_bus", LinesPlugin())])
    return load_profile(str(path), plugin_manager=pm)


def test_a_profile_publishes_through_a_plugins_transport(tmp_path: Path, validate):
    """The path `cielo run` and `cielo serve`'s worker take: check_publish, open_publisher."""
    out = tmp_path / "bus.jsonl"
    env = profile_publishing_to(tmp_path, f"jsonl://localhost{out}")
    check_publish(env)
    with open_publisher(env) as publishers, RunEngine(plugin_manager=env.pm) as RE:
        assert [type(p.transport) for p in publishers] == [JsonLinesTransport]
        for publisher in publishers:
            RE.subscribe(publisher)
        (uid,) = RE(env.plans["count"]([env.devices["det"]], num=3)).run_start_uids
    sent = lines(out)
    names = [name for name, _, _ in sent]
    assert names[0] == "start" and names[-1] == "stop" and "descriptor" in names
    assert {run for _, run, _ in sent} == {uid}  # every entry names its run
    assert isinstance(publishers[0].transport, Transport)
    for name, _, doc in sent:
        validate(name, doc)


def test_the_tables_bus_options_go_to_the_plugins_transport(tmp_path: Path):
    out = tmp_path / "bus.jsonl"
    env = profile_publishing_to(tmp_path, f"jsonl://localhost{out}", "maxlen = 5\n")
    with open_publisher(env) as publishers:
        assert publishers[0].transport.maxlen == 5
