"""AgentService and Monitor fed by a RunEngine's documents (the bus and queue come in
test_service_live.py): what the agent is told, what is submitted, how failures show."""

from __future__ import annotations

import pytest

from cielo.adaptive import AgentService, GoldenSectionAgent, Monitor, RunPoints
from cielo.devices.sim import SimBeamCurrent, SimMotor, SimPeakDetector
from cielo.plugins.scans import list_scan, scan
from cielo.storage import open_catalog
from cielo.testing import make_run_engine


@pytest.fixture
def beamline():
    motor = SimMotor(name="motor")
    det = SimPeakDetector([motor], name="det", center=0.8, sigma=0.6)
    engine = make_run_engine()
    yield engine, motor, det
    engine.close()


def run_items(engine, devices, items):
    """Run submitted items as a queue worker would (list_scan by name, devices by name)."""
    while items:
        item = items.pop(0)
        assert item["name"] == "list_scan"
        dets, motor, positions = item["args"]
        engine(list_scan([devices[d] for d in dets], devices[motor], positions, **item["kwargs"]))


def test_the_service_closes_the_loop_run_by_run(beamline):
    engine, motor, det = beamline
    items: list[dict] = []
    service = AgentService(
        GoldenSectionAgent(-3, 3, tolerance=0.06), name="golden_section", motors=["motor"],
        target="det", detectors=["det"], submit=items.append,
    )  # fmt: skip
    engine.subscribe(service)
    service.suggest()  # the first points, before any run
    for _ in range(30):
        if not items:
            break
        run_items(engine, {"det": det, "motor": motor}, items)
    assert service.state == "done"
    report = service.report()
    assert report["best_x"] == pytest.approx(0.8, abs=0.06)
    assert report["runs_seen"] == len(service.submitted) <= 14
    first, _, _ = service.submitted[0]
    assert first["args"][0] == ["det"] and first["kwargs"]["md"]["agent"] == "golden_section"


def test_seeding_from_the_catalog_tells_the_past_runs_first(beamline, tmp_path):
    engine, motor, det = beamline
    catalog = open_catalog(f"sqlite:///{tmp_path / 'c.sqlite'}")
    with catalog.writer() as writer:
        engine.subscribe(writer)
        engine(scan([det], motor, -3, 3, 7))
        engine(scan([det], motor, 0, 1.5, 4))
    agent = GoldenSectionAgent(-3, 3, tolerance=0.06)
    service = AgentService(agent, motors=["motor"], target="det", detectors=["det"],
                           submit=lambda item: None)  # fmt: skip
    assert service.seed(catalog[-2:]) == 11
    assert service.runs_seen == 2 and len(agent.history) == 11
    assert agent.report()["best_x"] == pytest.approx(1.0)  # the best of the past scans
    assert service.submitted == []  # seeding submits nothing


def test_runpoints_reads_pages_and_ignores_runs_without_the_fields(beamline):
    engine, motor, det = beamline
    other = SimMotor(name="other")
    table = RunPoints(["motor"], "det")
    finished = []
    engine.subscribe(lambda name, doc: finished.append(table(name, doc)))
    engine(scan([det], other, 0, 1, 3))  # no motor field: nothing
    engine(list_scan([det], motor, [0.8, 1.4]))
    runs = [f for f in finished if f is not None]
    assert [len(points) for _, points in runs] == [0, 2]
    assert runs[1][1][0] == (0.8, pytest.approx(1.0))
    page = {"descriptor": "d", "seq_num": [1, 2], "data": {"motor": [1.0, 2.0], "det": [5, 6]}}
    table("start", {"uid": "r"})
    table("descriptor", {"uid": "d", "run_start": "r", "name": "primary",
                         "data_keys": {"motor": {}, "det": {}}})  # fmt: skip
    table("event_page", page)
    assert table("stop", {"run_start": "r"}) == ({"uid": "r"}, [(1.0, 5), (2.0, 6)])


class Broken:
    def __init__(self, fail_on="ask", point=0.5):
        self.fail_on, self.point = fail_on, point

    def tell(self, x, y):
        if self.fail_on == "tell":
            raise RuntimeError("cannot learn")

    def ask(self, n):
        if self.fail_on == "ask":
            raise RuntimeError("no idea")
        return [self.point], {}

    def report(self):
        return {}


def test_an_agent_that_raises_or_suggests_nonsense_stops_the_service_loudly(beamline, caplog):
    engine, motor, det = beamline
    items: list[dict] = []
    kw = dict(motors=["motor"], target="det", detectors=["det"], submit=items.append)
    service = AgentService(Broken("ask"), name="b", **kw)
    assert service.suggest() is None and service.state == "failed"
    assert "the agent 'b' raised when asked for points: RuntimeError: no idea" in service.errors[0]
    assert "no idea" in caplog.text and items == []

    service = AgentService(Broken(None, point=9.0), bounds={"motor": (-3, 3)}, **kw)
    assert service.suggest() is None and service.state == "failed"
    assert "motor = 9.0, outside its bounds [-3.0, 3.0]" in service.errors[0] and items == []

    def refuse(item):
        raise ValueError("plan 'list_scan' is not allowed")

    service = AgentService(Broken(None), **{**kw, "submit": refuse})
    service.suggest()
    assert service.state == "failed" and "the queue refused" in service.errors[0]

    service = AgentService(Broken("tell"), **kw)
    engine.subscribe(service)
    engine(list_scan([det], motor, [0.1]))
    assert service.state == "failed" and "raised while told a stop document" in service.errors[0]
    assert service.report()["state"] == "failed"


def test_the_budget_ends_the_service(beamline):
    items: list[dict] = []
    service = AgentService(Broken(None), motors=["motor"], target="det", detectors=["det"],
                           submit=items.append, max_items=2)  # fmt: skip
    assert service.suggest() and service.suggest()
    assert service.suggest() is None and service.state == "budget" and len(items) == 2


def test_the_monitor_trips_once_per_excursion(beamline):
    engine, motor, det = beamline
    beam = SimBeamCurrent(name="beam_current", nominal=500.0)
    reasons: list[str] = []
    monitor = Monitor("beam_current", reasons.append, low=100.0)
    engine.subscribe(monitor)
    engine(list_scan([det, beam], motor, [0.0, 0.1]))
    beam.drop(5.0)
    engine(list_scan([det, beam], motor, [0.2, 0.3, 0.4]))  # three low readings: one trip
    assert reasons == ["beam_current = 5.0 is outside [100.0, inf]"]
    beam.restore()
    engine(list_scan([det, beam], motor, [0.5]))
    beam.drop(1.0)
    engine(list_scan([det, beam], motor, [0.6]))
    assert len(reasons) == 2 and len(monitor.trips) == 2
    with pytest.raises(ValueError, match="give low, high or both"):
        Monitor("x", print)


def test_an_agent_with_ingest_gets_every_document_besides_being_told(beamline):
    engine, motor, det = beamline

    class Watching(GoldenSectionAgent):
        def __init__(self):
            super().__init__(-3, 3)
            self.names: list[str] = []

        def ingest(self, name, doc):
            self.names.append(name)

    agent = Watching()
    service = AgentService(agent, motors=["motor"], target="det", detectors=["det"],
                           submit=lambda item: None)  # fmt: skip
    engine.subscribe(service)
    engine(list_scan([det], motor, [0.0, 0.5]))
    assert agent.names[0] == "start" and agent.names[-1] == "stop" and "descriptor" in agent.names
    assert [x for x, _ in agent.history] == [0.0, 0.5] and service.told == 2


def test_a_restored_service_tells_a_run_once_and_submits_a_plan_once(beamline, tmp_path):
    from cielo.adaptive import Checkpoint
    from cielo.core import CieloError

    engine, motor, det = beamline
    identity = {"agent": "golden_section", "motors": ["motor"]}
    path = tmp_path / "state.json"
    documents: list = []
    queue: list[dict] = []

    def dies_once_accepted(item):
        queue.append(item)
        raise KeyboardInterrupt  # the process dies after the queue took the plan

    def service(submit, find=None):
        return AgentService(GoldenSectionAgent(-3, 3, tolerance=0.06), name="golden_section",
                            motors=["motor"], target="det", detectors=["det"], submit=submit,
                            checkpoint=Checkpoint(path, identity), find=find)  # fmt: skip

    first = service(queue.append)
    first.suggest()
    engine.subscribe(lambda name, doc: documents.append((name, doc)))
    item = queue.pop()
    engine(list_scan([det], motor, item["args"][2], **item["kwargs"]))
    first.submit = dies_once_accepted
    with pytest.raises(KeyboardInterrupt):
        for name, doc in documents:
            first(name, doc)
    assert len(queue) == 1 and first.told == 1
    crashed = path.read_text()  # the state as the process left it

    # the restart finds the plan in the queue: not submitted again; the run delivered
    # again (never acknowledged) is not told again
    second = service(queue.append, find=lambda item: item in queue)
    assert second.restored and second.told == 1 and second.items == 2 and len(queue) == 1
    for name, doc in documents:
        second(name, doc)
    assert second.told == 1 and len(queue) == 1
    assert second.agent.snapshot() == first.agent.snapshot()

    # had the plan not arrived, the restart submits it (once)
    queue.clear()
    path.write_text(crashed)
    third = service(queue.append, find=lambda item: False)
    assert third.items == 2 and len(queue) == 1

    with pytest.raises(CieloError, match="belongs to another agent service"):
        AgentService(GoldenSectionAgent(-3, 3), motors=["motor"], target="det", detectors=[],
                     submit=queue.append, checkpoint=Checkpoint(path, {"agent": "gp"}))  # fmt: skip


def test_the_monitor_flags_each_run_with_a_value_outside_once(beamline, validate):
    from cielo.adaptive import flag_documents

    engine, motor, det = beamline
    beam = SimBeamCurrent(name="beam_current", nominal=500.0)
    flags: list = []
    monitor = Monitor("beam_current", None, low=100.0, flag=flags.append)
    engine.subscribe(monitor)
    engine(list_scan([det, beam], motor, [0.0]))
    beam.drop(5.0)
    (bad,) = engine(list_scan([det, beam], motor, [0.1, 0.2])).run_start_uids
    (still_bad,) = engine(list_scan([det, beam], motor, [0.3])).run_start_uids
    assert [docs[0][1]["flagged_run"] for docs in flags] == [bad, still_bad]
    assert monitor.trips and len(monitor.trips) == 1  # one excursion, two runs flagged
    for name, doc in flags[0]:
        validate(name, doc)
    start = flags[0][0][1]
    assert start["flag"] == "beam_current = 5.0 is outside [100.0, inf]"
    assert flag_documents({"uid": bad}, "again", field="beam_current", value=1.0,
                          window=(100.0, None))[0][1]["uid"] == start["uid"]  # fmt: skip


def test_a_run_cut_by_a_bus_gap_is_not_told_and_the_service_moves_on(beamline):
    engine, motor, det = beamline
    items: list[dict] = []
    service = AgentService(GoldenSectionAgent(-3, 3), motors=["motor"], target="det",
                           detectors=["det"], submit=items.append)  # fmt: skip
    service.suggest()
    item = items.pop()
    documents: list = []
    engine.subscribe(lambda name, doc: documents.append((name, doc)))
    (uid,) = engine(list_scan([det], motor, item["args"][2], **item["kwargs"])).run_start_uids
    for name, doc in documents[:-1]:  # everything but the stop ...
        service(name, doc)
    service.gap({"missed": 4, "open_runs": [uid]})  # ... then the bus lost documents
    assert service.told == 0 and len(items) == 1  # half a run is not told; the next plan
    service(*documents[-1])  # the run's stop, if it survived, changes nothing
    assert service.told == 0 and len(items) == 1


def test_a_run_closed_in_the_catalog_only_is_told_from_there_once(beamline, tmp_path):
    """A queue worker lost mid-run, and its stop never on the bus (the server could not
    send it): after ``grace`` the service tells the run from the catalog."""
    engine, motor, det = beamline
    items: list[dict] = []
    service = AgentService(GoldenSectionAgent(-3, 3), motors=["motor"], target="det",
                           detectors=["det"], submit=items.append)  # fmt: skip
    service.suggest()
    item = items.pop()
    catalog = open_catalog(f"sqlite:///{tmp_path / 'c.sqlite'}")
    documents: list = []
    engine.subscribe(lambda name, doc: documents.append((name, doc)))
    (uid,) = engine(list_scan([det], motor, item["args"][2], **item["kwargs"])).run_start_uids
    with catalog.writer() as writer:
        for name, doc in documents[:-1]:  # the worker died before its stop
            writer(name, doc)
            service(name, doc)
    assert catalog.close_run(uid, exit_status="fail", reason="the worker was lost")
    assert service.recover(catalog, grace=60) == 0  # closed just now: the bus may bring it
    assert service.recover(catalog, grace=0) == 1
    assert service.told == len(item["args"][2]) and len(items) == 1  # told; the next plan
    service("stop", catalog[uid].stop)  # the same stop, late on the bus: nothing twice
    assert service.recover(catalog, grace=0) == 0
    assert service.told == len(item["args"][2]) and len(items) == 1
