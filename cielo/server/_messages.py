"""The worker's messages to the manager: heartbeats, documents, console lines, state
changes and an item's end (recorded, then the queue goes on or stops by its mode)."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from . import _lifecycle as lifecycle
from ._plans import new_item
from ._records import clean_item

if TYPE_CHECKING:
    from ._manager import Manager

__all__ = ["handle", "item_done"]

logger = logging.getLogger("cielo.server")

#: Exit statuses after which the queue goes on (``failed`` too in ignore-failures mode).
CONTINUE = ("completed",)


def handle(manager: Manager, message: dict[str, Any]) -> None:
    """One message of the worker (its kind in ``type``)."""
    kind = message.get("type")
    if kind == "heartbeat":
        re_state = message.get("re_state")
        if re_state != manager.re_state:
            manager.re_state = re_state
            manager.changed()
        return
    if kind == "hello":
        lifecycle.on_hello(manager, message)
    elif kind == "document":
        manager.feeds.publish("document", {"name": message.get("name"), "doc": message.get("doc")})
        if manager.runs.on_document(message.get("name"), message.get("doc") or {}):
            manager.changed()
        return
    elif kind == "console":
        manager.feeds.publish("console", {"time": message.get("time"), "msg": message.get("text")})
        return
    elif kind == "form_check":
        manager.form_checks.answer(message)
        return
    elif kind == "re_state":
        manager.re_state = message.get("state")
    elif kind == "environment":
        _on_environment(manager, message)
    elif kind == "paused":
        manager.manager_state = "paused"
    elif kind == "item_done":
        item_done(manager, message)
    elif kind == "refused":
        logger.warning("the worker refused %s: %s", message.get("cmd"), message.get("msg"))
    manager.changed()


def _on_environment(manager: Manager, message: dict[str, Any]) -> None:
    state = message.get("state")
    if state == "open":
        manager.env_state = "idle"
        manager.re_state = message.get("re_state")
        if manager.manager_state == "creating_environment":
            manager.manager_state = "idle"
        if manager.autostart:
            manager.start_if_autostart()
    elif state == "failed":
        manager.environment_error = str(message.get("msg", ""))
        if manager.worker is not None:
            manager.worker.closing = True
    elif state == "closed":
        manager.env_state = "closing"


def item_done(manager: Manager, message: dict[str, Any]) -> None:
    """The running item ended: record it and go on, or requeue it and stop, by the
    queue's mode."""
    running = manager.store.running()
    if running is None or running.get("item_uid") != message.get("item_uid"):
        if manager.calls.pending and running is None and manager.env_state == "executing_plan":
            # recorded by an attempt whose answer was lost (the store stalled): go on
            manager.env_state = "idle"
            if manager.queue_running:
                manager.start_next_item()
            else:
                manager.queue_ended()
            return
        logger.warning("result of an item that is not running: %s", message.get("item_uid"))
        return
    status = str(message.get("exit_status"))
    manager.env_state = "idle"
    immediate = running.get("properties", {}).get("immediate_execution", False)
    goes_on = status in CONTINUE or (status == "failed" and manager.mode["ignore_failures"])
    msg, tb = str(message.get("msg") or ""), str(message.get("traceback") or "")
    if immediate or goes_on or status == "stopped":
        manager.record(running, status, msg, tb, message)
        if manager.mode["loop"] and not immediate and status in ("completed", "stopped"):
            manager.store.add(new_item(clean_item(running)))
    else:  # failed, aborted, halted: back to the front (with a new uid), the queue stops
        record = manager.result(running, status, msg, tb, message)
        manager.store.requeue_running(record=record, new_uid=str(uuid.uuid4()))
    if manager.queue_running and goes_on and not immediate:
        manager.start_next_item()
    else:
        manager.queue_ended()
