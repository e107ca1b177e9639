"""The OpenAPI document at ``/openapi.json``.

FastAPI describes the routes declared the FastAPI way (the artifact proxy,
server extensions); the RPC routes, which are plain Starlette routes for
speed, are described from the same endpoint table that builds them, with the
models of :mod:`headwater_server.schemas`. GET endpoints are documented with
query parameters, the others with a JSON body. The ``/ajax-api/`` copies of
the routes are left out of the document.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from headwater_server import schemas
from headwater_server.routes.tracking import ENDPOINTS

_REF = "#/components/schemas/{model}"
_LENIENCY = (
    "Requests follow MLflow's REST API. Leniencies for MLflow's clients: every scalar may be sent"
    " as a string (\"0.5\", \"1e+05\", \"Inf\", \"TRUE\"), camelCase field names are accepted,"
    " unknown fields are ignored, `run_uuid` may stand for `run_id`, and read endpoints also"
    " accept POST with a JSON body. Every route is also served under `/ajax-api/` instead of"
    " `/api/`. Errors are JSON objects `{error_code, message}`."
)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(model=name)}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _query_parameters(schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", ()))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def build_openapi(app: Any, static_prefix: str = "") -> dict[str, Any]:
    from fastapi.openapi.utils import get_openapi

    from headwater import __version__
    from headwater_server.routes.meta import MLFLOW_COMPATIBLE_VERSION

    document = get_openapi(
        title="Headwater tracking server",
        version=__version__,
        description=f"MLflow {MLFLOW_COMPATIBLE_VERSION} compatible REST API. {_LENIENCY}",
        routes=[r for r in app.routes if "/ajax-api/" not in getattr(r, "path", "")],
    )
    models: list[type[BaseModel]] = [schemas.ErrorResponse, schemas.ServerInfo]
    for ep in ENDPOINTS:
        for name in (ep.request_doc, ep.response_doc):
            if name:
                models.append(getattr(schemas, name))
    _, defs = models_json_schema([(m, "validation") for m in dict.fromkeys(models)], ref_template=_REF)
    component_schemas = document.setdefault("components", {}).setdefault("schemas", {})
    component_schemas.update(defs.get("$defs", {}))

    error = _json("ErrorResponse", "An error: `error_code` is an MLflow error code name")
    paths = document.setdefault("paths", {})
    for path, operations in paths.items():
        for method, op in operations.items():
            _describe_errors(path, method, op, error)
    for ep in ENDPOINTS:
        operations: dict[str, Any] = {}
        tag = ep.path.split("/", 1)[0]
        for method in ep.methods:
            op: dict[str, Any] = {
                "summary": ep.summary,
                "operationId": f"{method.lower()}_{ep.path.replace('/', '_').replace('-', '_')}",
                "tags": [tag],
                "responses": {"200": _json(ep.response_doc, "Success"), "default": error},
            }
            if method == "GET" and ep.request_doc:
                op["parameters"] = _query_parameters(component_schemas[ep.request_doc])
            elif ep.request_doc:
                op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(ep.request_doc)}}}
            operations[method.lower()] = op
        paths[f"{static_prefix}/api/2.0/mlflow/{ep.path}"] = operations

    _describe_other_routes(app, paths, error)

    text = {"200": {"description": "Success", "content": {"text/plain": {"schema": {"type": "string"}}}}}
    paths[f"{static_prefix}/health"] = {"get": {"summary": "Liveness: answers OK", "operationId": "health",
                                                "tags": ["server"], "responses": text}}
    paths[f"{static_prefix}/version"] = {"get": {"summary": "The MLflow API version served (PEP 440)",
                                                 "operationId": "version", "tags": ["server"], "responses": text}}
    paths[f"{static_prefix}/api/3.0/mlflow/server-info"] = {
        "get": {"summary": "Server capabilities", "operationId": "server_info", "tags": ["server"],
                "responses": {"200": _json("ServerInfo", "Success")}}
    }
    return document


def _describe_errors(path: str, method: str, op: dict[str, Any], error: dict[str, Any]) -> None:
    """Routes declared the FastAPI way answer errors as JSON ``{error_code, message}``.

    Their request validation errors are answered 400 (see the app's handlers),
    never 422, and an artifact download is the file's bytes in any media type.
    """
    responses = op.setdefault("responses", {})
    responses.pop("422", None)
    responses.setdefault("default", error)
    if "{" in path:
        responses.setdefault("404", _not_found(error))
    if method == "get" and path.endswith("/artifacts/{artifact_path}"):
        responses["200"] = {"description": "The file's bytes",
                            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}}


def _describe_other_routes(app: Any, paths: dict[str, Any], error: dict[str, Any]) -> None:
    """Plain Starlette routes no table above describes (added by other modules): listed loosely.

    Each gets its path parameters, a JSON or binary success answer and the
    JSON error answer, so the document still names every API route.
    """
    from starlette.routing import Route

    for route in app.routes:
        path = getattr(route, "path_format", "")  # "{key}" where the route pattern says "{key:path}"
        if type(route) is not Route or "/ajax-api/" in path or path in paths or "/api/" not in path:
            continue
        doc = (route.endpoint.__doc__ or route.name or path).strip().splitlines()[0]
        parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                      for name in route.param_convertors]
        success = {"description": "Success", "content": {"application/json": {"schema": {"type": "object"}},
                                                         "*/*": {"schema": {"type": "string", "format": "binary"}}}}
        operations = {}
        for method in sorted((route.methods or set()) - {"HEAD"}):
            op: dict[str, Any] = {
                "summary": doc,
                "operationId": f"{method.lower()}_{path.strip('/').replace('/', '_').replace('-', '_').replace('{', '').replace('}', '')}",
                "tags": ["other"],
                "responses": {"200": success, "default": error},
            }
            if parameters:
                op["parameters"] = parameters
                op["responses"]["404"] = _not_found(error)
            operations[method.lower()] = op
        paths[path] = operations


def _not_found(error: dict[str, Any]) -> dict[str, Any]:
    """404 of a route with path parameters: a JSON error, or plain text for a path no
    route pattern matches (one holding a newline, say), which is an unknown route."""
    return {"description": "Not found (JSON), or no such route (text)",
            "content": {**error["content"], "text/plain": {"schema": {"type": "string"}}}}
