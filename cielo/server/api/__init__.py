"""The HTTP API's routers, one module per resource, and what they share."""

from . import catalog, control, environment, history, items, lists, queue, runs, status, stream

#: The routers in the order the OpenAPI document lists them.
ROUTERS = (
    status.router,
    queue.router,
    items.router,
    lists.router,
    history.router,
    environment.router,
    control.router,
    catalog.router,
    runs.router,
    stream.router,
)

__all__ = ["ROUTERS"]
