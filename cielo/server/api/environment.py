"""``/api/environment/...``: open, close and destroy the worker's environment."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Security

from .._manager import Manager
from ._deps import Principal, authenticated, get_manager
from ._models import Empty, Reply

router = APIRouter(prefix="/api/environment", tags=["environment"])
_SCOPE = ["write:manager:control"]


@router.post("/open", response_model=Reply)
async def environment_open(
    body: Empty = Body(default_factory=Empty),
    manager: Manager = Depends(get_manager),
    _: Principal = Security(authenticated, scopes=_SCOPE),
) -> dict[str, Any]:
    """Start the worker: it loads the profile and takes the instrument's lock. Returns at
    once; the status's ``manager_state`` is ``creating_environment`` until it is open."""
    await manager.environment_open()
    return {"success": True, "msg": ""}


@router.post("/close", response_model=Reply)
async def environment_close(
    body: Empty = Body(default_factory=Empty),
    manager: Manager = Depends(get_manager),
    _: Principal = Security(authenticated, scopes=_SCOPE),
) -> dict[str, Any]:
    """Close the environment when nothing runs (the worker releases the lock and exits)."""
    await manager.environment_close()
    return {"success": True, "msg": ""}


@router.post("/destroy", response_model=Reply)
async def environment_destroy(
    body: Empty = Body(default_factory=Empty),
    manager: Manager = Depends(get_manager),
    _: Principal = Security(authenticated, scopes=_SCOPE),
) -> dict[str, Any]:
    """Kill the worker (a stuck environment); a running item is recorded as failed."""
    await manager.environment_destroy()
    return {"success": True, "msg": ""}
