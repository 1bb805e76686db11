"""The manager: the queue's execution, the environment's life, and the status.

The manager owns the :class:`~cielo.server.QueueStore` and one worker (through a
:class:`~cielo.server._supervisor.WorkerLink`). It runs in the server's event loop;
every state change happens in one loop callback (taking the next item happens in the
same step that records the previous one), so no status read ever sees a false "idle"
between queue items.

A store that waits on a network (``store.blocking``: Redis) is called in threads
(:meth:`Manager.io`) by the routes and the status: a stalled Redis holds the requests
that need it, not the event loop. The status then shows the store's summary as of the
last call (refreshed by each call and before each status request and push); the
manager's own steps between queue items still call it in the loop, each bounded by the
store's timeout.

States follow bluesky-queueserver: ``manager_state`` is ``idle``,
``creating_environment``, ``executing_queue``, ``paused``, ``closing_environment`` or
``destroying_environment``; ``worker_environment_state`` is ``closed``,
``initializing``, ``idle``, ``executing_plan`` or ``closing``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from . import _lifecycle as lifecycle
from . import _messages as messages
from ._broadcast import Broadcast
from ._calls import StoreCalls
from ._changes import StatusChanges
from ._forms import FormChecks
from ._permissions import Permissions
from ._plans import PlanCatalog
from ._records import RunList, history_record, status_of
from ._settings import Settings
from ._store import Item, QueueError, QueueStore, StoreUnavailableError, Summary
from ._supervisor import Standby, WorkerLink

__all__ = ["Manager"]

logger = logging.getLogger("cielo.server")

T = TypeVar("T")


class Manager:
    """The queue server's state and its execution of the queue.

    :param catalog: the allowed plans and devices (see :class:`PlanCatalog`).
    """

    def __init__(self, settings: Settings, store: QueueStore, catalog: PlanCatalog) -> None:
        self.settings = settings
        self.store = store
        self.catalog = catalog
        self.permissions = Permissions()
        self.worker: WorkerLink | None = None
        self.standby = Standby(settings)  # a worker started ahead while none is open
        self.manager_state = "idle"
        self.env_state = "closed"
        self.re_state: str | None = None
        self.queue_running = False
        self.stop_pending = False
        self.autostart = False
        self.mode = {"loop": False, "ignore_failures": False}
        self.environment_error = ""
        self.runs = RunList()  # the running item's runs
        self.time_start: float | None = None
        #: live status, console lines and documents for websocket clients
        self.feeds = Broadcast()
        #: plan form checks the worker runs with the plugins it loaded
        self.form_checks = FormChecks()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.calls = StoreCalls(store)
        self.blocking = self.calls.blocking
        self.changes = StatusChanges(self.status, self.calls, self.feeds, self.spawn)

    # -- the store ------------------------------------------------------------------------

    async def io(self, work: Callable[[QueueStore], T]) -> T:
        """``work(store)``, in a thread if the store waits on a network (see
        :class:`~cielo.server._calls.StoreCalls`)."""
        return await self.calls.io(work)

    def summary(self) -> Summary:
        """What the status shows of the store: read now, or (a blocking store) as of its
        last call, which a status request refreshes (:meth:`fresh_status`)."""
        return self.calls.summary()

    async def fresh_status(self) -> dict[str, Any]:
        """The status with the store's summary read now (in a thread if it blocks)."""
        if self.blocking:
            await self.io(lambda store: None)
        return self.status()

    # -- status -------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """The status bluesky-queueserver's clients read (see :func:`status_of`)."""
        return status_of(self)

    @property
    def status_uid(self) -> str:
        """Changes with every change of the status."""
        return self.changes.uid

    def changed(self, *, edited: bool = False) -> None:
        """Something changed: a new status uid, waiters wake up, watchers get the status
        (see :class:`StatusChanges`). ``edited``: items were added (the queue starts if
        autostart is on)."""
        self.changes.changed()
        if edited and self.autostart:
            self.start_if_autostart()

    def set_autostart(self, enable: bool) -> None:
        self.autostart = bool(enable)
        self.changed(edited=True)

    def start_if_autostart(self) -> None:
        """Start the queue if autostart is on and it has items and an idle environment."""
        if (
            not self.queue_running
            and self.env_state == "idle"
            and self.manager_state == "idle"
            and self.store.running() is None
            and self.store.queue_size()
        ):
            self.queue_start()

    async def wait_change(self, timeout: float) -> None:
        """Until the status changes, or ``timeout`` seconds."""
        await self.changes.wait(timeout)

    # -- items and permissions ------------------------------------------------------------

    def check_item(self, raw: Any, user: str, group: str, *, keep_uid: bool = False) -> Item:
        """``raw`` as a queue item of ``user``: checked against its plan's parameters and
        ``group``'s permissions, or :class:`QueueError` naming what is wrong."""
        item = self.catalog.check_item(raw, user=user, user_group=group, keep_uid=keep_uid)
        self.permissions.check_item(item, group, self.catalog.devices)
        return item

    @property
    def functions_allowed_uid(self) -> str:
        """Changes when the allowed functions (the profile's, or the rules) change."""
        return f"{self.catalog.functions_uid}-{self.permissions.uid}"

    def load_permissions(self) -> None:
        """(Re)read the permissions file; a bad file is refused and the rules in force stay."""
        self.permissions = self.permissions_for(self.catalog)
        self.changed()

    def permissions_for(self, catalog: PlanCatalog) -> Permissions:
        """The permissions file's rules checked against ``catalog``'s plans and devices."""
        path = self.settings.permissions
        if path is None:
            return Permissions()
        return Permissions.load(path, catalog.plans, catalog.devices, catalog.functions)

    # -- the environment ------------------------------------------------------------------

    async def environment_open(self) -> None:
        if self.env_state != "closed":
            raise QueueError(f"the environment is already open (it is {self.env_state})")
        self.env_state = "initializing"
        self.manager_state = "creating_environment"
        self.environment_error = ""
        self.changed()
        standby = await self.standby.take()
        link = standby or WorkerLink(self.settings, self.on_message, lambda why: None)
        self.worker = link
        lost = functools.partial(self.on_lost, link)
        if standby is not None:
            standby.promote(self.on_message, lost)  # imports done: the profile only
        else:
            link.on_lost = lost
            self.spawn(self._start_worker(link))

    async def _start_worker(self, link: WorkerLink) -> None:
        try:
            await link.start()
        except OSError as exc:
            if self.worker is link:
                self._environment_failed(str(exc))

    def _environment_failed(self, why: str) -> None:
        self.environment_error = why
        self.env_state = "closed"
        self.re_state = None
        self.manager_state = "idle"
        self.worker = None
        logger.error("environment failed: %s", why)
        self.standby.prestart()
        self.changed()

    async def environment_close(self) -> None:
        if self.env_state == "closed":
            raise QueueError("the environment is not open; open it with environment_open")
        if self.store.running() is not None or self.queue_running:
            raise QueueError(
                "an item is running; stop the queue (queue_stop) or the plan (re_stop, "
                "re_abort) first, or destroy the environment"
            )
        if self.env_state != "idle" or self.worker is None:
            raise QueueError(f"the environment is {self.env_state}; wait until it is idle")
        self.worker.closing = True
        self.env_state = "closing"
        self.manager_state = "closing_environment"
        self.worker.send({"cmd": "close"})
        self.changed()

    async def environment_destroy(self) -> None:
        if self.env_state == "closed" and self.worker is None:
            raise QueueError("the environment is not open: there is nothing to destroy")
        self.manager_state = "destroying_environment"
        self.changed()
        link = self.worker
        if link is not None:
            link.closing = True
            link.kill()
            await link.aclose()
        self.worker_gone("the environment was destroyed (its worker killed)")

    # -- the queue ------------------------------------------------------------------------

    def _require_environment(self) -> None:
        if self.env_state not in ("idle", "executing_plan") or self.worker is None:
            raise QueueError(
                f"the environment is {self.env_state}; open it first (environment_open)"
                + (
                    f"; it failed last time: {self.environment_error}"
                    if self.environment_error
                    else ""
                )
            )

    def queue_start(self) -> None:
        self._require_environment()
        if self.queue_running:
            raise QueueError("the queue is already running")
        if self.store.running() is not None:
            raise QueueError(
                f"an item is running or paused (re_state {self.re_state}); resume or end it first"
            )
        self.queue_running = True
        self.stop_pending = False
        self.start_next_item()

    def queue_stop(self) -> None:
        if not self.queue_running:
            raise QueueError("the queue is not running")
        self.stop_pending = True
        self.changed()

    def queue_stop_cancel(self) -> None:
        if not self.queue_running:
            raise QueueError("the queue is not running")
        self.stop_pending = False
        self.changed()

    def item_execute(self, item: Item) -> None:
        """Run ``item`` now, outside the queue."""
        self._require_environment()
        if self.store.running() is not None or self.queue_running:
            raise QueueError("an item is running; wait for it or stop the queue first")
        item = dict(item, properties={"immediate_execution": True})
        self.store.set_running(item)
        self._send_run(item)

    def start_next_item(self) -> None:
        """Run the front item (or end the queue: empty, stop pending, an instruction)."""
        if self.stop_pending:
            self.queue_ended()
            return
        try:
            item = self.store.start_next()
        except StoreUnavailableError as exc:
            logger.error("the next item waits for the store: %s", exc)
            self.spawn(self.calls.when_answering(self._start_next_if_running, "the next item"))
            return
        if item is None:
            self.queue_ended()
            return
        if item.get("item_type") == "instruction":  # queue_stop: stop here
            self.record(item, "completed", "", "")
            self.queue_ended()
            return
        self._send_run(item)

    def _start_next_if_running(self) -> None:
        if self.queue_running and self.store.running() is None:
            self.start_next_item()

    def _send_run(self, item: Item) -> None:
        self.time_start = time.time()
        self.runs.reset()
        self.manager_state = "executing_queue"
        self.env_state = "executing_plan"
        assert self.worker is not None
        try:
            self.worker.send({"cmd": "run", "item": item})
        except ConnectionError:
            pass  # the watchdog reports the lost worker and fails the item
        self.changed()

    def queue_ended(self) -> None:
        """The queue stops running: the manager idle, the environment too if it ran."""
        self.queue_running = False
        self.stop_pending = False
        self.manager_state = "idle"
        if self.env_state == "executing_plan":
            self.env_state = "idle"
        self.changed()

    # -- run control --------------------------------------------------------------------

    def re_control(self, cmd: str, *, defer: bool = False) -> None:
        """pause (``defer``: at the next checkpoint), resume, stop, abort or halt the plan."""
        self._require_environment()
        running = self.store.running()
        if running is None:
            raise QueueError(f"no plan is running: there is nothing to {cmd}")
        paused = self.manager_state == "paused"
        if cmd == "pause" and paused:
            raise QueueError("the plan is already paused")
        if cmd == "resume" and not paused:
            raise QueueError("the plan is not paused: there is nothing to resume")
        assert self.worker is not None
        self.worker.send({"cmd": cmd, "defer": defer})
        if cmd == "resume":
            self.manager_state = "executing_queue"
            self.changed()

    # -- messages from the worker ---------------------------------------------------------

    def on_message(self, message: dict[str, Any]) -> None:
        """A message of the worker. One that needs the store while it does not answer
        (Redis stalled or down) is handled again once it answers: an item's end is
        recorded late, never lost, and the worker's other messages go on."""
        try:
            self._on_message(message)
        except StoreUnavailableError as exc:
            kind = message.get("type")
            logger.error("the worker's %r message waits for the store: %s", kind, exc)
            self.spawn(self.calls.when_answering(lambda: self._on_message(message), str(kind)))

    def _on_message(self, message: dict[str, Any]) -> None:
        messages.handle(self, message)

    def on_item_done(self, message: dict[str, Any]) -> None:
        """Record the running item's end and go on (or stop) by the queue's mode."""
        messages.item_done(self, message)

    def on_lost(self, link: WorkerLink, why: str) -> None:
        if link is not self.worker:
            return
        if link.closing:
            self.worker_gone("")
            return
        self.worker_gone(f"the worker {why}")

    def worker_gone(self, why: str) -> None:
        reason = why or "the environment closed while the item ran"
        settle = functools.partial(self._settle_lost_item, reason, self.runs.uids())
        try:
            settle()
        except StoreUnavailableError as exc:  # recorded once the store answers
            logger.error("the lost worker's item waits for the store: %s", exc)
            self.spawn(self.calls.when_answering(settle, "the lost worker's item"))
        self.worker = None
        self.env_state = "closed"
        self.re_state = None
        self.queue_running = False
        self.stop_pending = False
        self.manager_state = "idle"
        if why:
            self.environment_error = why
            logger.error("%s", why)
        self.standby.prestart()
        self.changed()

    def _settle_lost_item(self, reason: str, run_uids: list[str]) -> None:
        running = self.store.running()
        if running is not None:
            self.record(running, "failed", reason, "")
            lifecycle.close_lost_runs(self, running, run_uids, reason)
            self.changed()

    # -- history records ------------------------------------------------------------------

    def record(
        self, item: Item, status: str, msg: str, tb: str, message: dict[str, Any] | None = None
    ) -> None:
        self.store.finish_running(self.result(item, status, msg, tb, message))

    def result(
        self, item: Item, status: str, msg: str, tb: str, message: dict[str, Any] | None = None
    ) -> Item:
        message = message or {}
        run_uids = message.get("run_uids") or self.runs.uids()
        record = history_record(
            item, status, msg, tb, run_uids, message.get("scan_ids") or [], self.time_start
        )
        if item.get("item_type") == "function":
            record["result"]["return_value"] = message.get("return_value")
        return record

    # -- lifecycle (see _lifecycle.py) --------------------------------------------------

    async def start(self) -> None:
        """Reconnect to a worker a previous manager left, or settle what it left."""
        await lifecycle.start(self)

    async def aclose(self) -> None:
        """Abort a running plan, close the environment, end the worker (bounded)."""
        try:
            await lifecycle.shut_down(self)
        finally:
            self.calls.close()

    def spawn(self, coro: Any) -> None:
        """Run ``coro`` in the background (cancelled at the end; failures logged)."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        task.add_done_callback(_log_failure)


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        exc = task.exception()
        logger.error("server task failed: %s", "".join(traceback.format_exception(exc)))
