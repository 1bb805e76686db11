"""Serve the built web application from an ASGI app (Starlette or FastAPI)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from cielo.web._build import REBUILD, STATIC_DIR

if TYPE_CHECKING:
    from starlette.applications import Starlette

#: Paths under this prefix are the API's: never answered with the application.
API_PREFIX = "/api"


def mount_web(app: Starlette, static_dir: Path | str = STATIC_DIR) -> None:
    """Serve the web application at ``/`` of ``app``, beside its API.

    Only requests that no route of ``app`` answers reach the application, so the API
    keeps its own answers (404 and 405 included), whenever this is called. A ``GET`` or
    ``HEAD`` outside ``/api`` gets the file of the build it names (``/assets/...`` are
    content-hashed, so they are cached for a year; other files are revalidated), else the
    application's ``index.html``, whose client-side router draws the page (``/history``,
    ``/environment``...).

    :raises FileNotFoundError: ``static_dir`` holds no built application; the message
        names the command that builds it.
    """
    from starlette.responses import FileResponse

    root = Path(static_dir).resolve()
    index = root / "index.html"
    if not index.is_file():
        raise FileNotFoundError(
            f"no built web application in {root} (index.html is missing); build it with "
            f"{REBUILD} (needs Node.js), or install a cielo wheel, which ships it"
        )
    not_found = app.router.default

    def response(path: str) -> FileResponse:
        target = (root / path.lstrip("/")).resolve()
        if target.is_file() and target.is_relative_to(root):
            immutable = target.parent == root / "assets"
            cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
            return FileResponse(target, headers={"Cache-Control": cache})
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    async def web_or_not_found(scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        is_api = path == API_PREFIX or path.startswith(API_PREFIX + "/")
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and not is_api:
            await response(path)(scope, receive, send)
        else:
            await not_found(scope, receive, send)

    app.router.default = web_or_not_found
