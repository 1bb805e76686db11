"""Serve the built web application from an ASGI app (Starlette or FastAPI)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cielo.web._build import REBUILD, STATIC_DIR

if TYPE_CHECKING:
    from starlette.applications import Starlette

#: Paths that never fall back to the application's index.html (they are the API's).
API_PREFIX = "api"


def mount_web(app: Starlette, static_dir: Path | str = STATIC_DIR) -> None:
    """Serve the web application at ``/`` of ``app``.

    Files of the build are served as they are (``/assets/...`` are content-hashed, so
    they are cached for a year; everything else is revalidated); any other path outside
    ``/api`` answers the application's ``index.html``, whose client-side router draws the
    page (``/history``, ``/environment``...). Call it after the API routes are added: the
    catch-all route must come last.

    :raises FileNotFoundError: ``static_dir`` holds no built application; the message
        names the command that builds it.
    """
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import FileResponse, Response

    root = Path(static_dir).resolve()
    index = root / "index.html"
    if not index.is_file():
        raise FileNotFoundError(
            f"no built web application in {root} (index.html is missing); build it with "
            f"{REBUILD} (needs Node.js), or install a cielo wheel, which ships it"
        )

    async def serve(request: Request) -> Response:
        path = request.path_params["path"]
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            raise HTTPException(status_code=404, detail=f"no API endpoint /{path}")
        target = (root / path).resolve()
        if path and target.is_file() and target.is_relative_to(root):
            immutable = target.parent == root / "assets"
            cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
            return FileResponse(target, headers={"Cache-Control": cache})
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    app.add_route("/{path:path}", serve, methods=["GET", "HEAD"], include_in_schema=False)
