"""Alert rule endpoints: ``/api/2.0/headwater/alerts`` (and under ``/ajax-api``)."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from headwater.exceptions import HeadwaterError
from headwater.search.errors import SearchSyntaxError
from headwater_server.render import JSONResponse
from headwater_server.routes import error_response, internal_error
from headwater_webhooks.api import _body, _endpoint

from headwater_alerts.rules import AlertEngine

ROOTS = ("/api/2.0/headwater", "/ajax-api/2.0/headwater")


def alert_routes(engine: AlertEngine, static_prefix: str = "") -> list[Route]:
    async def create_alert(request: Request) -> Response:
        try:
            rule = await run_in_threadpool(engine.create, await _body(request))
        except SearchSyntaxError as err:
            # The position goes back too, so a client can point at the mistake.
            return JSONResponse({**err.to_dict(), "position": err.position}, status_code=400)
        except HeadwaterError as err:
            return error_response(err)
        except Exception as exc:
            return internal_error(exc)
        return JSONResponse({"alert": rule.to_json()})

    async def list_alerts(request: Request) -> Any:
        return {"alerts": [r.to_json() for r in await run_in_threadpool(engine.list)]}

    async def alert(request: Request) -> Any:
        rule_id = request.path_params["rule_id"]
        if request.method == "DELETE":
            await run_in_threadpool(engine.delete, rule_id)
            return {}
        rule = await run_in_threadpool(engine.get, rule_id)
        return {"alert": rule.to_json(), "firings": await run_in_threadpool(engine.firings, rule_id)}

    routes = []
    for root in ROOTS:
        base = f"{static_prefix}{root}/alerts"
        routes += [
            Route(base, _endpoint(list_alerts), methods=["GET"]),
            Route(base, create_alert, methods=["POST"]),
            Route(f"{base}/{{rule_id}}", _endpoint(alert), methods=["GET", "DELETE"]),
        ]
    return routes
