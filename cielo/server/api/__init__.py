"""The HTTP API's routers, one module per resource, and what they share."""

from . import (
    auth,
    catalog,
    control,
    environment,
    functions,
    history,
    items,
    lists,
    proposals,
    queue,
    runs,
    status,
    stream,
)
from ._fast import (
    FastAPIWithFastRoutes,
    FastRoutes,
    plain_routes,
)  # plain routes served without FastAPI's per-request work

#: The routers in the order the OpenAPI document lists them.
ROUTERS = (
    status.router,
    queue.router,
    items.router,
    proposals.router,
    lists.router,
    history.router,
    environment.router,
    control.router,
    catalog.router,
    functions.router,
    runs.router,
    stream.router,
    auth.router,
)


__all__ = ["ROUTERS", "FastAPIWithFastRoutes", "FastRoutes", "plain_routes"]
