"""``/api/status`` and ``/api/ping``: the manager's state with its change counters."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Security

from .._manager import Manager
from ._deps import Principal, authenticated, get_manager
from ._models import Reply

router = APIRouter(prefix="/api", tags=["status"])


class Status(Reply):
    """The status: states, queue and history sizes and the counters (``plan_queue_uid``,
    ``plan_history_uid``, ``plans_allowed_uid``, ...) that change with every
    modification, so a client re-fetches only what changed."""

    manager_state: str
    worker_environment_exists: bool
    worker_environment_state: str
    re_state: str | None
    items_in_queue: int
    items_in_history: int
    running_item_uid: str | None
    plan_queue_uid: str
    plan_history_uid: str


def _status(manager: Manager) -> dict[str, Any]:
    return {"success": True, **manager.status()}


@router.get("/status", response_model=Status)
async def status(
    manager: Manager = Depends(get_manager),
    _: Principal = Security(authenticated, scopes=["read:status"]),
) -> dict[str, Any]:
    return _status(manager)


@router.get("/ping", response_model=Status)
async def ping(
    manager: Manager = Depends(get_manager),
    _: Principal = Security(authenticated, scopes=["read:status"]),
) -> dict[str, Any]:
    return _status(manager)


@router.get("/config/get", response_model=Reply)
async def config_get(
    manager: Manager = Depends(get_manager),
    _: Principal = Security(authenticated, scopes=["read:status"]),
) -> dict[str, Any]:
    settings = manager.settings
    return {"success": True, "msg": "", "config": {"profile": settings.profile}}
