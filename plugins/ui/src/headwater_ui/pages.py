"""Serving the UI: ``<prefix>/`` is the page, ``<prefix>/static-files/…`` its assets.

Only these two paths are taken, so unknown API routes still answer 404 and
wrong methods 405 as the REST API promises. Every UI response carries a
Content-Security-Policy that allows scripts, styles and connections from this
origin only (no inline script, no eval), and artifacts are shown as text or
images fetched from the server's artifact routes, which send types that
cannot run.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

STATIC_DIR = Path(__file__).parent / "static"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class _SecuredStaticFiles(StaticFiles):
    """Static files with the UI's security headers on every answer."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await super().__call__(scope, receive, send_with_headers)


def install_pages(app) -> None:
    prefix = getattr(app.state, "static_prefix", "") or ""

    async def index(request: Request) -> Response:
        # Revalidated on every load so an upgraded server never serves a stale page.
        return FileResponse(STATIC_DIR / "index.html", headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})

    routes = app.router.routes
    routes.append(Route(f"{prefix}/", index, methods=["GET", "HEAD"], include_in_schema=False))
    if prefix:
        async def to_index(request: Request) -> Response:
            return RedirectResponse(f"{prefix}/", status_code=307)

        routes.append(Route(prefix, to_index, methods=["GET", "HEAD"], include_in_schema=False))
    routes.append(Mount(f"{prefix}/static-files", app=_SecuredStaticFiles(directory=STATIC_DIR), name="ui-static"))
