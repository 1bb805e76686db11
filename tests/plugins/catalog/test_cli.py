"""``cielo catalog search|show|import|export`` on a real catalog."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cielo.cli import main
from cielo.storage import open_catalog

_path = Path(__file__).parents[2] / "storage" / "synthetic.py"
_spec = importlib.util.spec_from_file_location("cielo_storage_synthetic", _path)
synthetic = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(synthetic)  # type: ignore[union-attr]


@pytest.fixture
def archive(tmp_path):
    """A JSONL archive of three runs, written by the jsonl suitcase."""
    from cielo.plugins.suitcases import cielo_suitcases

    cb = cielo_suitcases()["jsonl"](directory=tmp_path / "archive", file_template="{scan_id}")
    samples = ["Si powder", "LaB6", "Si wafer"]
    for scan_id, sample in enumerate(samples, 1):
        docs = synthetic.synthetic_run(
            3, scan_id=scan_id, t0=1_700_000_000.0 + scan_id, plan_name="count" if scan_id == 2 else "scan",
            md={"sample": sample, "temperature": 100 * scan_id},
        )  # fmt: skip
        for name, doc in docs:
            cb(name, doc)
    return sorted((tmp_path / "archive").glob("*.jsonl"))


@pytest.fixture
def uri(tmp_path, archive, capsys):
    uri = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert main(["catalog", "import", "--uri", uri, *map(str, archive)]) == 0
    out = capsys.readouterr().out
    assert out.count("1 new run(s)") == 3
    return uri


def search(capsys, *args):
    assert main(["catalog", "search", *args, "--json"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_search_prints_one_json_object_per_run(uri, capsys):
    rows = search(capsys, "--uri", uri)
    assert [r["scan_id"] for r in rows] == [3, 2, 1]  # newest first
    assert set(rows[0]) >= {"uid", "scan_id", "plan_name", "time", "exit_status"}
    assert rows[0]["exit_status"] == "success"


def test_search_options(uri, capsys):
    assert [r["scan_id"] for r in search(capsys, "--uri", uri, "Si")] == [3, 1]
    assert [r["scan_id"] for r in search(capsys, "--uri", uri, "--plan", "count")] == [2]
    assert [r["scan_id"] for r in search(capsys, "--uri", uri, "--scan-id", "2:3")] == [3, 2]
    assert [
        r["scan_id"]
        for r in search(capsys, "--uri", uri, "--where", "temperature >= 200", "--sort", "scan_id")
    ] == [2, 3]
    assert [r["scan_id"] for r in search(capsys, "--uri", uri, "--where", "sample ~= ^Si")] == [
        3,
        1,
    ]
    assert [
        r["scan_id"] for r in search(capsys, "--uri", uri, "--query", '{"sample": "LaB6"}')
    ] == [2]
    assert [
        r["scan_id"] for r in search(capsys, "--uri", uri, "--limit", "1", "--offset", "1")
    ] == [2]
    assert search(capsys, "--uri", uri, "--status", "incomplete") == []
    uid = open_catalog(uri)[2].uid
    assert [r["uid"] for r in search(capsys, "--uri", uri, "--uid", uid[:6])] == [uid]
    assert [r["uid"] for r in search(capsys, "--uri", uri, "--uid", uid)] == [uid]
    assert main(["catalog", "search", "--uri", uri, "--uid", "ab"]) == 1
    assert "too short" in capsys.readouterr().err
    assert [r["scan_id"] for r in search(capsys, "--uri", uri, "--since", "1700000002")] == [3, 2]


def test_search_table_and_bad_where(uri, capsys):
    assert main(["catalog", "search", "--uri", uri]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["UID", "SCAN_ID", "PLAN", "TIME", "STATUS", "EVENTS"]
    assert len(out.splitlines()) == 4
    assert main(["catalog", "search", "--uri", uri, "--where", "temperature"]) == 1
    assert "is not KEY OP VALUE" in capsys.readouterr().err
    for bad, message in (
        (["--where", "sample in 3"], "needs a list of values, not 3"),
        (["--where", "sample ~= ("], "regex for 'sample' is not valid"),
        (["--status", "bogus"], "exit status 'bogus'"),
        (["--limit", "-1"], "--limit -1: give 0 (all) or more"),
        (["--offset", "-2"], "--offset -2: give 0 or more"),
    ):
        assert main(["catalog", "search", "--uri", uri, *bad]) == 1, bad
        assert message in capsys.readouterr().err, bad


def test_search_pages_after_the_last_uid_shown(uri, capsys):
    assert main(["catalog", "search", "--uri", uri, "--limit", "2"]) == 0
    out, err = capsys.readouterr()
    last = out.splitlines()[-1].split()[0]  # the table shows 8 characters of the uid
    assert f"(2 of 3 runs; the next page: --after {last})" in err
    rows = search(capsys, "--uri", uri, "--limit", "2", "--after", last)
    assert [r["scan_id"] for r in rows] == [1]
    assert main(["catalog", "search", "--uri", uri, "--after", rows[0]["uid"]]) == 0
    assert "no runs past --after" in capsys.readouterr().out
    assert main(["catalog", "search", "--uri", uri, "--after", last, "--offset", "1"]) == 1
    assert "give one" in capsys.readouterr().err
    assert main(["catalog", "search", "--uri", uri, "--after", "fffffffff"]) == 1
    assert "no run with uid 'fffffffff'" in capsys.readouterr().err


def test_environment_variable_gives_the_catalog(uri, capsys, monkeypatch):
    monkeypatch.setenv("CIELO_CATALOG", uri)
    assert len(search(capsys)) == 3


def test_show_by_scan_id_and_partial_uid(uri, capsys):
    assert main(["catalog", "show", "--uri", uri, "2", "--stream", "primary"]) == 0
    out = capsys.readouterr().out
    assert "scan_id 2" in out and 'sample: "LaB6"' in out and "stream primary: motor" in out
    assert "det" in out.splitlines()[-5] and out.splitlines()[-4].startswith("seq_num")
    uid = open_catalog(uri)[1].uid
    assert main(["catalog", "show", "--uri", uri, uid[:10], "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["start"]["uid"] == uid and set(shown["streams"]) == {"baseline", "primary"}
    assert main(["catalog", "show", "--uri", uri, "77"]) == 1
    assert "no run with scan_id 77" in capsys.readouterr().err
    assert main(["catalog", "show", "--uri", uri, "2", "--stream", "dark"]) == 1
    err = capsys.readouterr().err
    assert "has no stream 'dark'" in err and "baseline" in err and "Traceback" not in err


def test_export_replays_a_run_into_a_suitcase(uri, capsys, tmp_path):
    assert (
        main(["catalog", "export", "--uri", uri, "-1", "-f", "csv", "-d", str(tmp_path / "csv")])
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    primary = next(line.split(": ", 1)[1] for line in lines if line.startswith("stream:primary"))
    assert len(pd.read_csv(primary)) == 3
    assert main(["catalog", "export", "--uri", uri, "-1", "-f", "zip"]) == 1
    assert "unknown suitcase 'zip'" in capsys.readouterr().err


def test_reimport_adds_nothing(uri, archive, capsys):
    assert main(["catalog", "import", "--uri", uri, str(archive[0])]) == 0
    assert "0 new run(s)" in capsys.readouterr().out
    assert len(open_catalog(uri)) == 3


def test_installed_command(uri):
    exe = Path(sys.executable).with_name("cielo")
    out = subprocess.run([str(exe), "catalog", "search", "--uri", uri, "--json", "--plan", "count"],
                         capture_output=True, text=True, check=True, timeout=60).stdout  # fmt: skip
    assert [json.loads(line)["scan_id"] for line in out.splitlines()] == [2]


def test_profile_catalog_under_the_user_data_dir(tmp_path, monkeypatch, capsys):
    """The [catalog] line proposed for the sim profile: runs land under XDG_DATA_HOME."""
    monkeypatch.delenv("CIELO_CATALOG", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    profile = tmp_path / "beamline.toml"
    profile.write_text(
        '[devices.motor]\ntype = "sim.motor"\n\n'
        '[devices.det]\ntype = "sim.peak_detector"\nmotors = ["motor"]\n\n'
        '[catalog]\nuri = "sqlite:///${XDG_DATA_HOME:-~/.local/share}/cielo/catalog.sqlite"\n'
    )
    assert main(["run", "--profile", str(profile), "--quiet", "count([det], num=2)"]) == 0
    assert main(["run", "--profile", str(profile), "scan([det], motor, -1, 1, 3)"]) == 0
    capsys.readouterr()
    path = tmp_path / "data" / "cielo" / "catalog.sqlite"
    assert path.exists()
    rows = search(capsys, "--profile", str(profile))
    # --quiet drops the live feedback only: the quiet count is stored too
    assert [r["plan_name"] for r in rows] == ["scan", "count"]
    assert len(open_catalog(f"sqlite:///{path}")[-1]["primary"].read()) == 3
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert main(["run", "--profile", str(profile), "count([det], num=1)"]) == 0
    assert (tmp_path / "home" / ".local" / "share" / "cielo" / "catalog.sqlite").exists()


def test_reading_commands_do_not_create_a_catalog(tmp_path, capsys):
    uri = f"sqlite:///{tmp_path / 'nothing-here.sqlite'}"
    assert main(["catalog", "search", "--uri", uri]) == 1
    assert "there is no catalog at" in capsys.readouterr().err
    assert not (tmp_path / "nothing-here.sqlite").exists()


def test_export_a_scan_id_range_several_runs_and_a_query(uri, capsys, tmp_path):
    out = tmp_path / "bulk"
    assert main(["catalog", "export", "--uri", uri, "1:2", "-d", str(out)]) == 0
    assert sorted(p.name[:2] for p in out.glob("*.jsonl")) == ["1-", "2-"]
    capsys.readouterr()
    query = '{"plan_name": "scan"}'
    assert (
        main(["catalog", "export", "--uri", uri, "3", "--query", query, "-d", str(out / "q")]) == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2  # scan 3 once, though both the number and the query name it
    assert main(["catalog", "export", "--uri", uri, "7:9"]) == 1
    assert "no run with a scan_id in 7:9" in capsys.readouterr().err
    assert main(["catalog", "export", "--uri", uri]) == 1
    assert "name the runs" in capsys.readouterr().err


def test_export_help_lists_the_installed_suitcases(capsys):
    with pytest.raises(SystemExit):
        main(["catalog", "export", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "installed: csv, jsonl, msgpack, nexus, spec, tiff" in out
    assert "scan-id range A:B" in out


def test_plot_replots_stored_runs_as_png_without_a_display(uri, capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    out = tmp_path / "png"
    assert main(["catalog", "plot", "--uri", uri, "1:3", "--png", "-d", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    files = sorted(out.glob("*.png"))
    assert len(files) == 3 and all(f.stat().st_size > 1000 for f in files)
    assert sorted(line.split(": ", 1)[1] for line in lines) == sorted(map(str, files))
    with open(files[0], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
