"""A Redis queue store that stalls (SIGSTOP) or dies (SIGKILL) under a real ``cielo
serve``: the requests that need it get 503 naming the Redis URL and what to check, within
its timeout, while the event loop goes on answering the others; once Redis is back (or
restarted with its append-only file) the queue is served again, with what it held."""

from __future__ import annotations

import concurrent.futures
import json
import pathlib
import signal
import time
import uuid

import httpx
import pytest

from cielo.testing import QueueServer, RedisServer, require_server

pytestmark = pytest.mark.slow

ITEM = {"item": {"item_type": "plan", "name": "count", "args": [["det"]], "kwargs": {"num": 1}}}
TIMEOUT = 1.0  # the store's socket_timeout in these tests (a command is tried twice)


def _redis() -> RedisServer:
    try:
        return RedisServer(appendonly=True)  # its own: these tests stop and kill it
    except RuntimeError as exc:
        require_server(f"cannot start redis-server: {exc}")
        raise


def _serve(tmp_path: pathlib.Path, redis: RedisServer) -> QueueServer:
    store = f"{redis.url}?prefix=outage:{uuid.uuid4().hex}&socket_timeout={TIMEOUT}"
    return QueueServer(tmp_path, open=False, store=store).start()


def _unavailable(answer: httpx.Response, redis: RedisServer) -> None:
    assert answer.status_code == 503, (answer.status_code, answer.text)
    msg = answer.json()["msg"]
    assert msg.startswith(f"the Redis queue store at {redis.url} did not answer ("), msg
    assert f"check that redis-server runs and answers there (redis-cli -u {redis.url} ping)" in msg
    assert answer.json()["detail"] == msg


def test_a_stalled_redis_gives_503_and_holds_only_the_requests_that_need_it(
    tmp_path: pathlib.Path,
) -> None:
    redis = _redis()
    server = _serve(tmp_path, redis)
    assert redis.process is not None
    try:
        first = server.call("/api/queue/item/add", ITEM)["item"]
        redis.process.send_signal(signal.SIGSTOP)
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            start = time.perf_counter()
            adding = pool.submit(server.request, "/api/queue/item/add", ITEM)
            asking = pool.submit(server.request, "/api/status", method="GET")
            time.sleep(0.3)  # both wait for the stopped Redis, in the store's threads
            took = []
            for _ in range(5):  # the loop answers what needs no Redis at once
                begin = time.perf_counter()
                other = server.request("/api/config/get", method="GET")
                took.append(time.perf_counter() - begin)
                assert other.status_code == 200 and other.json()["config"]["profile"] == "sim"
            assert not adding.done() and not asking.done()
            added, status = adding.result(60), asking.result(60)
            waited = time.perf_counter() - start
        assert max(took) < 0.5, took
        _unavailable(added, redis)
        _unavailable(status, redis)
        assert 2 * TIMEOUT * 0.8 < waited < 2 * TIMEOUT + 8, waited  # its timeout, twice
    finally:
        redis.process.send_signal(signal.SIGCONT)
    try:
        queued = server.call("/api/queue/get")["items"]
        assert queued[0]["item_uid"] == first["item_uid"]
        assert len(queued) in (1, 2)  # the stalled add ran, or not, when Redis resumed
        assert server.call("/api/queue/item/add", ITEM)["success"]
        assert server.call("/api/status")["items_in_queue"] == len(queued) + 1
    finally:
        server.stop()
        redis.close()


def test_a_killed_redis_gives_503_at_once_and_a_restarted_one_serves_the_queue(
    tmp_path: pathlib.Path,
) -> None:
    redis = _redis()
    server = _serve(tmp_path, redis)
    try:
        uids = [server.call("/api/queue/item/add", ITEM)["item"]["item_uid"] for _ in range(3)]
        redis.stop(signal.SIGKILL)
        for path, method in [("/api/queue/item/add", "POST"), ("/api/queue/get", "GET"),
                             ("/api/status", "GET"), ("/api/history/get", "GET")]:  # fmt: skip
            begin = time.perf_counter()
            answer = server.request(path, ITEM if method == "POST" else {}, method=method)
            _unavailable(answer, redis)
            assert "ConnectionError" in answer.json()["msg"], answer.text
            assert time.perf_counter() - begin < 2 * TIMEOUT + 2  # refused: no wait
        assert server.request("/api/config/get", method="GET").status_code == 200
        redis.start()  # the same port and append-only file
        queued = [item["item_uid"] for item in server.call("/api/queue/get")["items"]]
        assert queued == uids
        assert server.call("/api/queue/item/add", ITEM)["success"]
        assert server.call("/api/status")["items_in_queue"] == 4
    finally:
        server.stop()
        redis.close()


def test_status_pushes_on_redis_carry_the_counters_of_each_change(
    tmp_path: pathlib.Path,
) -> None:
    """On Redis the status is pushed once its counters are read (in a thread): a watcher
    sees every edit's queue size and counter, and the pushes go on through a stall."""
    from websockets.sync.client import connect

    redis = _redis()
    server = _serve(tmp_path, redis)
    url = server.url.replace("http://", "ws://") + "/api/status/ws"
    assert redis.process is not None
    try:
        with connect(url, additional_headers=server.headers) as ws:
            first = json.loads(ws.recv(timeout=10))  # the status on connecting
            sizes, uids = [first["items_in_queue"]], [first["plan_queue_uid"]]
            for _ in range(3):
                assert server.call("/api/queue/item/add", ITEM)["success"]
                pushed = json.loads(ws.recv(timeout=10))
                sizes.append(pushed["items_in_queue"])
                uids.append(pushed["plan_queue_uid"])
            assert sizes == [0, 1, 2, 3] and len(set(uids)) == 4, (sizes, uids)
            redis.process.send_signal(signal.SIGSTOP)
            try:  # a change of the manager's own state is still pushed, with the last counters
                assert server.call("/api/queue/autostart", {"enable": True})["success"]
                pushed = json.loads(ws.recv(timeout=2 * TIMEOUT + 10))
                assert pushed["queue_autostart_enabled"] is True
                assert pushed["items_in_queue"] == 3
            finally:
                redis.process.send_signal(signal.SIGCONT)
    finally:
        server.stop()
        redis.close()


def test_an_item_ending_while_redis_is_stalled_is_recorded_when_it_answers(
    tmp_path: pathlib.Path,
) -> None:
    """The plan ends while Redis is stopped: its end waits for Redis (the worker's other
    messages go on), then it is recorded once, and the queue goes on to the next item."""
    redis = _redis()
    server = _serve(tmp_path, redis)
    assert redis.process is not None
    slow = {"item": {**ITEM["item"], "kwargs": {"num": 5, "delay": 0.2}}}
    try:
        server.open_environment()
        first = server.call("/api/queue/item/add", slow)["item"]
        second = server.call("/api/queue/item/add", ITEM)["item"]
        assert server.call("/api/queue/start")["success"]
        server.wait(lambda s: s["re_state"] == "running", 30)
        redis.process.send_signal(signal.SIGSTOP)
        try:
            time.sleep(1.0 + 3 * TIMEOUT)  # the plan ends (1 s) and its end waits
            answer = server.request("/api/config/get", method="GET")
            assert answer.status_code == 200  # the loop still serves
        finally:
            redis.process.send_signal(signal.SIGCONT)
        server.wait(lambda s: s["manager_state"] == "idle" and s["items_in_history"] == 2, 60)
        history = server.call("/api/history/get")["items"]
        assert [h["item_uid"] for h in history] == [first["item_uid"], second["item_uid"]]
        assert [h["result"]["exit_status"] for h in history] == ["completed", "completed"]
        assert server.call("/api/queue/get")["items"] == []
        log = (server.base / "serve.log").read_text()
        assert "message waits for the store: the Redis queue store at" in log, log[-2000:]
    finally:
        server.stop()
        redis.close()
