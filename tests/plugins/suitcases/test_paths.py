"""Every file a suitcase writes stays inside its directory; bad settings fail at profile load."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cielo import load_profile
from cielo.cli import main
from cielo.core import ProfileError
from cielo.storage import SuitcaseError

TEMPLATES = [
    "{sample}/{scan_id}",
    "{sample}",
    "{sample}{scan_id}",
    "{sample}/{other}/{scan_id}",
    "run-{sample}/{other}",
    "{sample}/x/{other}-{uid:.8}",
    "{sample:.2}/{scan_id}",
]
# what a user may type as metadata, the nasty ones weighted up
VALUES = st.one_of(
    st.sampled_from([".", "..", "...", "../..", "/", "/etc", "~", "..\\..", " .. ", "./.", ""]),
    st.text(alphabet="./\\~_-a ", max_size=8),
    st.text(max_size=300),
)


def files_under(root: Path) -> set[Path]:
    return {p.resolve() for p in root.rglob("*") if p.is_file()}


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    template=st.sampled_from(TEMPLATES),
    sample=VALUES,
    other=VALUES,
    kind=st.sampled_from(["jsonl", "csv", "spec"]),
)
def test_metadata_never_leads_a_suitcase_out_of_its_directory(
    suitcases, make_run, tmp_path_factory, template, sample, other, kind
):  # fmt: skip
    root = tmp_path_factory.mktemp("paths")
    directory = root / "a" / "b"
    callback = suitcases[kind](directory=directory, file_template=template)
    for name, doc in make_run(2, md={"sample": sample, "other": other}):
        callback(name, doc)
    written = files_under(root)
    assert written, "the run was written somewhere"
    assert all(p.is_relative_to(directory.resolve()) for p in written), written


def test_dot_dot_as_a_whole_component_stays_inside(suitcases, make_run, tmp_path):
    callback = suitcases["jsonl"](directory=tmp_path / "out", file_template="{sample}/{scan_id}")
    for name, doc in make_run(2, md={"sample": ".."}):
        callback(name, doc)
    (uid,) = callback.artifacts
    (path,) = callback.artifacts[uid]["archive"]
    assert path.parent == tmp_path / "out" / "_"
    assert files_under(tmp_path) == {path.resolve()}


def test_a_symbolic_link_out_of_the_directory_is_refused(suitcases, make_run, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", tmp_path / "out" / "x")
    callback = suitcases["jsonl"](directory=tmp_path / "out", file_template="{sample}/{scan_id}")
    docs = make_run(1, md={"sample": "x"})
    with pytest.raises(SuitcaseError, match="outside the suitcase directory"):
        callback(*docs[0])
    assert not list((tmp_path / "elsewhere").iterdir())


def test_catalog_export_keeps_files_inside_the_directory(tmp_path, make_run, capsys):
    from cielo.storage import open_catalog

    uri = f"sqlite:///{tmp_path / 'c.sqlite'}"
    with open_catalog(uri, create=True) as cat, cat.writer() as writer:
        for name, doc in make_run(2, md={"sample": ".."}):
            writer(name, doc)
    out = tmp_path / "x" / "y"
    args = ["catalog", "export", "--uri", uri, "-1", "-f", "jsonl", "-d", str(out)]
    assert main([*args, "--file-template", "{sample}/{scan_id}"]) == 0
    assert all(p.is_relative_to(out) for p in files_under(tmp_path / "x"))
    assert main([*args, "--file-template", "../{scan_id}"]) == 1
    assert "'..'" in capsys.readouterr().err
    assert not list(tmp_path.glob("x/*.jsonl"))


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ('flush_every = "x"', "expected an integer"),
        ("flush_every = 0", "flush_every must be a whole number of documents, at least 1"),
        ('directory = "a\\u0000b"', "not a usable folder name"),
        ('file_template = "' + "x" * 300 + '"', "300 bytes"),
        ('file_template = "{sample}/../{scan_id}"', "inside the suitcase's directory"),
        ('file_template = "/abs/{scan_id}"', "inside the suitcase's directory"),
    ],
)
def test_suitcase_settings_that_cannot_work_fail_at_profile_load(
    tmp_path, setting, message, capsys
):
    directory = "" if setting.startswith("directory") else f'directory = "{tmp_path / "out"}"'
    profile = tmp_path / "p.toml"
    profile.write_text(
        f'[devices.m]\ntype = "sim.motor"\n[suitcases.arch]\ntype = "jsonl"\n{directory}\n{setting}\n'
    )
    with pytest.raises(ProfileError, match=r"\[suitcases.arch\]") as info:
        load_profile(profile)
    assert message in str(info.value)
    assert main(["profile", "check", str(profile)]) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_directory_that_is_a_file_fails_at_profile_load(tmp_path):
    (tmp_path / "f").write_text("")
    profile = tmp_path / "p.toml"
    profile.write_text(f'[suitcases.arch]\ntype = "csv"\ndirectory = "{tmp_path / "f"}"\n')
    with pytest.raises(ProfileError, match="exists and is not a folder"):
        load_profile(profile)
