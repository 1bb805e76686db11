"""The manager's start and end: reconnect to the worker a previous manager left running
(greeted by its ``hello``), settle an item whose worker is gone (recorded as interrupted,
its open runs closed in the catalog), and stop the worker in bounded time."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from typing import TYPE_CHECKING, Any

from ._records import close_lost_runs as close_in_catalog
from ._store import Item
from ._supervisor import WorkerLink

if TYPE_CHECKING:
    from ._manager import Manager

__all__ = ["close_lost_runs", "on_hello", "reconcile", "shut_down", "start"]

logger = logging.getLogger("cielo.server")


async def start(manager: Manager) -> None:
    """Reconnect to a worker a previous manager left running (it goes on with its item),
    else record an item left as running as interrupted and start a standby worker."""
    link = WorkerLink(manager.settings, manager.on_message, lambda why: None)
    link.on_lost = functools.partial(manager.on_lost, link)
    manager.worker = link
    if await link.attach():
        manager.env_state = "initializing"  # until its hello says more
        return
    manager.worker = None
    reconcile(manager)
    manager.standby.prestart()


def reconcile(manager: Manager, why: str = "the worker that ran this item was gone") -> None:
    """Record the item the store says is running as interrupted (its worker is gone)."""
    running = manager.store.running()
    if running is not None:
        reason = f"interrupted: the manager restarted and {why}"
        manager.record(running, "failed", reason, "")
        close_lost_runs(manager, running, [], reason)


def close_lost_runs(manager: Manager, item: Item, run_uids: list[str], reason: str) -> None:
    """Close the runs a lost worker left open (in a thread: the catalog blocks), and send
    their stop documents to the profile's bus, so its consumers see them end too."""

    async def close() -> None:
        profile = manager.settings.profile
        stops = await asyncio.to_thread(
            close_in_catalog, profile, item["item_uid"], run_uids, reason
        )
        if stops:
            closed = [stop["run_start"] for stop in stops]
            logger.warning("closed run(s) %s in the catalog as failed: %s", closed, reason)
            await asyncio.to_thread(_publish_stops, profile, stops)

    manager.spawn(close())


def _publish_stops(profile: str, stops: list[dict[str, Any]]) -> None:
    from cielo.bus import publish_to_profile_bus

    try:
        uri = publish_to_profile_bus(profile, [("stop", stop) for stop in stops])
    except Exception as exc:  # consumers that follow the catalog still see them closed
        logger.error("could not send the closed runs' stops to the bus: %s", exc)
        return
    if uri is not None:
        logger.warning("sent the closed runs' stops to %s", uri)


def on_hello(manager: Manager, message: dict[str, Any]) -> None:
    """A worker greets a (re)started manager with its state: the same running item goes
    on, or the item it finished meanwhile is recorded, or an unknown item is settled."""
    assert manager.worker is not None
    manager.worker.pid = message.get("pid") or manager.worker.pid
    manager.re_state = message.get("re_state")
    manager.env_state = str(message.get("environment_state") or "idle")
    running = manager.store.running()
    its_item = message.get("running_item_uid")
    last = message.get("last_done") or {}
    if running is not None and running.get("item_uid") == its_item:
        manager.manager_state = "paused" if message.get("paused") else "executing_queue"
        manager.time_start = manager.time_start or time.time()
    elif running is not None and running.get("item_uid") == last.get("item_uid"):
        manager.on_item_done(last)  # it ended while no manager listened
    elif running is not None:
        reconcile(manager, "the worker does not know the item")
    if manager.env_state == "failed":
        manager.env_state = "closed"


async def shut_down(manager: Manager) -> None:
    """Stop the background work and the worker: a running plan is aborted (its hardware
    stopped by the engine) within 10 s, the environment closed, the worker killed if it
    does not end within 10 s more; the standby worker ended."""
    link = manager.worker
    if link is not None and link.lost is None:
        with contextlib.suppress(ConnectionError):
            if manager.store.running() is not None:
                link.send({"cmd": "abort"})
                deadline = time.monotonic() + 10.0
                while manager.store.running() is not None and time.monotonic() < deadline:
                    await manager.wait_change(0.1)
            link.closing = True
            if manager.env_state != "closed":
                link.send({"cmd": "close"})
        if not await link.wait_exit(10.0):
            link.kill()
    if link is not None:
        link.closing = True
        await link.aclose()
        if manager.worker is link:
            manager.worker_gone("the server stopped")
    await manager.standby.discard()
    for task in list(manager.tasks):
        task.cancel()
