"""``/api/queue/list/...``: named plan lists (bluesky-queueserver#303): save the queue, a
selection of it or of history under a name, and load it back into the queue later.

Loading checks every item against today's plans and devices (a plan may have changed
since), gives each a new uid and adds them all or none.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Body

from .._records import clean_item
from .._store import QueueError, QueueStore, Where
from ._deps import Call, allow, ok
from ._models import Destination, Empty, Reply

router = APIRouter(prefix="/api/queue/list", tags=["plan lists"])


class ListSave(Empty):
    name: str
    source: Literal["queue", "history"] = "queue"
    #: the items to save (default: all of the source), in the source's order
    uids: list[str] | None = None


@router.post("/save", response_model=Reply)
async def list_save(
    body: ListSave,
    call: Call = allow("write:queue:edit"),
) -> dict[str, Any]:
    """Save the queue or history (or the items ``uids`` of it) as list ``name``."""

    def save(store: QueueStore) -> int:
        items = store.queue() if body.source == "queue" else store.history()
        if body.uids is not None:
            by_uid = {item["item_uid"]: item for item in items}
            missing = [uid for uid in body.uids if uid not in by_uid]
            if missing:
                raise QueueError(f"no item(s) {', '.join(map(repr, missing))} in the {body.source}")
            items = [by_uid[uid] for uid in body.uids]
        store.list_save(body.name, [clean_item(item) for item in items])
        return len(items)

    size = await call.io(save)
    call.manager.changed()
    return ok(name=body.name, size=size)


class ListLoad(Empty, Destination):
    name: str


@router.post("/load", response_model=Reply)
async def list_load(
    body: ListLoad,
    call: Call = allow("write:queue:edit"),
) -> dict[str, Any]:
    """Add list ``name``'s items to the queue (at ``pos``, ``before_uid``, ``after_uid``)."""
    saved = await call.io(lambda store: store.list_load(body.name))
    items: list[dict[str, Any]] = []
    problems: list[str] = []
    for n, item in enumerate(saved):
        try:
            items.append(call.check_item(item))
        except QueueError as exc:
            problems.append(f"item {n}: {exc}")
    if problems:
        raise QueueError(
            f"list {body.name!r} no longer fits this profile, nothing added: " + "; ".join(problems)
        )
    where = Where(pos=body.pos, before_uid=body.before_uid, after_uid=body.after_uid)
    added, size = await call.io(lambda store: (store.add_batch(items, where), store.queue_size()))
    call.manager.changed(edited=True)
    return ok(items=added, qsize=size)


@router.get("/names", response_model=Reply)
async def list_names(
    body: Empty = Body(default_factory=Empty),
    call: Call = allow("read:queue"),
) -> dict[str, Any]:
    """The names of the saved lists."""
    revision, names = await call.io(lambda store: (store.revisions().lists, store.list_names()))
    return {"names": names, "plan_lists_uid": f"l{revision}"}


class ListName(Empty):
    name: str


@router.get("/get", response_model=Reply)
async def list_get(
    body: ListName,
    call: Call = allow("read:queue"),
) -> dict[str, Any]:
    """The items of list ``name``."""
    return {"name": body.name, "items": await call.io(lambda store: store.list_load(body.name))}


@router.post("/delete", response_model=Reply)
async def list_delete(
    body: ListName,
    call: Call = allow("write:queue:edit"),
) -> dict[str, Any]:
    """Delete list ``name``."""
    await call.io(lambda store: store.list_delete(body.name))
    call.manager.changed()
    return ok()
