"""Profiles: TOML structure checks, the search path, finding by name or path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cielo.core import ProfileError, find_profile, list_profiles, read_profile
from cielo.core.profile import profile_search_path


@pytest.fixture
def search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    first, second, config = tmp_path / "first", tmp_path / "second", tmp_path / "config"
    for d in (first, second, config / "cielo" / "profiles"):
        d.mkdir(parents=True)
    monkeypatch.setenv("CIELO_PROFILE_PATH", os.pathsep.join([str(first), str(second)]))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return first, second, config / "cielo" / "profiles"


def test_search_path_order(search):
    first, second, user = search
    path = profile_search_path()
    assert path[:3] == [first, second, user]
    assert path[-1].name == "profiles" and path[-1].parent.name == "cielo"


def test_first_match_wins_and_listing(search):
    first, second, user = search
    (second / "lab.toml").write_text('[metadata]\nwhere = "second"\n')
    (user / "lab.toml").write_text('[metadata]\nwhere = "user"\n')
    (user / "mine.toml").write_text("")
    assert find_profile("lab") == second / "lab.toml"
    assert read_profile("lab").metadata["where"] == "second"
    (first / "lab.toml").write_text('[metadata]\nwhere = "first"\n')
    assert read_profile("lab").metadata["where"] == "first"
    profiles = list_profiles()
    assert profiles["lab"] == first / "lab.toml" and profiles["mine"] == user / "mine.toml"


def test_find_by_path(tmp_path: Path):
    path = tmp_path / "elsewhere.toml"
    path.write_text('[profile]\ndescription = "x"\n')
    profile = read_profile(path)
    assert (profile.name, profile.path, profile.description) == ("elsewhere", path, "x")
    assert read_profile(str(path)).path == path


def test_missing_profile_suggests_and_lists_search_path(search):
    first, _, _ = search
    (first / "beamline.toml").write_text("")
    with pytest.raises(ProfileError, match="no profile named 'beamlin'; did you mean 'beamline'"):
        find_profile("beamlin")
    with pytest.raises(ProfileError, match="does not exist"):
        find_profile(first / "nope.toml")


def test_full_profile_parses(tmp_path: Path):
    path = tmp_path / "full.toml"
    path.write_text(
        """
[profile]
description = "all tables"
[plugins]
enable = ["sim", "scans"]
disable = ["epics"]
[devices.m]
type = "sim.motor"
velocity = 2.0
[metadata]
beamline = "X"
[callbacks.live_table]
[callbacks.table2]
type = "live_table"
fields = ["det"]
[suitcases.jsonl]
directory = "/tmp/x"
[catalog]
uri = "sqlite:///runs.db"
"""
    )
    p = read_profile(path)
    assert p.enable == ("sim", "scans") and p.disable == ("epics",)
    assert p.devices["m"].type == "sim.motor" and dict(p.devices["m"].params) == {"velocity": 2.0}
    assert p.callbacks["live_table"].type == "live_table"
    assert p.callbacks["table2"].type == "live_table"
    assert dict(p.callbacks["table2"].params) == {"fields": ["det"]}
    assert p.suitcases["jsonl"].params["directory"] == "/tmp/x"
    assert p.catalog_uri == "sqlite:///runs.db"
    assert p.metadata["beamline"] == "X"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[device.m]\ntype='sim.motor'",
            "bad.toml: unknown table [device]; did you mean 'devices'?",
        ),
        (
            "[plugins]\ndisabled = ['x']",
            "bad.toml: [plugins] unknown key 'disabled'; did you mean 'disable'?",
        ),
        (
            "[plugins]\ndisable = 'epics'",
            "bad.toml: [plugins] 'disable' must be a list of plugin names",
        ),
        (
            "[devices.m]\nvelocity = 1",
            "bad.toml: [devices.m] has no 'type'; add e.g. type = \"sim.motor\"",
        ),
        ("[devices.m]\ntype = 3", "bad.toml: [devices.m] 'type' must be a string, got 3"),
        ("[devices.m]\ntype = 'x'\nname = 'y'", "bad.toml: [devices.m] sets 'name'"),
        ("devices = 3", "bad.toml: [devices] must be a table"),
        ("[catalog]\nurl = 'x'", "bad.toml: [catalog] unknown key 'url'; did you mean 'uri'?"),
        ("[profile]\ndescription = 1", "bad.toml: [profile] 'description' must be a string"),
        ("[metadata\n", "bad.toml: not valid TOML"),
        (
            "[supplemental]\nbasline = ['m']",
            "bad.toml: [supplemental] unknown key 'basline'; did you mean 'baseline'?",
        ),
        (
            "[supplemental]\nmonitors = 'm'",
            "bad.toml: [supplemental] 'monitors' must be a list of device names",
        ),
    ],
)
def test_structural_errors_name_file_and_key(tmp_path: Path, text: str, expected: str):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ProfileError) as info:
        read_profile(path)
    assert expected in str(info.value)


def test_unreadable_profile_files_are_clean_errors(tmp_path):
    """A non-UTF-8 byte and arrays nested 5,000 deep: one line naming the file, no traceback."""
    from cielo.core import ProfileError, read_profile

    bad = tmp_path / "latin.toml"
    bad.write_bytes(b'[profile]\ndescription = "caf\xe9"\n')
    with pytest.raises(ProfileError, match=r"^latin.toml: byte 0xe9 on line 2 is not UTF-8"):
        read_profile(bad)
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ProfileError, match=r"^deep.toml: arrays or tables nested too deeply"):
        read_profile(deep)
