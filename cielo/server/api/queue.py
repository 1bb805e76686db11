"""``/api/queue/...``: the queue as a whole: get, start, stop, clear, autostart, mode."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, Security
from pydantic import BaseModel, ConfigDict

from .._manager import Manager
from ._deps import Principal, authenticated, get_manager
from ._models import Empty, Reply

router = APIRouter(prefix="/api/queue", tags=["queue"])
_CONTROL = ["write:queue:control"]


@router.get("/get", response_model=Reply)
async def queue_get(
    body: Empty = Body(default_factory=Empty),
    manager: Manager = Depends(get_manager),
    _: Principal = Security(authenticated, scopes=["read:queue"]),
) -> dict[str, Any]:
    """The queued items, front first, and the running item (``{}`` when none)."""
    store = manager.store
    return {
        "success": True,
        "msg": "",
        "items": store.queue(),
        "running_item": store.running() or {},
        "plan_queue_uid": manager.status()["plan_queue_uid"],
    }


@router.post("/start", response_model=Reply)
async def queue_start(
    body: Empty = Body(default_factory=Empty),
    manager: Manager = Depends(get_manager),
    _: Principal = Security(authenticated, scopes=_CONTROL),
) -> dict[str, Any]:
    """Run the queue's items one after the other until it is empty or stopped."""
    manager.queue_start()
    return {"success": True, "msg": ""}


@router.post("/stop", response_model=Reply)
async def queue_stop(
    body: Empty = Body(default_factory=Empty),
    manager: Manager = Depends(get_manager),
    _: Principal = Security(authenticated, scopes=_CONTROL),
) -> dict[str, Any]:
    """Stop the queue after the running item."""
    manager.queue_stop()
    return {"success": True, "msg": ""}


@router.post("/stop/cancel", response_model=Reply)
async def queue_stop_cancel(
    body: Empty = Body(default_factory=Empty),
    manager: Manager = Depends(get_manager),
    _: Principal = Security(authenticated, scopes=_CONTROL),
) -> dict[str, Any]:
    """Cancel a pending stop."""
    manager.queue_stop_cancel()
    return {"success": True, "msg": ""}


@router.post("/clear", response_model=Reply)
async def queue_clear(
    body: Empty = Body(default_factory=Empty),
    manager: Manager = Depends(get_manager),
    _: Principal = Security(authenticated, scopes=["write:queue:edit"]),
) -> dict[str, Any]:
    """Remove every queued item (the running item is not in the queue)."""
    manager.store.clear()
    manager.changed()
    return {"success": True, "msg": ""}


class Autostart(Empty):
    enable: bool


@router.post("/autostart", response_model=Reply)
async def queue_autostart(
    body: Autostart,
    manager: Manager = Depends(get_manager),
    _: Principal = Security(authenticated, scopes=_CONTROL),
) -> dict[str, Any]:
    """Start the queue whenever it has items and the environment is idle."""
    manager.set_autostart(body.enable)
    return {"success": True, "msg": ""}


class Mode(BaseModel):
    model_config = ConfigDict(extra="forbid")
    loop: bool | None = None
    ignore_failures: bool | None = None


class ModeSet(Empty):
    mode: Mode | Literal["default"]


@router.post("/mode/set", response_model=Reply)
async def queue_mode_set(
    body: ModeSet,
    manager: Manager = Depends(get_manager),
    _: Principal = Security(authenticated, scopes=_CONTROL),
) -> dict[str, Any]:
    """``loop``: finished items go back to the end; ``ignore_failures``: a failed item
    does not stop the queue. ``"default"`` turns both off."""
    if body.mode == "default":
        manager.mode = {"loop": False, "ignore_failures": False}
    else:
        assert isinstance(body.mode, Mode)
        manager.mode.update(body.mode.model_dump(exclude_none=True))
    manager.changed()
    return {"success": True, "msg": ""}
