"""Building the tracking server's ASGI application.

``create_app(...)`` takes the options of ``headwater server``; ``app_from_env()``
is the factory uvicorn workers call (settings arrive as environment
variables, see :mod:`headwater_server.config`). The server keeps no state of
its own beyond the store's connection pool, so any number of workers and
processes can serve one database.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any, AsyncIterator

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from headwater.exceptions import HeadwaterError, PluginError
from headwater.plugins.manager import HeadwaterPluginManager, make_plugin_manager
from headwater.tracking.service import TrackingService

from headwater_server.config import DEFAULT_BACKEND_STORE_URI, ServerConfig
from headwater_server.events import ClientContext, DurableEvents
from headwater_server.render import JSONResponse
from headwater_server.routes import error_response, internal_error, tracking_routes, validation_error
from headwater_server.routes.browsing import browsing_routes
from headwater_server.routes.logged_models import logged_model_routes
from headwater_server.routes.registry import registry_routes
from headwater_server.routes.meta import meta_routes

log = logging.getLogger("headwater.server")

ARTIFACT_ROOTS = ("/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts")

_STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    409: "RESOURCE_CONFLICT",
    413: "INVALID_PARAMETER_VALUE",
    429: "REQUEST_LIMIT_EXCEEDED",
    501: "NOT_IMPLEMENTED",
    503: "TEMPORARILY_UNAVAILABLE",
}


@dataclass(frozen=True)
class ServerContext:
    """What RPC handlers need: the evented tracking service and the app's state."""

    tracking: TrackingService
    state: Any


def create_app(
    backend_store_uri: str = DEFAULT_BACKEND_STORE_URI,
    registry_store_uri: str | None = None,
    default_artifact_root: str | None = None,
    serve_artifacts: bool = True,
    artifacts_destination: str | None = None,
    static_prefix: str = "",
    *,
    max_request_bytes: int | None = None,
    plugin_manager: HeadwaterPluginManager | None = None,
) -> FastAPI:
    """The tracking server application, with the options of ``headwater server``."""
    config = ServerConfig(
        backend_store_uri=backend_store_uri,
        registry_store_uri=registry_store_uri,
        default_artifact_root=default_artifact_root,
        serve_artifacts=serve_artifacts,
        artifacts_destination=artifacts_destination,
        static_prefix=static_prefix,
        **({"max_request_bytes": max_request_bytes} if max_request_bytes else {}),
    )
    return build_app(config, plugin_manager)


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory``: one app per worker process."""
    return build_app(ServerConfig.from_env())


def build_app(config: ServerConfig, plugin_manager: HeadwaterPluginManager | None = None) -> FastAPI:
    config = config.resolved()
    pm = plugin_manager or make_plugin_manager()
    store = pm.tracking_store(config.backend_store_uri, config.default_artifact_root)
    tracking = TrackingService(store)
    events = DurableEvents(pm)
    events.attach(store)
    prefix = config.static_prefix

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        events.start()
        yield
        events.stop()
        if plugin_manager is None:  # a manager we made is ours to close
            pm.close()

    app = FastAPI(
        title="Headwater tracking server",
        openapi_url=f"{prefix}/openapi.json",
        docs_url=f"{prefix}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    state = app.state
    state.config = config
    state.plugin_manager = pm
    state.store = store
    state.tracking = tracking
    state.events = events
    state.static_prefix = prefix
    state.default_artifact_root = config.default_artifact_root
    state.serve_artifacts = config.serve_artifacts
    state.artifacts_destination = config.artifacts_destination
    state.registry_store_uri = config.registry_store_uri or config.backend_store_uri
    state.max_request_bytes = config.max_request_bytes
    state.server_info = {
        "store_type": type(store).__name__,
        "artifact_serving_enabled": config.serve_artifacts,
        "workspaces_enabled": False,
        "multipart_uploads_enabled": False,
        "multipart_downloads_enabled": False,
        "artifacts_presigned_only": False,
    }

    ctx = ServerContext(tracking=tracking, state=state)
    app.router.routes.extend(tracking_routes(ctx, prefix))
    app.router.routes.extend(logged_model_routes(ctx, prefix))
    app.router.routes.extend(registry_routes(ctx, prefix))
    app.router.routes.extend(meta_routes(ctx, prefix))
    app.router.routes.extend(browsing_routes(ctx, prefix))
    _install_artifact_proxy(app, config, pm)
    _install_error_handlers(app)
    _install_extensions(app, pm)
    app.add_middleware(ClientContext)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from headwater_server.openapi import build_openapi

            app.openapi_schema = build_openapi(app, prefix)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _install_artifact_proxy(app: FastAPI, config: ServerConfig, pm: HeadwaterPluginManager) -> None:
    # Mounted even with serving off: its routes then answer 503, as MLflow's do.
    from headwater_server.artifacts import build_artifacts_router

    router = build_artifacts_router(config.artifacts_destination, pm, serve_artifacts=config.serve_artifacts)
    for root in ARTIFACT_ROOTS:
        app.include_router(router, prefix=f"{config.static_prefix}{root}", include_in_schema=root.startswith("/api/"))


def _install_extensions(app: FastAPI, pm: HeadwaterPluginManager) -> None:
    for extension, record in pm.server_extensions():
        try:
            extension.install(app)
        except Exception as exc:
            # Refuse to start rather than serve without, say, an auth extension.
            raise PluginError(
                f"Server extension {extension.name!r} of plugin {record.name!r} ({record.distribution})"
                f" failed to install: {type(exc).__name__}: {exc}"
            ) from exc


def _install_error_handlers(app: FastAPI) -> None:
    async def on_headwater_error(request: Request, exc: Exception) -> Response:
        return error_response(exc)  # type: ignore[arg-type]

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, ValidationError):
            return validation_error(exc)
        errors = exc.errors() if isinstance(exc, RequestValidationError) else []
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in errors)
        return JSONResponse({"error_code": "INVALID_PARAMETER_VALUE", "message": problems or str(exc)}, status_code=400)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code in (404, 405):
            # Unknown route or method: plain text, as MLflow's server answers (not JSON).
            return PlainTextResponse(str(exc.detail), status_code=exc.status_code, headers=exc.headers)
        code = _STATUS_CODES.get(exc.status_code, "INTERNAL_ERROR")
        return JSONResponse({"error_code": code, "message": str(exc.detail)}, status_code=exc.status_code,
                            headers=exc.headers)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        return internal_error(exc)

    app.add_exception_handler(HeadwaterError, on_headwater_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(ValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
