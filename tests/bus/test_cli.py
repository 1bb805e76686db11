"""``cielo run --publish``, a profile's ``[publish]``, ``cielo bus tail|replay``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cielo.bus import RedisStream, iter_entries
from cielo.cli import main
from cielo.core import ProfileError, read_profile


@pytest.fixture(autouse=True)
def _private_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CIELO_STATE_DIR", str(tmp_path_factory.mktemp("state")))
    monkeypatch.setenv("CIELO_CATALOG", f"sqlite:///{tmp_path_factory.mktemp('cat')}/runs.db")


def test_run_publish_sends_every_document_of_the_run(stream_uri, capsys, validate):
    assert main(["run", "-q", "--publish", stream_uri, "count([det], num=4)"]) == 0
    (uid,) = capsys.readouterr().out.split()
    docs = list(iter_entries(list(RedisStream(stream_uri).replay(uid))))
    assert [n for n, _ in docs] == ["start", "descriptor", *["event"] * 4, "stop"]
    for name, doc in docs:
        validate(name, doc)
    assert docs[0][1]["uid"] == uid and docs[-1][1]["exit_status"] == "success"


def test_a_profiles_publish_table_publishes_to_the_instruments_stream(
    redis_server, tmp_path, capsys
):
    profile = tmp_path / "beamx.toml"
    sim = Path(read_profile("sim").path).read_text()
    profile.write_text(
        sim + f'\n[publish]\nuri = "redis://127.0.0.1:{redis_server.port}"\nserializer = "json"\n'
    )
    assert main(["run", "-q", "--profile", str(profile), "count([det], num=2)"]) == 0
    (uid,) = capsys.readouterr().out.split()
    stream = RedisStream(f"redis://127.0.0.1:{redis_server.port}/cielo.beamx")
    entries = list(stream.replay(uid))
    assert entries[0].doc["uid"] == uid and entries[-1].name == "stop"
    raw = stream.client.xrange(stream.stream, count=1)
    assert raw[0][1][b"c"] == b"j"  # the table's serializer reached the transport


def test_profiles_driving_one_instrument_share_its_stream(tmp_path):
    from cielo.bus import publish_uri

    envs = []
    for name in ("ex1-day", "ex1-night"):
        profile = tmp_path / f"{name}.toml"
        profile.write_text('[profile]\ninstrument = "ex1"\n[publish]\nuri = "redis://h:6379"\n')
        envs.append(type("Env", (), {"profile": read_profile(profile)}))
    assert {publish_uri(env) for env in envs} == {"redis://h:6379/cielo.ex1"}


@pytest.mark.parametrize(
    "table, message",
    [
        ('[publish]\nserializer = "json"\n', "has no uri"),
        ('[publish]\nuri = "127.0.0.1:6379"\n', "has no scheme"),
        ('[publish]\nuri = "redis://h/s"\nmaxlenn = 5\n', "maxlenn"),
    ],
)
def test_a_bad_publish_table_is_refused_at_load(tmp_path, table, message):
    profile = tmp_path / "bad.toml"
    profile.write_text(table)
    with pytest.raises(ProfileError, match=message):
        read_profile(profile)


def test_run_with_an_unknown_bus_scheme_fails_before_running(capsys):
    assert main(["run", "-q", "--publish", "nats://127.0.0.1:4222/x", "count([det])"]) == 2
    err = capsys.readouterr().err
    assert "no bus transport for nats://" in err and "redis" in err


def test_tail_prints_a_table_of_runs_on_the_stream(stream_uri, capsys):
    assert main(["run", "-q", "--publish", stream_uri, "scan([det], motor, -1, 1, 3)"]) == 0
    capsys.readouterr()
    assert main(["bus", "tail", stream_uri, "--from-start", "--idle-exit", "1"]) == 0
    out = capsys.readouterr().out
    assert "motor" in out and "det" in out
    assert len([line for line in out.splitlines() if line.strip().startswith("|")]) >= 4


def test_replay_json_gives_the_runs_documents(stream_uri, capsys):
    assert main(["run", "-q", "--publish", stream_uri, "count([det], num=3)"]) == 0
    (uid,) = capsys.readouterr().out.split()
    assert main(["bus", "replay", stream_uri, "--run", uid[:8], "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [n for n, _ in lines] == ["start", "descriptor", "event", "event", "event", "stop"]
    assert lines[0][1]["uid"] == uid
