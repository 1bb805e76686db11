"""``/api/functions/allowed``, ``/api/function/execute`` and ``/api/task/result``: the
functions a profile's ``[functions] allow`` names, run as items.

``/api/function/execute`` runs one function item now, outside the queue, as
``/api/queue/item/execute`` runs a plan: only while nothing runs, and it goes to the
history like any item. Its ``task_uid`` is the item's uid; ``/api/task/result`` says
whether it is still running and, once done, its result (the history record's);
``/api/task/status`` the state of one or several.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body
from pydantic import StrictBool

from .._store import QueueError
from ._deps import Call, allow, ok
from ._models import Item, Reply, UserInfo

router = APIRouter(prefix="/api", tags=["functions"])


@router.get("/functions/allowed", response_model=Reply)
async def functions_allowed(
    body: UserInfo = Body(default_factory=UserInfo),
    call: Call = allow("read:resources"),
) -> dict[str, Any]:
    """The functions the caller's group may run, by name: module, description, parameters."""
    manager = call.manager
    functions = manager.permissions.allowed(manager.catalog.functions, "functions", call.who.group)
    return ok(functions_allowed=functions, functions_allowed_uid=manager.functions_allowed_uid)


class FunctionExecute(UserInfo):
    item: Item
    #: bluesky-queueserver runs such functions in a thread beside plans; cielo does not
    run_in_background: StrictBool = False


@router.post("/function/execute", response_model=Reply)
async def function_execute(
    body: FunctionExecute,
    call: Call = allow("write:execute"),
) -> dict[str, Any]:
    """Run one allowed function now (refused while an item runs); ``task_uid`` names it
    for ``/api/task/result``."""
    if body.run_in_background:
        raise QueueError(
            "run_in_background is not supported: functions run in the worker between "
            "plans; send run_in_background false (or leave it out)"
        )
    raw = body.item
    if raw.get("item_type", "function") != "function":
        raise QueueError(
            f"/api/function/execute runs functions, got item_type {raw.get('item_type')!r}; "
            "run plans with /api/queue/item/execute"
        )
    item = call.check_item({**raw, "item_type": "function"})
    call.manager.item_execute(item)
    return ok(item=item, task_uid=item["item_uid"])


class TaskResult(UserInfo):
    task_uid: str


class TaskStatus(UserInfo):
    task_uid: str | list[str]


def task_states(store: Any, uids: list[str]) -> dict[str, tuple[str, dict[str, Any] | None]]:
    """Each of ``uids``: ``("running" | "completed" | "not_found", its result)`` (the
    running item and the history read once, however many are asked)."""
    running = store.running()
    running_uid = running.get("item_uid") if running is not None else None
    wanted = set(uids)
    done: dict[str, dict[str, Any]] = {}
    for record in store.history():  # an item run twice: its first record, as before
        if record.get("item_uid") in wanted:
            done.setdefault(record["item_uid"], record)
    found: dict[str, tuple[str, dict[str, Any] | None]] = {}
    for uid in uids:
        if uid == running_uid:
            found[uid] = ("running", None)
        elif uid in done:
            result = dict(done[uid].get("result") or {})
            success = result.get("exit_status") == "completed"
            found[uid] = ("completed", {**result, "task_uid": uid, "success": success})
        else:
            found[uid] = ("not_found", None)
    return found


@router.api_route("/task/result", methods=["GET", "POST"], response_model=Reply)
async def task_result(
    body: TaskResult,
    call: Call = allow("read:history"),
) -> dict[str, Any]:
    """``status`` ``"running"``, ``"completed"`` (with ``result``: ``success``,
    ``exit_status``, ``return_value``, ``msg``, ``traceback``...) or ``"not_found"``."""
    uid = body.task_uid
    status, result = (await call.io(lambda store: task_states(store, [uid])))[uid]
    if status == "not_found":
        return ok(task_uid=uid, status=status, result=None, msg=f"no task {uid!r} ran here")
    return ok(task_uid=uid, status=status, result=result)


@router.api_route("/task/status", methods=["GET", "POST"], response_model=Reply)
async def task_status(
    body: TaskStatus,
    call: Call = allow("read:history"),
) -> dict[str, Any]:
    """The ``status`` of one task (a string) or of several (``{task_uid: status}``)."""
    uids = body.task_uid

    asked = [uids] if isinstance(uids, str) else uids
    found = await call.io(lambda store: task_states(store, asked))
    if isinstance(uids, str):
        return ok(task_uid=uids, status=found[uids][0])
    return ok(task_uid=uids, status={uid: found[uid][0] for uid in uids})
