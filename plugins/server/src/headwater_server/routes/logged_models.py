"""The logged-model RPCs of MLflow 3 (spec/rest-api.md §4.1).

MLflow's Python client needs them for ``log_model`` and for loading
``runs:/<run>/<name>`` and ``models:/<model_id>`` URIs. Unlike the other
RPCs, several carry the model id (and a tag key) in the path. The store
calls are the optional logged-model methods of the tracking store; a store
without them answers NOT_IMPLEMENTED (501).
"""

from __future__ import annotations

from typing import Any, Callable

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from headwater.entities import LoggedModel, LoggedModelStatus
from headwater.exceptions import HeadwaterError
from headwater.store.artifacts import safe_relative_path

from headwater_server import render
from headwater_server.artifact_roots import repository_for
from headwater_server.routes import API_ROOTS, error_response, internal_error, validation_error
from headwater_server.wire import Params, read_params

Handler = Callable[[Any, Params, dict[str, str]], dict[str, Any]]


def logged_model(model: LoggedModel) -> dict[str, Any]:
    """A LoggedModel as MLflow renders it: unset fields and empty lists left out."""
    info: dict[str, Any] = {
        "model_id": model.model_id,
        "experiment_id": model.experiment_id,
        "name": model.name,
        "creation_timestamp_ms": model.creation_timestamp,
        "last_updated_timestamp_ms": model.last_updated_timestamp,
        "artifact_uri": model.artifact_uri,
        "status": model.status.value,
    }
    for key in ("model_type", "source_run_id", "status_message"):
        value = getattr(model, key)
        if value:
            info[key] = value
    if model.tags:
        info["tags"] = render.key_values(model.tags)
    data: dict[str, Any] = {}
    if model.params:
        data["params"] = render.key_values(model.params)
    if model.metrics:
        data["metrics"] = render.metrics(model.metrics)
    return {"info": info, "data": data}


def _pairs(p: Params, name: str) -> dict[str, str]:
    return {item.text("key", required=True): item.text("value") or "" for item in p.objects(name)}  # type: ignore[misc]


def _status(p: Params) -> LoggedModelStatus:
    value = p.data.get("status")
    if value in (None, ""):
        raise HeadwaterError.invalid("Missing value for required parameter 'status'.")
    return LoggedModelStatus.parse(value)


# -- handlers ------------------------------------------------------------------------------
def create(ctx: Any, p: Params, path: dict[str, str]) -> dict[str, Any]:
    from headwater_server.routes.tracking import _experiment_id

    model = ctx.tracking.create_logged_model(
        _experiment_id(p),
        name=p.text("name"),  # "" is refused by the store, not turned into a random name
        source_run_id=p.text("source_run_id") or None,
        tags=_pairs(p, "tags"),
        params=_pairs(p, "params"),
        model_type=p.text("model_type") or None,
    )
    return {"model": logged_model(model)}


def get(ctx: Any, p: Params, path: dict[str, str]) -> dict[str, Any]:
    allow_deleted = bool(p.flag("allow_deleted", default=False))
    return {"model": logged_model(ctx.tracking.get_logged_model(path["model_id"], allow_deleted))}


def finalize(ctx: Any, p: Params, path: dict[str, str]) -> dict[str, Any]:
    return {"model": logged_model(ctx.tracking.finalize_logged_model(path["model_id"], _status(p)))}


def delete(ctx: Any, p: Params, path: dict[str, str]) -> dict[str, Any]:
    ctx.tracking.delete_logged_model(path["model_id"])
    return {}


def search(ctx: Any, p: Params, path: dict[str, str]) -> dict[str, Any]:
    experiment_ids = p.texts("experiment_ids", required=True, numbers_ok=True)
    order_by = [
        {"field_name": item.text("field_name", required=True), "ascending": item.flag("ascending", default=True),
         "dataset_name": item.text("dataset_name"), "dataset_digest": item.text("dataset_digest")}
        for item in p.objects("order_by")
    ]
    datasets = [
        {"dataset_name": item.text("dataset_name", required=True), "dataset_digest": item.text("dataset_digest")}
        for item in p.objects("datasets")
    ]
    page = ctx.tracking.search_logged_models(
        experiment_ids,
        filter_string=p.text("filter") or None,
        datasets=datasets or None,
        max_results=p.integer("max_results"),
        order_by=order_by or None,
        page_token=p.text("page_token") or None,
    )
    return render.page("models", [logged_model(m) for m in page.items], page.token)


def set_tags(ctx: Any, p: Params, path: dict[str, str]) -> dict[str, Any]:
    ctx.tracking.set_logged_model_tags(path["model_id"], _pairs(p, "tags"))
    return {}


def delete_tag(ctx: Any, p: Params, path: dict[str, str]) -> dict[str, Any]:
    ctx.tracking.delete_logged_model_tag(path["model_id"], path["key"])
    return {}


def log_params(ctx: Any, p: Params, path: dict[str, str]) -> dict[str, Any]:
    ctx.tracking.log_logged_model_params(path["model_id"], _pairs(p, "params"))
    return {}


def list_directories(ctx: Any, p: Params, path: dict[str, str]) -> dict[str, Any]:
    model = ctx.tracking.get_logged_model(path["model_id"])
    raw = p.text("artifact_directory_path")
    try:
        relative = safe_relative_path(raw) if raw else ""
    except HeadwaterError:
        raise HeadwaterError.invalid("Invalid path") from None
    files = repository_for(ctx.state, model.artifact_uri).list_artifacts(relative or None)
    out: dict[str, Any] = {"root_uri": model.artifact_uri}
    if files:
        out["files"] = [render.file_info(f) for f in files]
    return out


# (path under the API root, methods, handler); specific paths before the {model_id} catch-all.
ROUTES: tuple[tuple[str, tuple[str, ...], Handler], ...] = (
    ("logged-models", ("POST",), create),
    ("logged-models/search", ("POST",), search),
    ("logged-models/{model_id}/tags", ("PATCH",), set_tags),
    ("logged-models/{model_id}/tags/{key:path}", ("DELETE",), delete_tag),
    ("logged-models/{model_id}/params", ("POST",), log_params),
    ("logged-models/{model_id}/artifacts/directories", ("GET",), list_directories),
    ("logged-models/{model_id}", ("GET",), get),
    ("logged-models/{model_id}", ("PATCH",), finalize),
    ("logged-models/{model_id}", ("DELETE",), delete),
)


def _endpoint(handler: Handler, ctx: Any) -> Callable[[Request], Any]:
    limit = ctx.state.max_request_bytes

    async def endpoint(request: Request) -> Response:
        try:
            params = await read_params(request, (), limit)
            path = dict(request.path_params)
            result = await run_in_threadpool(handler, ctx, params, path)
        except HeadwaterError as err:
            return error_response(err)
        except ValidationError as exc:
            return validation_error(exc)
        except Exception as exc:
            return internal_error(exc)
        return render.JSONResponse(result)

    endpoint.__name__ = handler.__name__
    return endpoint


def logged_model_routes(ctx: Any, static_prefix: str = "") -> list[Route]:
    routes = []
    for root in API_ROOTS:
        for path, methods, handler in ROUTES:
            routes.append(Route(f"{static_prefix}{root}/{path}", _endpoint(handler, ctx), methods=list(methods)))
    return routes
