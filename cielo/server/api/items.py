"""``/api/queue/item/...``: add (one or a batch), get, update, move, remove, execute items.

Items are checked against the plan's parameter schema before they enter the queue; a
refusal changes nothing and says which parameter is wrong.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Security
from pydantic import StrictBool

from .._manager import Manager
from .._store import QueueError, Where
from ._deps import Principal, authenticated, get_manager
from ._models import Destination, Empty, Item, Position, Reply, UserInfo

router = APIRouter(prefix="/api/queue/item", tags=["queue items"])
_EDIT = ["write:queue:edit"]


def _where(body: Destination, pos: Position | None = None) -> Where:
    return Where(
        pos=pos if pos is not None else body.pos,
        before_uid=body.before_uid,
        after_uid=body.after_uid,
    )


class ItemAdd(UserInfo, Destination):
    item: Item


@router.post("/add", response_model=Reply)
async def item_add(
    body: ItemAdd,
    manager: Manager = Depends(get_manager),
    who: Principal = Security(authenticated, scopes=_EDIT),
) -> dict[str, Any]:
    """Add one item (back by default; ``pos``, ``before_uid`` or ``after_uid``)."""
    item = manager.catalog.check_item(body.item, user=who.name, user_group=who.group)
    added = manager.store.add(item, _where(body))
    manager.changed(edited=True)
    return {"success": True, "msg": "", "item": added, "qsize": manager.store.queue_size()}


class ItemAddBatch(UserInfo, Destination):
    items: list[Item]


@router.post("/add/batch", response_model=Reply)
async def item_add_batch(
    body: ItemAddBatch,
    manager: Manager = Depends(get_manager),
    who: Principal = Security(authenticated, scopes=_EDIT),
) -> dict[str, Any]:
    """Add items together, in order: all of them, or none if any is refused (``results``
    then says which and why)."""
    checked: list[Item] = []
    results: list[dict[str, Any]] = []
    for n, raw in enumerate(body.items):
        try:
            checked.append(manager.catalog.check_item(raw, user=who.name, user_group=who.group))
            results.append({"success": True, "msg": ""})
        except QueueError as exc:
            results.append({"success": False, "msg": f"item {n}: {exc}"})
    failed = [str(r["msg"]) for r in results if not r["success"]]
    if failed:
        return {
            "success": False,
            "msg": f"{len(failed)} of {len(body.items)} items refused, none added: "
            + "; ".join(failed[:5])
            + ("; ..." if len(failed) > 5 else ""),
            "items": body.items,
            "results": results,
            "qsize": manager.store.queue_size(),
        }
    added = manager.store.add_batch(checked, _where(body))
    manager.changed(edited=True)
    return {
        "success": True,
        "msg": "",
        "items": added,
        "results": results,
        "qsize": manager.store.queue_size(),
    }


class ItemSelect(Empty):
    pos: Position | None = None
    uid: str | None = None


@router.get("/get", response_model=Reply)
async def item_get(
    body: ItemSelect = Body(default_factory=ItemSelect),
    manager: Manager = Depends(get_manager),
    _: Principal = Security(authenticated, scopes=["read:queue"]),
) -> dict[str, Any]:
    """One queued item by ``uid`` or ``pos`` (default: the back)."""
    return {"success": True, "msg": "", "item": manager.store.get(uid=body.uid, pos=body.pos)}


class ItemUpdate(UserInfo):
    item: Item
    replace: StrictBool | None = None


@router.post("/update", response_model=Reply)
async def item_update(
    body: ItemUpdate,
    manager: Manager = Depends(get_manager),
    who: Principal = Security(authenticated, scopes=_EDIT),
) -> dict[str, Any]:
    """Change a queued item in place (same uid), or ``replace`` it (a new uid)."""
    uid = body.item.get("item_uid")
    if not isinstance(uid, str):
        raise QueueError("the item to update needs the 'item_uid' of a queued item")
    item = manager.catalog.check_item(
        body.item, user=who.name, user_group=who.group, keep_uid=not body.replace
    )
    updated = manager.store.replace(uid, item)
    manager.changed()
    return {"success": True, "msg": "", "item": updated, "qsize": manager.store.queue_size()}


class ItemRemove(Empty):
    pos: Position | None = None
    uid: str | None = None


@router.post("/remove", response_model=Reply)
async def item_remove(
    body: ItemRemove = Body(default_factory=ItemRemove),
    manager: Manager = Depends(get_manager),
    _: Principal = Security(authenticated, scopes=_EDIT),
) -> dict[str, Any]:
    """Remove one queued item by ``uid`` or ``pos`` (default: the back)."""
    item = manager.store.remove(uid=body.uid, pos=body.pos)
    manager.changed()
    return {"success": True, "msg": "", "item": item, "qsize": manager.store.queue_size()}


class ItemRemoveBatch(Empty):
    uids: list[str]
    ignore_missing: StrictBool = True


@router.post("/remove/batch", response_model=Reply)
async def item_remove_batch(
    body: ItemRemoveBatch,
    manager: Manager = Depends(get_manager),
    _: Principal = Security(authenticated, scopes=_EDIT),
) -> dict[str, Any]:
    """Remove items together; unless ``ignore_missing``, one unknown uid removes none."""
    items = manager.store.remove_batch(body.uids, ignore_missing=body.ignore_missing)
    manager.changed()
    return {"success": True, "msg": "", "items": items, "qsize": manager.store.queue_size()}


class ItemMove(Empty, Destination):
    uid: str | None = None
    pos_dest: Position | None = None


@router.post("/move", response_model=Reply)
async def item_move(
    body: ItemMove,
    manager: Manager = Depends(get_manager),
    _: Principal = Security(authenticated, scopes=_EDIT),
) -> dict[str, Any]:
    """Move the item ``uid`` (or at ``pos``) to ``pos_dest``, or before/after another."""
    store = manager.store
    uid = body.uid if body.uid is not None else store.get(pos=body.pos)["item_uid"]
    if body.uid is not None and body.pos is not None:
        raise QueueError("give the item's uid or its position (pos), not both")
    where = Where(pos=body.pos_dest, before_uid=body.before_uid, after_uid=body.after_uid)
    if where.pos is None and where.neighbour is None:
        raise QueueError("give the destination: pos_dest, before_uid or after_uid")
    item = store.move(uid, where)
    manager.changed()
    return {"success": True, "msg": "", "item": item, "qsize": store.queue_size()}


class ItemMoveBatch(Empty, Destination):
    uids: list[str]
    pos_dest: Position | None = None
    reorder: StrictBool = False


@router.post("/move/batch", response_model=Reply)
async def item_move_batch(
    body: ItemMoveBatch,
    manager: Manager = Depends(get_manager),
    _: Principal = Security(authenticated, scopes=_EDIT),
) -> dict[str, Any]:
    """Move items together (in the order given, or queue order with ``reorder``)."""
    where = Where(pos=body.pos_dest, before_uid=body.before_uid, after_uid=body.after_uid)
    if where.pos is None and where.neighbour is None:
        raise QueueError("give the destination: pos_dest, before_uid or after_uid")
    items = manager.store.move_batch(body.uids, where, reorder=body.reorder)
    manager.changed()
    return {"success": True, "msg": "", "items": items, "qsize": manager.store.queue_size()}


class ItemExecute(UserInfo):
    item: Item


@router.post("/execute", response_model=Reply)
async def item_execute(
    body: ItemExecute,
    manager: Manager = Depends(get_manager),
    who: Principal = Security(authenticated, scopes=["write:execute"]),
) -> dict[str, Any]:
    """Run one item now, outside the queue (refused while something runs)."""
    item = manager.catalog.check_item(body.item, user=who.name, user_group=who.group)
    manager.item_execute(item)
    return {"success": True, "msg": "", "item": item, "qsize": manager.store.queue_size()}
