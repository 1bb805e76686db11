"""``/api/history/...``: the executed items with their results."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from .._store import QueueError
from ._deps import Call, allow, ok
from ._models import Empty, Reply

router = APIRouter(prefix="/api/history", tags=["history"])


@router.get("/get", response_model=Reply)
async def history_get(
    body: Empty = Body(default_factory=Empty),
    call: Call = allow("read:history"),
) -> dict[str, Any]:
    """Executed items, oldest first, each with ``result`` (``exit_status``, ``run_uids``,
    ``scan_ids``, ``time_start``, ``time_stop``, ``msg``, ``traceback``)."""
    revision, items = await call.io(lambda store: (store.revisions().history, store.history()))
    return ok(items=items, plan_history_uid=f"h{revision}")


class HistoryClear(Empty):
    size: int | None = None
    item_uid: str | None = None


@router.post("/clear", response_model=Reply)
async def history_clear(
    body: HistoryClear = Body(default_factory=HistoryClear),
    call: Call = allow("write:history:edit"),
) -> dict[str, Any]:
    """Clear the history."""
    if body.size is not None or body.item_uid is not None:
        raise QueueError(
            "clearing part of the history (size, item_uid) is not supported yet; "
            "send {} to clear all of it"
        )
    await call.io(lambda store: store.history_clear())
    call.manager.changed()
    return ok()
