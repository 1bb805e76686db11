"""``/api/plans/...`` and ``/api/devices/...``: what may be queued, with parameter schemas."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body
from starlette.concurrency import run_in_threadpool

from .._forms import check_with_form
from ._deps import Call, allow, ok
from ._models import Item, Reply, UserInfo

router = APIRouter(prefix="/api", tags=["plans and devices"])


@router.get("/plans/allowed", response_model=Reply)
async def plans_allowed(
    body: UserInfo = Body(default_factory=UserInfo),
    call: Call = allow("read:resources"),
) -> dict[str, Any]:
    """The plans the caller's group may use, by name: description, parameters and their JSON ``schema`` (draw forms from it)."""
    manager = call.manager
    plans = manager.permissions.allowed(manager.catalog.plans, "plans", call.who.group)
    return ok(plans_allowed=plans, plans_allowed_uid=manager.status()["plans_allowed_uid"])


class ItemCheck(UserInfo):
    item: Item


@router.post("/plans/check", response_model=Reply)
async def plans_check(
    body: ItemCheck,
    call: Call = allow("read:resources"),
) -> dict[str, Any]:
    """Check an item as ``/api/queue/item/add`` would, then with its plan's form check (a
    plugin's ``cielo_plan_forms``: the plan's own rules, run by the open environment's
    worker with the plugins it loaded), without queueing it; ``summary`` is what the check
    says of it (``{}`` for a plan without a form check)."""
    item = call.check_item(body.item)
    summary = {}
    if item["item_type"] == "plan":
        args = (item["name"], item["args"], item["kwargs"])
        manager = call.manager
        if manager.worker is not None and manager.env_state in ("idle", "executing_plan"):
            # the plugins the environment loaded now (a reload's edits included)
            summary = await manager.form_checks.ask(manager.worker, *args)
        else:
            summary = await run_in_threadpool(check_with_form, *args)
    return ok(item=item, summary=summary)


@router.get("/devices/allowed", response_model=Reply)
async def devices_allowed(
    body: UserInfo = Body(default_factory=UserInfo),
    call: Call = allow("read:resources"),
) -> dict[str, Any]:
    """The devices the caller's group may use, by name (sub-devices by dotted name): class and what they can do."""
    manager = call.manager
    devices = manager.permissions.allowed(manager.catalog.devices, "devices", call.who.group)
    return ok(devices_allowed=devices, devices_allowed_uid=manager.status()["devices_allowed_uid"])


@router.get("/plans/existing", response_model=Reply)
async def plans_existing(
    call: Call = allow("read:resources"),
) -> dict[str, Any]:
    catalog = call.manager.catalog
    return {"plans_existing": catalog.plans, "plans_existing_uid": catalog.plans_uid}


@router.get("/devices/existing", response_model=Reply)
async def devices_existing(
    call: Call = allow("read:resources"),
) -> dict[str, Any]:
    catalog = call.manager.catalog
    return {"devices_existing": catalog.devices, "devices_existing_uid": catalog.devices_uid}
