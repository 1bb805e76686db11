"""Agents across runs: follow documents, tell the agent each finished run, queue the next.

:class:`AgentService` is a document callback (``service(name, doc)``): feed it from the
bus (a :class:`cielo.bus.RemoteDispatcher`), from the catalog's history (:meth:`seed`)
or from a RunEngine. When a run stops it tells the agent the run's points, asks for the
next ones, checks them, and hands a plan item to ``submit`` (a queue client's ``add``).
It does not know where the documents come from or where the items go.

With a :class:`~cielo.adaptive.Checkpoint` it saves its state at every finished run, so
a service killed at any moment and started again goes on exactly: the agent is restored,
a run delivered again (the bus re-delivers what was not acknowledged) is not told twice,
and a plan is submitted once.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ._agent import is_done
from ._checkpoint import Checkpoint
from ._runs import RunPoints
from ._safety import AgentPointError, Bounds, check_point

__all__ = ["AgentService"]

log = logging.getLogger("cielo.adaptive")

Item = dict[str, Any]


class AgentService:
    """Tell an agent every finished run, ask it for the next points, submit them as a plan.

    The agent is asked when a run stops and none of the plans it submitted is still
    waiting for its run (so runs of other plans on the instrument are told, but do not
    pile up plans in the queue).

    :param agent: has ``tell``, ``ask``, ``report`` (and maybe ``ingest(name, doc)``, and
        ``snapshot()``/``restore(state)`` to be saved whole rather than told again).
    :param motors: the motors the agent's points move: the runs' x fields, and the
        motors of the plans submitted.
    :param target: the field told to the agent as ``y``.
    :param detectors: the detectors of the plans submitted.
    :param submit: ``submit(item)`` queues a plan item (``QueueClient.add``); an
        exception means it was refused.
    :param name: the agent's name, recorded in each item's run metadata.
    :param batch: points asked for, and measured by one plan, at a time.
    :param bounds: ``{motor: (low, high)}`` every point is checked against.
    :param max_items: the budget: stop after submitting this many plans.
    :param plan: the plan submitted, ``list_scan`` (detectors, then each motor with its
        list of positions).
    :param checkpoint: where the state is saved and, when it exists, restored from.
    :param find: ``find(item)``: whether an item reached the queue (queued, running or
        done); asked at a restart about an item whose submission was cut short, so it is
        submitted again only if it never arrived (without ``find`` it is submitted again).
    """

    def __init__(
        self,
        agent: Any,
        *,
        motors: Sequence[str],
        target: str,
        detectors: Sequence[str],
        submit: Callable[[Item], Any],
        name: str = "agent",
        batch: int = 1,
        bounds: Bounds | None = None,
        max_items: int | None = None,
        plan: str = "list_scan",
        stream: str = "primary",
        checkpoint: Checkpoint | None = None,
        find: Callable[[Item], bool] | None = None,
    ) -> None:
        self.agent, self.name, self.submit = agent, name, submit
        self.motors, self.target, self.detectors = list(motors), target, list(detectors)
        self.batch, self.bounds, self.max_items, self.plan = batch, bounds, max_items, plan
        self.points = RunPoints(self.motors, target, stream=stream)
        self.checkpoint, self.find = checkpoint, find
        self._ingest = getattr(agent, "ingest", None)
        self._snapshot = getattr(agent, "snapshot", None)
        #: ``"running"``, ``"done"`` (the agent wants nothing more), ``"budget"`` (max_items
        #: reached) or ``"failed"`` (the agent raised, suggested nonsense, or the queue
        #: refused its plan: see :attr:`errors`)
        self.state = "running"
        self.errors: list[str] = []
        self.told = 0
        self.runs_seen = 0
        #: plans submitted in all (across restarts, with a checkpoint)
        self.items = 0
        #: uids of the runs told (a run delivered again is skipped)
        self.runs_told: set[str] = set()
        #: submitted items whose run has not stopped yet, by their ``agent_item_uid``
        self.outstanding: dict[str, Item] = {}
        #: ``(item, stop time of the run that led to it or None, time it was accepted)``
        self.submitted: list[tuple[Item, float | None, float]] = []
        #: whether the state was restored from the checkpoint
        self.restored = False
        self._told_points: list[tuple[Any, Any]] = []
        self._skipping: set[str] = set()  # run and descriptor uids of a run told before
        self._lock = threading.RLock()  # fed from the bus and from :meth:`recover`
        if checkpoint is not None:
            self._restore(checkpoint)

    # -- feeding ----------------------------------------------------------------------

    def __call__(self, name: str, doc: dict[str, Any]) -> None:
        """A document of some run; at a run's stop the agent is told and asked."""
        with self._lock:
            if not self._take(name, doc):
                return
            if self.state == "running" and not self.outstanding:
                self.suggest(stop_time=doc.get("time"))
            else:
                self._save()

    def recover(self, catalog: Any, *, grace: float = 10.0) -> int:
        """Tell the runs of this service's plans that ``catalog`` shows closed for ``grace``
        seconds while their stop never came through the documents fed (a queue worker
        lost mid-run: the server closes its run in the catalog only). Each such run is
        told whole from the catalog, and the next plan asked for; documents of it that
        arrive later are skipped. Returns the number of runs told so."""
        with self._lock:
            waiting = list(self.outstanding)
        told = 0
        for item_uid in waiting:
            for run in catalog.search({"agent_item_uid": item_uid}).values():
                if run.stop is None or time.time() - float(run.stop["time"]) < grace:
                    continue
                with self._lock:
                    if item_uid not in self.outstanding or run.uid in self.runs_told:
                        continue
                    log.error("agent %s: run %s of item %s closed in the catalog (%s: %s) but "
                              "its stop never came on the bus; told from the catalog", self.name,
                              run.uid, item_uid, run.stop.get("exit_status"),
                              run.stop.get("reason"))  # fmt: skip
                    for name, doc in run.documents():
                        self(name, doc)
                    told += 1
        return told

    def seed(self, runs: Iterable[Any]) -> int:
        """Tell the agent the runs of the past (each with ``documents()``, as the
        catalog's runs) it was not told yet; nothing is submitted. Returns the number of
        points told."""
        before = self.told
        for run in runs:
            for name, doc in run.documents():
                self._take(name, doc)
        self._save()
        return self.told - before

    def _take(self, name: str, doc: dict[str, Any]) -> bool:
        """Feed one document; ``True`` when it finished a run with points, or one of ours."""
        if self.state == "failed" or self._told_before(name, doc):
            return False
        try:
            if self._ingest is not None:
                self._ingest(name, doc)
            finished = self.points(name, doc)
            if finished is None:
                return False
            start, points = finished
            self.runs_seen += 1
            for x, y in points:
                self.agent.tell(x, y)
                self.told += 1
                if self._snapshot is None:
                    self._told_points.append((x, y))
        except Exception as exc:
            self._fail(f"the agent {self.name!r} raised while told a {name} document", exc)
            return False
        self.runs_told.add(start["uid"])
        ours = self.outstanding.pop(str(start.get("agent_item_uid")), None) is not None
        return ours or bool(points)

    def gap(self, info: dict[str, Any]) -> None:
        """The bus lost documents (``info`` as :class:`cielo.bus.BusConsumer` gives it): the
        runs that were open are not told (half a run would mislead the agent); when one
        was this service's own, it asks for the next plan now rather than wait for it."""
        with self._lock:
            self._gap(info)

    def _gap(self, info: dict[str, Any]) -> None:
        ours = False
        for run in info.get("open_runs", []):
            start = self.points.forget(run)
            if start is not None:
                ours |= self.outstanding.pop(str(start.get("agent_item_uid")), None) is not None
        log.error("agent %s: the bus lost %s documents; runs not told: %s", self.name,
                  info.get("missed"), ", ".join(info.get("open_runs", [])) or "none")  # fmt: skip
        if ours and self.state == "running" and not self.outstanding:
            self.suggest()

    def _told_before(self, name: str, doc: dict[str, Any]) -> bool:
        """Whether ``doc`` belongs to a run told already (delivered again after a restart)."""
        skipping = self._skipping
        if name == "start":
            if doc["uid"] in self.runs_told:
                skipping.add(doc["uid"])
            return doc["uid"] in skipping
        if name == "descriptor":
            if doc.get("run_start") in skipping:
                skipping.add(doc["uid"])
            return doc["uid"] in skipping
        if name in ("event", "event_page"):
            return doc.get("descriptor") in skipping
        if name == "stop" and doc.get("run_start") in skipping:
            skipping.discard(doc["run_start"])  # its descriptors' uids are never seen again
            return True
        return False

    # -- asking -----------------------------------------------------------------------

    def suggest(self, *, stop_time: float | None = None) -> Item | None:
        """Ask the agent, check its points, submit them as one plan; the item, or None."""
        item = self._ask()
        if item is None:
            self._save()
            return None
        self._save(pending=item)  # a restart asks the queue whether this arrived
        if not self._submit(item, stop_time):
            self._save()
            return None
        self._save()
        return item

    def _ask(self) -> Item | None:
        if self.state != "running":
            return None
        if self.max_items is not None and self.items >= self.max_items:
            self.state = "budget"
            log.warning("agent %s: submitted %d plans, its budget; stopping", self.name,
                        self.items)  # fmt: skip
            return None
        try:
            points, info = self.agent.ask(self.batch)
        except Exception as exc:
            self._fail(f"the agent {self.name!r} raised when asked for points", exc)
            return None
        if is_done(points, info):
            self.state = "done"
            log.warning("agent %s is done: %s", self.name, self.report())
            return None
        try:
            checked = [check_point(p, self.motors, bounds=self.bounds) for p in points]
        except AgentPointError as exc:
            self._fail(f"the agent {self.name!r}'s suggestion was refused", exc)
            return None
        return self.item(checked)

    def _submit(self, item: Item, stop_time: float | None) -> bool:
        try:
            self.submit(item)
        except Exception as exc:
            self._fail(f"the queue refused the plan of agent {self.name!r}", exc)
            return False
        self._submitted(item, stop_time)
        return True

    def _submitted(self, item: Item, stop_time: float | None) -> None:
        self.items += 1
        self.outstanding[item["kwargs"]["md"]["agent_item_uid"]] = item
        self.submitted.append((item, stop_time, time.time()))

    def item(self, points: Sequence[Sequence[float]]) -> Item:
        """The plan item that measures ``points`` (one list of values per point); its run
        metadata names the agent, the item's number and a uid of its own."""
        args: list[Any] = [self.detectors]
        for i, motor in enumerate(self.motors):
            args += [motor, [p[i] for p in points]]
        md = {"agent": self.name, "agent_item": self.items + 1,
              "agent_item_uid": str(uuid.uuid4())}  # fmt: skip
        return {"item_type": "plan", "name": self.plan, "args": args, "kwargs": {"md": md}}

    def report(self) -> dict[str, Any]:
        """The agent's report with the service's counters."""
        try:
            report = dict(self.agent.report())
        except Exception as exc:  # the report is for people: never let it hide the state
            report = {"report_error": f"{type(exc).__name__}: {exc}"}
        return {
            **report,
            "state": self.state,
            "runs_seen": self.runs_seen,
            "told": self.told,
            "submitted": self.items,
            "restored": self.restored,
            "errors": list(self.errors),
        }

    def _fail(self, what: str, exc: BaseException) -> None:
        self.state = "failed"
        message = f"{what}: {type(exc).__name__}: {exc}"
        self.errors.append(message)
        log.error("%s; the agent service stops submitting\n%s", message,
                  "".join(traceback.format_exception(exc)).rstrip())  # fmt: skip

    # -- saving -----------------------------------------------------------------------

    def _save(self, pending: Item | None = None) -> None:
        if self.checkpoint is None:
            return
        snapshot = self._snapshot() if self._snapshot is not None else None
        self.checkpoint.save({
            "agent": snapshot,
            "points": None if snapshot is not None else self._told_points,
            "runs": sorted(self.runs_told),
            "outstanding": self.outstanding,
            "pending": pending,
            "state": self.state,
            "errors": self.errors,
            "counters": {"told": self.told, "runs_seen": self.runs_seen, "items": self.items},
        })  # fmt: skip

    def _restore(self, checkpoint: Checkpoint) -> None:
        saved = checkpoint.load()
        if saved is None:
            return
        if saved["agent"] is not None and callable(getattr(self.agent, "restore", None)):
            self.agent.restore(saved["agent"])
        else:  # an agent without snapshot(): rebuilt by telling it again, in order
            for x, y in saved["points"] or []:
                self.agent.tell(tuple(x) if isinstance(x, list) else x, y)
                self._told_points.append((x, y))
        self.runs_told = set(saved["runs"])
        self.outstanding = dict(saved["outstanding"])
        self.errors = list(saved["errors"])
        counters = saved["counters"]
        self.told, self.runs_seen, self.items = (
            counters["told"], counters["runs_seen"], counters["items"]
        )  # fmt: skip
        # a failure is not restored: starting the service again is the retry
        self.state = "running" if saved["state"] == "failed" else saved["state"]
        self.restored = True
        pending = saved.get("pending")
        if pending is not None:
            if self.find is not None and self.find(pending):
                log.warning("agent %s: item %s reached the queue before the service stopped",
                            self.name, pending["kwargs"]["md"]["agent_item"])  # fmt: skip
                self._submitted(pending, None)
            else:
                self._submit(pending, None)
            self._save()
        log.warning("agent %s: restored from %s (%d points told, %d plans submitted, %d "
                    "waiting for their runs)", self.name, checkpoint.path, self.told,
                    self.items, len(self.outstanding))  # fmt: skip
