"""Environment reload: the profile and its plugins read again, the queue kept."""

from __future__ import annotations

import time

from ._manager import Manager
from ._plans import load_catalog_afresh
from ._store import QueueError

__all__ = ["reload_environment"]


async def reload_environment(manager: Manager) -> list[str]:
    """Read the profile's plans and devices again (its files and plugin modules, in
    a new process) and check the permissions file against them; if both are sound,
    close the worker and reopen it on them. A profile that does not load is refused
    with the worker untouched. The queue, history and proposals stay. Returns the
    queued items that no longer fit (they stay queued, and fail if run unedited)."""
    if manager.store.running() is not None or manager.queue_running:
        raise QueueError("an item is running; reload when the queue is idle (queue_stop)")
    catalog = await load_catalog_afresh(manager.settings.profile, manager.settings.open_timeout)
    permissions = manager.permissions_for(catalog)
    if manager.env_state != "closed":
        await manager.environment_close()
        deadline = time.monotonic() + manager.settings.open_timeout
        while manager.env_state != "closed":
            if time.monotonic() > deadline:
                raise QueueError("the environment did not close; destroy it, then reload")
            await manager.wait_change(0.5)
        await manager.standby.discard()  # started before the files changed: a fresh one
        await manager.environment_open()
    manager.catalog, manager.permissions = catalog, permissions
    stale = []
    for item in manager.store.queue():
        if item.get("item_type") == "plan":
            try:
                catalog.check_parameters(item["name"], item["args"], item["kwargs"])
            except QueueError as exc:
                stale.append(f"{item['item_uid']}: {exc}")
    manager.changed()
    return stale
