"""``/api/queue/item/...``: add (one or a batch), get, update, move, remove, execute items.

Items are checked against the plan's parameter schema before they enter the queue; a
refusal changes nothing and says which parameter is wrong.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body
from pydantic import StrictBool

from .._store import Item as StoredItem
from .._store import QueueError, QueueStore, Where
from ._deps import Call, allow, ok, reply
from ._models import Destination, Empty, Item, Position, Reply, UserInfo

router = APIRouter(prefix="/api/queue/item", tags=["queue items"])


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
    call: Call = allow("write:queue:edit"),
) -> dict[str, Any]:
    """Add one item (back by default; ``pos``, ``before_uid`` or ``after_uid``)."""
    item = call.check_item(body.item)
    where = _where(body)
    added, size = await call.io(lambda store: (store.add(item, where), store.queue_size()))
    call.manager.changed(edited=True)
    return ok(item=added, qsize=size)


class ItemAddBatch(UserInfo, Destination):
    items: list[Item]


@router.post("/add/batch", response_model=Reply)
async def item_add_batch(
    body: ItemAddBatch,
    call: Call = allow("write:queue:edit"),
) -> dict[str, Any]:
    """Add items together, in order: all of them, or none if any is refused (``results``
    then says which and why)."""
    labelled = [(f"item {n}", raw) for n, raw in enumerate(body.items)]
    return await add_all(call, labelled, _where(body), sent=body.items)


async def add_all(
    call: Call, labelled: list[tuple[str, Any]], where: Where, sent: list[Any]
) -> dict[str, Any]:
    """Check every ``(label, raw item)`` and add them all, or none if any is refused: the
    reply's ``results`` has one entry per item, its ``msg`` names the refused ones by
    label. A raw item may be a :class:`QueueError` already (a row that did not parse)."""
    checked: list[Item] = []
    results: list[dict[str, Any]] = []
    for label, raw in labelled:
        try:
            if isinstance(raw, QueueError):
                raise raw
            checked.append(call.check_item(raw))
            results.append({"success": True, "msg": ""})
        except QueueError as exc:
            results.append({"success": False, "msg": f"{label}: {exc}"})
    failed = [str(r["msg"]) for r in results if not r["success"]]
    if failed:
        return reply(
            success=False,
            msg=f"{len(failed)} of {len(labelled)} items refused, none added: "
            + "; ".join(failed[:5])
            + ("; ..." if len(failed) > 5 else ""),
            items=sent,
            results=results,
            qsize=await call.io(lambda store: store.queue_size()),
        )
    added, size = await call.io(lambda store: (store.add_batch(checked, where), store.queue_size()))
    call.manager.changed(edited=True)
    return ok(items=added, results=results, qsize=size)


class ItemSelect(Empty):
    pos: Position | None = None
    uid: str | None = None


@router.get("/get", response_model=Reply)
async def item_get(
    body: ItemSelect = Body(default_factory=ItemSelect),
    call: Call = allow("read:queue"),
) -> dict[str, Any]:
    """One queued item by ``uid`` or ``pos`` (default: the back)."""
    return ok(item=await call.io(lambda store: store.get(uid=body.uid, pos=body.pos)))


class ItemUpdate(UserInfo):
    item: Item
    replace: StrictBool | None = None


@router.post("/update", response_model=Reply)
async def item_update(
    body: ItemUpdate,
    call: Call = allow("write:queue:edit"),
) -> dict[str, Any]:
    """Change a queued item in place (same uid), or ``replace`` it (a new uid)."""
    uid = body.item.get("item_uid")
    if not isinstance(uid, str):
        raise QueueError("the item to update needs the 'item_uid' of a queued item")
    await call.own(lambda store: [store.get(uid=uid)])
    item = call.check_item(body.item, keep_uid=not body.replace)
    updated, size = await call.io(lambda store: (store.replace(uid, item), store.queue_size()))
    call.manager.changed()
    return ok(item=updated, qsize=size)


class ItemRemove(Empty):
    pos: Position | None = None
    uid: str | None = None


@router.post("/remove", response_model=Reply)
async def item_remove(
    body: ItemRemove = Body(default_factory=ItemRemove),
    call: Call = allow("write:queue:edit"),
) -> dict[str, Any]:
    """Remove one queued item by ``uid`` or ``pos`` (default: the back)."""
    await call.own(lambda store: [store.get(uid=body.uid, pos=body.pos)])
    item, size = await call.io(
        lambda store: (store.remove(uid=body.uid, pos=body.pos), store.queue_size())
    )
    call.manager.changed()
    return ok(item=item, qsize=size)


class ItemRemoveBatch(Empty):
    uids: list[str]
    ignore_missing: StrictBool = True


@router.post("/remove/batch", response_model=Reply)
async def item_remove_batch(
    body: ItemRemoveBatch,
    call: Call = allow("write:queue:edit"),
) -> dict[str, Any]:
    """Remove items together; unless ``ignore_missing``, one unknown uid removes none."""
    uids = set(body.uids)
    await call.own(lambda store: [it for it in store.queue() if it["item_uid"] in uids])
    items, size = await call.io(
        lambda store: (
            store.remove_batch(body.uids, ignore_missing=body.ignore_missing),
            store.queue_size(),
        )
    )
    call.manager.changed()
    return ok(items=items, qsize=size)


class ItemMove(Empty, Destination):
    uid: str | None = None
    pos_dest: Position | None = None


@router.post("/move", response_model=Reply)
async def item_move(
    body: ItemMove,
    call: Call = allow("write:queue:edit"),
) -> dict[str, Any]:
    """Move the item ``uid`` (or at ``pos``) to ``pos_dest``, or before/after another."""
    if body.uid is not None and body.pos is not None:
        raise QueueError("give the item's uid or its position (pos), not both")
    where = Where(pos=body.pos_dest, before_uid=body.before_uid, after_uid=body.after_uid)
    if where.pos is None and where.neighbour is None:
        raise QueueError("give the destination: pos_dest, before_uid or after_uid")

    def move(store: QueueStore) -> tuple[StoredItem, int]:
        uid = body.uid if body.uid is not None else store.get(pos=body.pos)["item_uid"]
        return store.move(uid, where), store.queue_size()

    item, size = await call.io(move)
    call.manager.changed()
    return ok(item=item, qsize=size)


class ItemMoveBatch(Empty, Destination):
    uids: list[str]
    pos_dest: Position | None = None
    reorder: StrictBool = False


@router.post("/move/batch", response_model=Reply)
async def item_move_batch(
    body: ItemMoveBatch,
    call: Call = allow("write:queue:edit"),
) -> dict[str, Any]:
    """Move items together (in the order given, or queue order with ``reorder``)."""
    where = Where(pos=body.pos_dest, before_uid=body.before_uid, after_uid=body.after_uid)
    if where.pos is None and where.neighbour is None:
        raise QueueError("give the destination: pos_dest, before_uid or after_uid")
    items, size = await call.io(
        lambda store: (
            store.move_batch(body.uids, where, reorder=body.reorder),
            store.queue_size(),
        )
    )
    call.manager.changed()
    return ok(items=items, qsize=size)


class ItemExecute(UserInfo):
    item: Item


@router.post("/execute", response_model=Reply)
async def item_execute(
    body: ItemExecute,
    call: Call = allow("write:execute"),
) -> dict[str, Any]:
    """Run one item now, outside the queue (refused while something runs)."""
    item = call.check_item(body.item)
    call.manager.item_execute(item)
    return ok(item=item, qsize=await call.io(lambda store: store.queue_size()))
