"""Serving the UI: ``<prefix>/`` is the page, ``<prefix>/static-files/…`` its assets.

The page names its assets under a version segment (``static-files/<version>/js/main.js``,
the version being a digest of the files), so browsers may keep them for good
and an upgrade can never mix old and new modules; the page itself is always
revalidated. Unversioned asset paths still work, uncached.

Only these two paths are taken, so unknown API routes still answer 404 and
wrong methods 405 as the REST API promises. Every UI response carries a
Content-Security-Policy that allows scripts, styles and connections from this
origin only (no inline script, no eval), and artifacts are shown as text or
images fetched from the server's artifact routes, which send types that
cannot run.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
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


def asset_version(directory: Path = STATIC_DIR) -> str:
    """A digest of every asset's path and content: it changes whenever any of them does."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(path.relative_to(directory).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


class _SecuredStaticFiles(StaticFiles):
    """Static files with the UI's security headers; versioned paths are cached for good."""

    def __init__(self, version: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.version_prefix = f"/{version}/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Under a Mount the path is whole and root_path holds the mount's part.
        path, root = scope.get("path", ""), scope.get("root_path", "")
        route = path[len(root):] if root and path.startswith(root) else path
        versioned = route.startswith(self.version_prefix)
        if versioned:
            scope = {**scope, "path": path[: len(path) - len(route)] + route[len(self.version_prefix) - 1:]}
        caching = "public, max-age=31536000, immutable" if versioned else "no-cache"

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                headers += [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                headers.append((b"cache-control", caching.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await super().__call__(scope, receive, send_with_headers)


def install_pages(app) -> None:
    prefix = getattr(app.state, "static_prefix", "") or ""
    version = asset_version()
    page = (STATIC_DIR / "index.html").read_text(encoding="utf-8").replace('"static-files/', f'"static-files/{version}/')

    async def index(request: Request) -> Response:
        # Revalidated on every load so an upgraded server never serves a stale page.
        return HTMLResponse(page, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})

    routes = app.router.routes
    routes.append(Route(f"{prefix}/", index, methods=["GET", "HEAD"], include_in_schema=False))
    if prefix:
        async def to_index(request: Request) -> Response:
            return RedirectResponse(f"{prefix}/", status_code=307)

        routes.append(Route(prefix, to_index, methods=["GET", "HEAD"], include_in_schema=False))
    static = _SecuredStaticFiles(version, directory=STATIC_DIR)
    routes.append(Mount(f"{prefix}/static-files", app=static, name="ui-static"))
