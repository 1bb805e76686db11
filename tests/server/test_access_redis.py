"""A key looked up in a stalled Redis delays its own request only: the server's event loop
goes on answering others (a real redis-server, stopped with SIGSTOP, behind a real
``cielo serve``)."""

from __future__ import annotations

import pathlib
import signal
import threading
import time
import uuid
from typing import Any

import httpx
import pytest

from cielo.testing import QueueServer, RedisServer, require_server

pytestmark = pytest.mark.slow


def test_a_stalled_redis_key_lookup_does_not_block_other_requests(
    tmp_path: pathlib.Path,
) -> None:
    try:
        redis = RedisServer(appendonly=False)  # its own: this test stops it
    except RuntimeError as exc:
        require_server(f"cannot start redis-server: {exc}")
    server = QueueServer(tmp_path, open=False, store=f"{redis.url}?prefix=stall:{uuid.uuid4().hex}")
    answers: list[Any] = []
    try:
        server.start()
        made = server.call("/api/auth/apikey", {"user": "uma", "roles": ["observer"]})
        secret = made["secret"]
        assert redis.process is not None
        redis.process.send_signal(signal.SIGSTOP)

        def ask_with_the_stored_key() -> None:
            answers.append(
                httpx.get(
                    server.url + "/api/auth/whoami",
                    headers={"Authorization": f"ApiKey {secret}"},
                    timeout=60,
                )
            )

        waiting = threading.Thread(target=ask_with_the_stored_key)
        waiting.start()
        time.sleep(0.5)  # its lookup is waiting for the stopped Redis
        assert waiting.is_alive() and not answers
        t = time.perf_counter()
        other = server.request("/api/config/get", method="GET")  # the static key: no Redis
        took = time.perf_counter() - t
        assert other.status_code == 200 and other.json()["config"]["profile"] == "sim"
        assert took < 2.0, f"another request waited {took:.1f} s for the stalled lookup"
        assert waiting.is_alive()  # still waiting: it was not answered from elsewhere
        redis.process.send_signal(signal.SIGCONT)
        waiting.join(30)
        assert answers and answers[0].status_code == 200, answers
        assert answers[0].json()["user"] == "uma"
    finally:
        if redis.process is not None:
            redis.process.send_signal(signal.SIGCONT)
        server.stop()
        redis.close()
