"""Turning the endpoint tables into routes.

The RPC routes are plain Starlette routes (no per-request dependency
resolution or model validation: this is the hot path); their OpenAPI
description is built from the same tables by :mod:`headwater_server.openapi`.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any, Callable

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from headwater.events import current_actor
from headwater.exceptions import HeadwaterError

from headwater_server.render import JSONResponse
from headwater_server.routes.tracking import ENDPOINTS, Endpoint
from headwater_server.wire import BodyTooLarge, Params, read_params

log = logging.getLogger("headwater.server")

API_ROOTS = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")


def error_response(err: HeadwaterError) -> Response:
    status = 413 if isinstance(err, BodyTooLarge) else err.http_status
    return JSONResponse(err.to_dict(), status_code=status)


def internal_error(exc: BaseException) -> Response:
    log.error("unhandled error", exc_info=exc)
    return JSONResponse(
        {"error_code": "INTERNAL_ERROR", "message": f"Internal server error ({type(exc).__name__})"},
        status_code=500,
    )


def validation_error(exc: ValidationError) -> Response:
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return JSONResponse({"error_code": "INVALID_PARAMETER_VALUE", "message": problems}, status_code=400)


def request_actor(request: Request) -> str | None:
    """The user named by HTTP Basic credentials, if any (checking them is an auth plugin's job)."""
    header = request.headers.get("authorization")
    if not header or not header[:6].lower() == "basic ":
        return None
    try:
        user, _, _ = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return user or None


def _call(handler: Callable[[Any, Params], dict[str, Any]], ctx: Any, params: Params, actor: str | None) -> dict[str, Any]:
    token = current_actor.set(actor)
    try:
        return handler(ctx, params)
    finally:
        current_actor.reset(token)


def rpc_endpoint(ep: Endpoint, ctx: Any) -> Callable[[Request], Any]:
    limit = ctx.state.max_request_bytes
    handler, repeated = ep.handler, ep.repeated

    async def endpoint(request: Request) -> Response:
        try:
            params = await read_params(request, repeated, limit)
            # An authentication plugin has set the actor already; else the Basic user name, if any.
            actor = current_actor.get() or request_actor(request)
            result = await run_in_threadpool(_call, handler, ctx, params, actor)
        except HeadwaterError as err:
            return error_response(err)
        except ValidationError as exc:
            return validation_error(exc)
        except Exception as exc:
            return internal_error(exc)
        return JSONResponse(result)

    endpoint.__name__ = ep.handler.__name__
    return endpoint


def tracking_routes(ctx: Any, static_prefix: str = "") -> list[Route]:
    routes = []
    for root in API_ROOTS:
        for ep in ENDPOINTS:
            routes.append(Route(f"{static_prefix}{root}/{ep.path}", rpc_endpoint(ep, ctx), methods=list(ep.methods)))
    return routes
