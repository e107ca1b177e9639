"""The webhook REST endpoints (MLflow's, plus delivery history), under both API roots."""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from headwater.exceptions import HeadwaterError
from headwater_server.render import JSONResponse
from headwater_server.routes import API_ROOTS, error_response, internal_error

from headwater_webhooks.runtime import WebhookRuntime


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise HeadwaterError.invalid("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise HeadwaterError.invalid("The request body must be a JSON object.")
    return data


def _endpoint(work: Callable[[Request], Awaitable[Any]]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            return JSONResponse(await work(request))
        except HeadwaterError as err:
            return error_response(err)
        except Exception as exc:
            return internal_error(exc)

    endpoint.__name__ = work.__name__
    return endpoint


def webhook_routes(runtime: WebhookRuntime, static_prefix: str = "") -> list[Route]:
    store = runtime.store

    async def create_webhook(request: Request) -> Any:
        fields = await _body(request)
        await run_in_threadpool(runtime.check, fields)
        webhook = await run_in_threadpool(store.create, fields)
        runtime.forget_cache()
        return {"webhook": webhook.to_json()}

    async def list_webhooks(request: Request) -> Any:
        params = dict(request.query_params)
        if request.method == "POST":
            params.update(await _body(request))
        hooks, token = await run_in_threadpool(store.list, params.get("max_results"), params.get("page_token"))
        out: dict[str, Any] = {"webhooks": [w.to_json() for w in hooks]}
        if token:
            out["next_page_token"] = token
        return out

    async def webhook(request: Request) -> Any:
        webhook_id = request.path_params["webhook_id"]
        if request.method == "GET":
            return {"webhook": (await run_in_threadpool(store.get, webhook_id)).to_json()}
        if request.method == "DELETE":
            await run_in_threadpool(store.delete, webhook_id)
            runtime.forget_cache()
            return {}
        fields = await _body(request)
        fields.pop("webhook_id", None)
        await run_in_threadpool(runtime.check, fields)
        updated = await run_in_threadpool(store.update, webhook_id, fields)
        runtime.forget_cache()
        return {"webhook": updated.to_json()}

    async def test_webhook(request: Request) -> Any:
        fields = await _body(request)
        outcome = await run_in_threadpool(runtime.test, request.path_params["webhook_id"], fields.get("event"))
        result: dict[str, Any] = {"success": outcome.success}
        if outcome.response_status is not None:
            result["response_status"] = outcome.response_status
        if outcome.response_body:
            result["response_body"] = outcome.response_body
        if outcome.error and not outcome.success:
            result["error_message"] = outcome.error
        return {"result": result}

    async def webhook_deliveries(request: Request) -> Any:
        limit = request.query_params.get("max_results") or 100
        rows = await run_in_threadpool(store.deliveries, request.path_params["webhook_id"], int(limit))
        return {"deliveries": rows}

    routes = []
    for root in API_ROOTS:
        base = f"{static_prefix}{root}/webhooks"
        routes += [
            Route(base, _endpoint(create_webhook), methods=["POST"]),
            Route(base, _endpoint(list_webhooks), methods=["GET"]),
            Route(f"{base}/{{webhook_id}}", _endpoint(webhook), methods=["GET", "PATCH", "DELETE"]),
            Route(f"{base}/{{webhook_id}}/test", _endpoint(test_webhook), methods=["POST"]),
            Route(f"{base}/{{webhook_id}}/deliveries", _endpoint(webhook_deliveries), methods=["GET"]),
        ]
    return routes
