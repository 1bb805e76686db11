"""The real-server helpers of cielo.testing: Redis on loopback, and the CI rule for skips."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap

from cielo.testing import RedisServer, in_ci


def _command(port: int, *words: str) -> bytes:
    payload = f"*{len(words)}\r\n" + "".join(f"${len(w)}\r\n{w}\r\n" for w in words)
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(payload.encode())
        return sock.recv(64)


def test_redis_server_answers_on_loopback_and_keeps_data_across_a_restart() -> None:
    with RedisServer() as server:
        assert server.url == f"redis://127.0.0.1:{server.port}/0"
        assert _command(server.port, "SET", "k", "v") == b"+OK\r\n"
        server.restart()
        assert _command(server.port, "GET", "k") == b"$1\r\nv\r\n"
        pid = server.process.pid if server.process else None
    assert pid is not None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pass
    else:  # pragma: no cover - the assertion below reports it
        raise AssertionError(f"redis-server {pid} still running after close()")


def test_in_ci_reads_the_ci_variable(monkeypatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert in_ci()
    monkeypatch.setenv("CI", "false")
    assert not in_ci()
    monkeypatch.delenv("CI")
    assert not in_ci()


def test_a_missing_server_skips_locally_and_fails_under_ci(tmp_path) -> None:
    test = tmp_path / "test_needs.py"
    test.write_text(
        textwrap.dedent("""
        from cielo.testing import require_server

        def test_needs_a_server():
            require_server("cannot start the frobnicator")
    """)
    )
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)]
    local = subprocess.run(args, env=env, capture_output=True, text=True, cwd=tmp_path)
    assert local.returncode == 0 and "1 skipped" in local.stdout, local.stdout
    ci = subprocess.run(
        args, env=env | {"CI": "true"}, capture_output=True, text=True, cwd=tmp_path
    )
    assert ci.returncode == 1 and "cannot start the frobnicator" in ci.stdout, ci.stdout
