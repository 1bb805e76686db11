"""``/api/queue/...``: the queue as a whole: get, start, stop, clear, autostart, mode."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Body, File, UploadFile
from pydantic import BaseModel, ConfigDict

from .._spreadsheet import read_spreadsheet
from .._store import QueueStore, Where
from ._deps import Call, allow, ok, reply_with
from ._models import Empty, Reply
from .items import add_all

router = APIRouter(prefix="/api/queue", tags=["queue"])


@router.get("/get", response_model=Reply)
async def queue_get(
    body: Empty = Body(default_factory=Empty),
    call: Call = allow("read:queue"),
) -> dict[str, Any]:
    """The queued items, front first, and the running item (``{}`` when none)."""

    def read(store: QueueStore) -> tuple[int, str, Any]:
        revision = store.revisions().queue  # before the items: never newer than them
        return revision, store.queue_json(), store.running()

    revision, items, running = await call.io(read)
    return reply_with({"items": items}, running_item=running or {}, plan_queue_uid=f"q{revision}")


@router.post("/start", response_model=Reply)
async def queue_start(
    body: Empty = Body(default_factory=Empty),
    call: Call = allow("write:queue:control"),
) -> dict[str, Any]:
    """Run the queue's items one after the other until it is empty or stopped."""
    call.manager.queue_start()
    return ok()


@router.post("/stop", response_model=Reply)
async def queue_stop(
    body: Empty = Body(default_factory=Empty),
    call: Call = allow("write:queue:control"),
) -> dict[str, Any]:
    """Stop the queue after the running item."""
    call.manager.queue_stop()
    return ok()


@router.post("/stop/cancel", response_model=Reply)
async def queue_stop_cancel(
    body: Empty = Body(default_factory=Empty),
    call: Call = allow("write:queue:control"),
) -> dict[str, Any]:
    """Cancel a pending stop."""
    call.manager.queue_stop_cancel()
    return ok()


@router.post("/clear", response_model=Reply)
async def queue_clear(
    body: Empty = Body(default_factory=Empty),
    call: Call = allow("write:queue:edit", "write:queue:edit:any"),
) -> dict[str, Any]:
    """Remove every queued item (the running item is not in the queue)."""
    await call.io(lambda store: store.clear())
    call.manager.changed()
    return ok()


class Autostart(Empty):
    enable: bool


@router.post("/autostart", response_model=Reply)
async def queue_autostart(
    body: Autostart,
    call: Call = allow("write:queue:control"),
) -> dict[str, Any]:
    """Start the queue whenever it has items and the environment is idle."""
    call.manager.set_autostart(body.enable)
    return ok()


class Mode(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    loop: bool | None = None
    ignore_failures: bool | None = None


class ModeSet(Empty):
    mode: Mode | Literal["default"]


@router.post("/mode/set", response_model=Reply)
async def queue_mode_set(
    body: ModeSet,
    call: Call = allow("write:queue:control"),
) -> dict[str, Any]:
    """``loop``: finished items go back to the end; ``ignore_failures``: a failed item
    does not stop the queue. ``"default"`` turns both off."""
    if body.mode == "default":
        call.manager.mode = {"loop": False, "ignore_failures": False}
    else:
        assert isinstance(body.mode, Mode)
        call.manager.mode.update(body.mode.model_dump(exclude_none=True))
    call.manager.changed()
    return ok()


@router.post("/upload/spreadsheet", response_model=Reply)
async def upload_spreadsheet(
    spreadsheet: UploadFile = File(description="a .csv or .xlsx file, one row per plan"),
    call: Call = allow("write:queue:edit"),
) -> dict[str, Any]:
    """Add a spreadsheet's plans at the back of the queue, one item per row: all rows, or
    none if any is wrong (``results`` says which row and why). See
    :mod:`cielo.server._spreadsheet` for the columns."""
    data = await spreadsheet.read()
    name = spreadsheet.filename or "spreadsheet"
    rows = read_spreadsheet(name, data, call.manager.catalog.plans)
    labelled = [(f"row {n}", item) for n, item in rows]
    sent = [item if isinstance(item, dict) else None for _, item in rows]
    return await add_all(call, labelled, Where(), sent=sent)
