"""``/api/plans/...`` and ``/api/devices/...``: what may be queued, with parameter schemas."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Security

from .._manager import Manager
from ._deps import Principal, authenticated, get_manager
from ._models import Reply, UserInfo

router = APIRouter(prefix="/api", tags=["plans and devices"])
_SCOPE = ["read:resources"]


@router.get("/plans/allowed", response_model=Reply)
async def plans_allowed(
    body: UserInfo = Body(default_factory=UserInfo),
    manager: Manager = Depends(get_manager),
    _: Principal = Security(authenticated, scopes=_SCOPE),
) -> dict[str, Any]:
    """Plans by name: description, parameters and their JSON ``schema`` (draw forms from it)."""
    catalog = manager.catalog
    return {"plans_allowed": catalog.plans, "plans_allowed_uid": catalog.plans_uid}


@router.get("/devices/allowed", response_model=Reply)
async def devices_allowed(
    body: UserInfo = Body(default_factory=UserInfo),
    manager: Manager = Depends(get_manager),
    _: Principal = Security(authenticated, scopes=_SCOPE),
) -> dict[str, Any]:
    """Devices by name (sub-devices by dotted name): class and what they can do."""
    catalog = manager.catalog
    return {"devices_allowed": catalog.devices, "devices_allowed_uid": catalog.devices_uid}


@router.get("/plans/existing", response_model=Reply)
async def plans_existing(
    manager: Manager = Depends(get_manager),
    _: Principal = Security(authenticated, scopes=_SCOPE),
) -> dict[str, Any]:
    catalog = manager.catalog
    return {"plans_existing": catalog.plans, "plans_existing_uid": catalog.plans_uid}


@router.get("/devices/existing", response_model=Reply)
async def devices_existing(
    manager: Manager = Depends(get_manager),
    _: Principal = Security(authenticated, scopes=_SCOPE),
) -> dict[str, Any]:
    catalog = manager.catalog
    return {"devices_existing": catalog.devices, "devices_existing_uid": catalog.devices_uid}
