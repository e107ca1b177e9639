"""Health, version and capability endpoints.

``/version`` answers with the MLflow version whose REST API this server
speaks, not Headwater's own: MLflow's Python client parses it as a PEP 440
version and gates features on it (span logging needs at least 3.4).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from headwater_server.render import JSONResponse

# The MLflow release whose REST API (spec/rest-api.md) this server emulates.
MLFLOW_COMPATIBLE_VERSION = "3.18.0"


def meta_routes(ctx: Any, static_prefix: str = "") -> list[Route]:
    state = ctx.state

    async def health(request: Request) -> Response:
        return PlainTextResponse("OK")

    async def version(request: Request) -> Response:
        return PlainTextResponse(MLFLOW_COMPATIBLE_VERSION)

    async def server_info(request: Request) -> Response:
        return JSONResponse(state.server_info)

    routes = [
        Route(f"{static_prefix}/health", health, methods=["GET"]),
        Route(f"{static_prefix}/version", version, methods=["GET"]),
    ]
    for root in ("/api/3.0/mlflow", "/ajax-api/3.0/mlflow"):
        routes.append(Route(f"{static_prefix}{root}/server-info", server_info, methods=["GET"]))
    return routes
