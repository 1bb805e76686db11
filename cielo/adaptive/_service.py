"""Agents across runs: follow documents, tell the agent each finished run, queue the next.

:class:`AgentService` is a document callback (``service(name, doc)``): feed it from the
bus (a :class:`cielo.bus.RemoteDispatcher`), from the catalog's history (:meth:`seed`)
or from a RunEngine. When a run stops it tells the agent the run's points, asks for the
next ones, checks them, and hands a plan item to ``submit`` (a queue client's ``add``).
:class:`Monitor` watches values in the documents and calls an action (pause the queue)
when one leaves its bounds. Neither knows where the documents come from or where the
items go.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ._agent import is_done
from ._runs import RunPoints
from ._safety import AgentPointError, Bounds, check_point

__all__ = ["AgentService", "Monitor"]

log = logging.getLogger("cielo.adaptive")

Item = dict[str, Any]


class AgentService:
    """Tell an agent every finished run, ask it for the next points, submit them as a plan.

    :param agent: has ``tell``, ``ask``, ``report`` (and maybe ``ingest(name, doc)``).
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
    ) -> None:
        self.agent, self.name, self.submit = agent, name, submit
        self.motors, self.target, self.detectors = list(motors), target, list(detectors)
        self.batch, self.bounds, self.max_items, self.plan = batch, bounds, max_items, plan
        self.points = RunPoints(self.motors, target, stream=stream)
        self._ingest = getattr(agent, "ingest", None)
        #: ``"running"``, ``"done"`` (the agent wants nothing more), ``"budget"`` (max_items
        #: reached) or ``"failed"`` (the agent raised, suggested nonsense, or the queue
        #: refused its plan: see :attr:`errors`)
        self.state = "running"
        self.errors: list[str] = []
        self.told = 0
        self.runs_seen = 0
        #: ``(item, stop time of the run that led to it or None, time it was accepted)``
        self.submitted: list[tuple[Item, float | None, float]] = []

    # -- feeding ----------------------------------------------------------------------

    def __call__(self, name: str, doc: dict[str, Any]) -> None:
        """A document of some run; at a run's stop the agent is told and asked."""
        finished = self._take(name, doc)
        if finished and self.state == "running":
            self.suggest(stop_time=doc.get("time"))

    def seed(self, runs: Iterable[Any]) -> int:
        """Tell the agent the runs of the past (each with ``documents()``, as the
        catalog's runs); nothing is submitted. Returns the number of points told."""
        before = self.told
        for run in runs:
            for name, doc in run.documents():
                self._take(name, doc)
        return self.told - before

    def _take(self, name: str, doc: dict[str, Any]) -> bool:
        if self.state == "failed":
            return False
        try:
            if self._ingest is not None:
                self._ingest(name, doc)
            finished = self.points(name, doc)
            if finished is None:
                return False
            self.runs_seen += 1
            for x, y in finished[1]:
                self.agent.tell(x, y)
                self.told += 1
        except Exception as exc:
            self._fail(f"the agent {self.name!r} raised while told a {name} document", exc)
            return False
        return bool(finished[1])

    # -- asking -----------------------------------------------------------------------

    def suggest(self, *, stop_time: float | None = None) -> Item | None:
        """Ask the agent, check its points, submit them as one plan; the item, or None."""
        if self.state != "running":
            return None
        if self.max_items is not None and len(self.submitted) >= self.max_items:
            self.state = "budget"
            log.warning("agent %s: submitted %d plans, its budget; stopping", self.name,
                        len(self.submitted))  # fmt: skip
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
        item = self.item(checked)
        try:
            self.submit(item)
        except Exception as exc:
            self._fail(f"the queue refused the plan of agent {self.name!r}", exc)
            return None
        self.submitted.append((item, stop_time, time.time()))
        return item

    def item(self, points: Sequence[Sequence[float]]) -> Item:
        """The plan item that measures ``points`` (one list of values per point)."""
        args: list[Any] = [self.detectors]
        for i, motor in enumerate(self.motors):
            args += [motor, [p[i] for p in points]]
        md = {"agent": self.name, "agent_item": len(self.submitted) + 1}
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
            "submitted": len(self.submitted),
            "errors": list(self.errors),
        }

    def _fail(self, what: str, exc: BaseException) -> None:
        self.state = "failed"
        message = f"{what}: {type(exc).__name__}: {exc}"
        self.errors.append(message)
        log.error("%s; the agent service stops submitting\n%s", message,
                  "".join(traceback.format_exception(exc)).rstrip())  # fmt: skip


class Monitor:
    """Watch a field of the events; call ``action(reason)`` when it leaves [low, high].

    The action fires once when the value leaves the window and again only after the value
    came back inside (a beam that stays down pauses the queue once). ``low`` or ``high``
    may be ``None`` (no bound on that side).

    :param field: the data key to watch (``beam_current``).
    :param action: ``action(reason)``, e.g. stop the queue and pause the running plan.
    """

    def __init__(
        self,
        field: str,
        action: Callable[[str], Any],
        *,
        low: float | None = None,
        high: float | None = None,
    ) -> None:
        if low is None and high is None:
            raise ValueError(f"Monitor {field!r}: give low, high or both")
        if low is not None and high is not None and not low < high:
            raise ValueError(f"Monitor {field!r}: need low < high, got {low} and {high}")
        self.field, self.action, self.low, self.high = field, action, low, high
        self.tripped = False
        #: ``(reason, time)`` each time the action fired
        self.trips: list[tuple[str, float]] = []

    def __call__(self, name: str, doc: dict[str, Any]) -> None:
        if name == "event":
            values: Iterable[Any] = [doc["data"].get(self.field)]
        elif name == "event_page":
            values = doc["data"].get(self.field, [])
        else:
            return
        for value in values:
            if value is not None:
                self.check(float(value), doc)

    def check(self, value: float, doc: Mapping[str, Any]) -> None:
        """One value of the field; trips (once) when it is outside the window."""
        outside = (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        )
        if not outside:
            self.tripped = False
            return
        if self.tripped:
            return
        self.tripped = True
        window = f"[{self.low if self.low is not None else '-inf'}, "
        window += f"{self.high if self.high is not None else 'inf'}]"
        reason = f"{self.field} = {value} is outside {window}"
        self.trips.append((reason, time.time()))
        log.error("monitor: %s; acting", reason)
        try:
            self.action(reason)
        except Exception as exc:
            log.error("monitor: the action on %r failed: %s: %s", reason, type(exc).__name__, exc)
