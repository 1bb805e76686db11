"""bluesky-adaptive 1.x's queue-server runner, unchanged, steers a real ``cielo serve``:
it submits ``default_acquire`` through Bluesky's own ``REManagerAPI`` (HTTP) and follows
cielo's runs through Bluesky's ``RemoteDispatcher`` (0MQ, from a real
``bluesky-0MQ-proxy`` the worker publishes to)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("bluesky_adaptive.queueserver")
pytest.importorskip("fastapi")
import msgpack
from bluesky.callbacks.zmq import RemoteDispatcher
from bluesky_adaptive.protocols import QueueserverOptimizationProblem
from bluesky_adaptive.queueserver import QueueserverClient, QueueserverOptimizationRunner
from bluesky_queueserver_api.http import REManagerAPI

from cielo.adaptive import GoldenSectionAgent
from cielo.core import read_profile
from cielo.storage import open_catalog
from cielo.testing import QueueServer

pytestmark = [pytest.mark.interop, pytest.mark.slow]


class GoldenSectionOptimizer:
    """bluesky-adaptive's ``Optimizer`` protocol (``suggest``/``ingest``) over cielo's
    golden-section agent."""

    def __init__(self) -> None:
        self.agent = GoldenSectionAgent(-3, 3, tolerance=0.06)
        self.asked: dict[str, float] = {}

    def suggest(self, num_points: int | None = None) -> list[dict[str, Any]]:
        points, _ = self.agent.ask(num_points or 1)
        out = []
        for x in points:
            self.asked[f"p{len(self.asked)}"] = x
            out.append({"_id": f"p{len(self.asked) - 1}", "motor": x})
        return out

    def ingest(self, points: list[dict[str, Any]]) -> None:
        for outcome in points:
            self.agent.tell(self.asked[outcome["_id"]], outcome["det"])


@pytest.mark.timeout(600)
# bluesky's RemoteDispatcher cannot be stopped from another thread: stopping its loop makes
# the listener thread of bluesky-adaptive end with "Event loop stopped before Future completed"
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_bluesky_adaptive_runner_steers_cielo_serve_unchanged(zmq_proxy, tmp_path: Path, validate):
    in_port, out_port = zmq_proxy
    text = Path(read_profile("sim").path).read_text()
    text = text.replace("center = 0.0\nsigma = 1.0", "center = 0.8\nsigma = 0.6", 1)
    text += f'\n[publish]\nuri = "zmq://127.0.0.1:{in_port}?serializer=msgpack&wait=10"\n'
    profile = tmp_path / "beamline.toml"
    profile.write_text(text)
    with QueueServer(tmp_path, str(profile)) as server:  # its environment open
        catalog = open_catalog(server.env["CIELO_CATALOG"])

        def evaluate(uid: str, suggestions: list[dict[str, Any]]) -> list[dict[str, Any]]:
            """Outcomes from cielo's catalog (the worker stores the run as it publishes it)."""
            deadline = time.monotonic() + 30
            while (run := catalog[uid] if uid in catalog else None) is None or run.stop is None:
                assert time.monotonic() < deadline, f"run {uid} not in the catalog"
                time.sleep(0.05)
            order = run.start["blop_acquisition_order"]
            table = run["primary"].columns(["motor", "det"])
            return [{"_id": i, "det": float(y)} for i, y in zip(order, table["det"], strict=True)]

        optimizer = GoldenSectionOptimizer()
        problem = QueueserverOptimizationProblem(
            optimizer=optimizer, actuators=["motor"], sensors=["det"], evaluation_function=evaluate
        )
        manager = REManagerAPI(http_server_uri=server.url)
        manager.set_authorization_key(api_key=server.key)
        dispatcher = RemoteDispatcher(f"127.0.0.1:{out_port}", deserializer=msgpack.unpackb)
        client = QueueserverClient(manager, dispatcher)
        runner = QueueserverOptimizationRunner(problem, client)
        try:
            result = runner.run(iterations=9, num_points=2).result(timeout=400)
        finally:  # (bluesky's RemoteDispatcher.stop() cannot be called from another thread)
            dispatcher.loop.call_soon_threadsafe(dispatcher.loop.stop)
            manager.close()
        history = server.call("/api/history/get")["items"]
    assert result.iterations_completed == 9 and len(result.uids) == 9
    assert [h["name"] for h in history] == ["default_acquire"] * 9
    assert all(h["result"]["exit_status"] == "completed" for h in history)
    report = optimizer.agent.report()
    assert report["center"] == pytest.approx(0.8, abs=0.06)  # 1 % of the range
    for uid in result.uids:  # the runs it followed are cielo's, stored and valid
        run = catalog[uid]
        assert run.start["plan_name"] == "default_acquire" and "blop_correlation_uid" in run.start
        for name, doc in run.documents():
            validate(name, doc)
