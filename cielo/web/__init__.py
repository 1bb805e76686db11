"""cielo's web application, served at ``/`` by ``cielo serve`` beside its HTTP API.

The application is built from ``cielo/web/frontend`` (Vite + React + TypeScript) into
``cielo/web/static`` by ``scripts/build_web.sh``; the built files ship inside the package,
so serving them needs no Node.js. The server's app factory calls :func:`mount_web` once,
after its API routes::

    from cielo.web import mount_web

    def build_app(settings):
        app = FastAPI()
        app.include_router(api_router, prefix="/api")
        mount_web(app)
        return app
"""

from cielo.web._mount import STATIC_DIR, mount_web

__all__ = ["STATIC_DIR", "mount_web"]
