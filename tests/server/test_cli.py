"""``cielo queue`` against a real ``cielo serve``, and the README's two server commands."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow
README = Path(__file__).parents[2] / "README.md"


def queue(served: Any, *args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**served.env, "CIELO_API_KEY": served.key if key is None else key}
    return subprocess.run(
        [sys.executable, "-m", "cielo.cli", "queue", "--server", served.url, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cielo_queue_edits_runs_and_reports(served: Any) -> None:
    assert queue(served, "open", "--wait").returncode == 0
    added = queue(served, "add", "count([det], num=2)")
    assert added.returncode == 0, added.stderr
    uid = added.stdout.strip()
    assert queue(served, "add", "scan([det], motor, -1, 1, num=3)", "--front").returncode == 0
    listed = queue(served, "list").stdout
    assert listed.index("scan(['det'], 'motor', -1, 1, num=3)") < listed.index(uid)
    status = queue(served, "status").stdout
    assert "queue         2 items" in status and "environment   idle" in status

    assert queue(served, "remove", uid).returncode == 0
    ran = queue(served, "add", "count([det2], num=1)", "--wait")
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[-2].startswith("completed  scan(") and lines[-1].startswith("completed  count(")
    history = queue(served, "history").stdout
    assert history.count("completed") == 2 and "count(['det2'], num=1)" in history
    assert queue(served, "close", "--wait").returncode == 0


def test_cielo_queue_watch_table_prints_the_running_scan_live(served: Any) -> None:
    """``cielo queue watch table``: the running scan as cielo run prints it, one row per
    event as it comes, with its axis and detector columns and the run's end."""
    import time

    assert queue(served, "open", "--wait").returncode == 0
    env = {**served.env, "CIELO_API_KEY": served.key, "COLUMNS": "100"}
    watching = subprocess.Popen(
        [sys.executable, "-m", "cielo.cli", "queue", "--server", served.url,
         "watch", "table", "--count", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(3)  # subscribed (its imports done) before the run starts
        ran = queue(served, "add", "scan([det], motor, -1, 1, 5)", "--wait")
        assert ran.returncode == 0, ran.stderr
        out, err = watching.communicate(timeout=60)
    finally:
        watching.kill()
    assert watching.returncode == 0, err
    header = next(line for line in out.splitlines() if "seq_num" in line)
    assert "motor" in header and "det" in header, out
    rows = [line for line in out.splitlines() if re.match(r"\|\s+\d+ \|", line)]
    assert [int(r.split("|")[1]) for r in rows] == [1, 2, 3, 4, 5], out
    assert re.search(r"^success: scan \d+ \(uid \w{8}\), 5 events", out, re.M), out


def test_cielo_queue_refusals(served: Any) -> None:
    bad = queue(served, "add", "count([nodet])")
    assert bad.returncode == 1 and "unknown name 'nodet'" in bad.stderr
    bad = queue(served, "add", "count([det], num='x')")
    assert bad.returncode == 1 and "parameter num" in bad.stderr
    bad = queue(served, "status", key="")
    assert bad.returncode == 1 and "CIELO_API_KEY" in bad.stderr
    bad = queue(served, "start")
    assert bad.returncode == 1 and "open it first" in bad.stderr
    assert "the queue is empty" in queue(served, "list").stdout


def test_the_readme_server_commands_run(tmp_path: Path) -> None:
    section = README.read_text().split("## Server", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    serve, client = [shlex.split(c.rstrip("&").strip()) for c in commands if c]
    assert serve[:2] == ["cielo", "serve"] and client[:2] == ["cielo", "queue"]

    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        k: v for k, v in os.environ.items() if k not in ("CIELO_SERVER_API_KEY", "CIELO_API_KEY")
    }
    env.update(
        CIELO_STATE_DIR=str(tmp_path / "state"),
        CIELO_LOCK_DIR=str(tmp_path / "locks"),
        CIELO_CATALOG=f"sqlite:///{tmp_path / 'catalog.sqlite'}",
    )
    python = [sys.executable, "-m", "cielo.cli"]
    server = subprocess.Popen(
        [*python, *serve[1:], "--port", str(port)], env=env, stderr=subprocess.DEVNULL
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(600):
            probe = subprocess.run(
                [*python, "queue", "--server", url, "status"],
                env=env,
                capture_output=True,
                text=True,
            )
            if probe.returncode == 0 and "environment   idle" in probe.stdout:
                break
        result = subprocess.run(
            [*python, "queue", "--server", url, *client[2:]],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert re.search(r"^completed  scan\(.*runs: [0-9a-f-]{36}$", result.stdout, re.M)
    finally:
        server.terminate()
        server.wait(timeout=60)
