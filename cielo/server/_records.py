"""What the manager reports: the status object and the history records (bluesky's keys)."""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._holder import lock_holder
from ._store import Item

if TYPE_CHECKING:
    from ._manager import Manager

logger = logging.getLogger("cielo.server")

__all__ = ["RunList", "clean_item", "close_lost_runs", "history_record", "status_of"]


class RunList:
    """The runs of the running item (from its documents): uid, open or not, exit status;
    ``uid`` changes with every change (the status's ``run_list_uid``)."""

    def __init__(self) -> None:
        self.runs: list[dict[str, Any]] = []
        self.uid = str(uuid.uuid4())

    def reset(self) -> None:
        self.runs = []
        self.uid = str(uuid.uuid4())

    def uids(self) -> list[str]:
        return [run["uid"] for run in self.runs]

    def on_document(self, name: Any, doc: dict[str, Any]) -> bool:
        """Note a start or stop document; whether the list changed."""
        if name == "start":
            self.runs.append({"uid": doc.get("uid"), "is_open": True, "exit_status": None})
        elif name == "stop":
            for run in self.runs:
                if run["uid"] == doc.get("run_start"):
                    run.update(is_open=False, exit_status=doc.get("exit_status"))
        else:
            return False
        self.uid = str(uuid.uuid4())
        return True


def clean_item(item: Item) -> Item:
    """The item as queued (without its result and execution properties)."""
    return {k: v for k, v in item.items() if k not in ("result", "properties")}


def history_record(
    item: Item,
    status: str,
    msg: str,
    tb: str,
    run_uids: Sequence[str],
    scan_ids: Sequence[Any],
    time_start: float | None,
) -> Item:
    """``item`` with its ``result``: ``exit_status``, ``run_uids``, ``scan_ids``,
    ``time_start``, ``time_stop``, ``msg``, ``traceback``."""
    return {
        **clean_item(item),
        "result": {
            "exit_status": status,
            "run_uids": list(run_uids),
            "scan_ids": list(scan_ids),
            "time_start": time_start,
            "time_stop": time.time(),
            "msg": msg,
            "traceback": tb,
        },
    }


def status_of(manager: Manager) -> dict[str, Any]:
    """The manager's status: states, sizes and the change counters (``plan_queue_uid``...
    from the store's revisions, so they never repeat across restarts)."""
    summary = manager.summary()
    revisions, running = summary.revisions, summary.running
    worker = manager.worker
    return {
        "msg": "cielo queue server",
        "time": time.time(),
        "items_in_queue": summary.queue_size,
        "items_in_history": summary.history_size,
        "running_item_uid": running["item_uid"] if running else None,
        "manager_state": manager.manager_state,
        "queue_stop_pending": manager.stop_pending,
        "queue_autostart_enabled": manager.autostart,
        "worker_environment_exists": manager.env_state != "closed",
        "worker_environment_state": manager.env_state,
        "worker_environment_error": manager.environment_error,
        "worker_background_tasks": 0,
        "worker_pid": worker.pid if worker is not None and worker.lost is None else None,
        "worker_standby_pid": manager.standby.pid,
        "re_state": manager.re_state,
        "ip_kernel_state": None,
        "ip_kernel_captured": None,
        "pause_pending": False,
        "status_uid": manager.status_uid,
        "run_list_uid": manager.runs.uid,
        "plan_queue_uid": f"q{revisions.queue}",
        "plan_history_uid": f"h{revisions.history}",
        "proposed_uid": f"p{revisions.proposed}",
        "plan_lists_uid": f"l{revisions.lists}",
        "devices_existing_uid": manager.catalog.devices_uid,
        "plans_existing_uid": manager.catalog.plans_uid,
        "devices_allowed_uid": f"{manager.catalog.devices_uid}-{manager.permissions.uid}",
        "plans_allowed_uid": f"{manager.catalog.plans_uid}-{manager.permissions.uid}",
        "functions_allowed_uid": manager.functions_allowed_uid,
        "plan_queue_mode": dict(manager.mode),
        "task_results_uid": "t0",
        "lock_info_uid": "lock0",
        "lock": {"environment": False, "queue": False},
        "instrument_lock": lock_holder(manager.settings.profile),
        "profile": manager.settings.profile,
    }


def close_lost_runs(
    profile: str, item_uid: str, run_uids: Sequence[str], reason: str
) -> list[dict[str, Any]]:
    """Close, in the catalog the worker wrote to (``$CIELO_CATALOG``, else the profile's),
    the runs a lost worker left open while running item ``item_uid`` (its ``run_uids``,
    and runs whose start names it as ``queue_item_uid``): a stop document with
    ``exit_status`` ``"fail"`` and ``reason``. Returns the stop documents written."""
    from cielo.core import read_profile
    from cielo.storage import RunNotFoundError, open_catalog

    uri = os.environ.get("CIELO_CATALOG") or read_profile(profile).catalog_uri
    catalog = open_catalog(uri, create=False)
    try:
        uids = set(run_uids) | set(catalog.search(queue_item_uid=item_uid).keys())
        closed = []
        for uid in sorted(uids):
            try:
                if catalog.close_run(uid, exit_status="fail", reason=reason):
                    closed.append(catalog[uid].stop)
            except RunNotFoundError:  # its start never reached the catalog
                logger.warning("run %s of item %s is not in the catalog", uid, item_uid)
        return closed
    finally:
        catalog.close()
