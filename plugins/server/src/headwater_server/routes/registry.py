"""The model-registry RPCs of MLflow's REST API (spec/rest-api.md §5).

Handlers go through a :class:`~headwater.registry.service.RegistryService`
(built on first use from ``--registry-store-uri``, default the backend store
URI), so registry changes raise events and every new version's source is
checked against the tracking store (spec/security.md §1).

``GET /model-versions/get-artifact`` serves one file of a version, as
MLflow's UI asks for it.

Forms MLflow's R client uses are accepted too: ``registered-models/search``
and the other reads by POST, ``registered-models/list`` (MLflow 1.x's
listing), ``get-latest-versions`` by GET, and every scalar as a string
(``"archive_existing_versions": "FALSE"``, ``"version": "3"``).
"""

from __future__ import annotations

import posixpath
import threading
from typing import Any, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from headwater.entities import ModelVersion, RegisteredModel
from headwater.exceptions import HeadwaterError
from headwater.registry import validation as rv
from headwater.registry.service import RegistryService

from headwater_server import items, render
from headwater_server.routes import API_ROOTS, error_response, internal_error, rpc_endpoint
from headwater_server.routes.tracking import Endpoint
from headwater_server.wire import Params, read_params

SEARCH_VERSIONS_DEFAULT = rv.SEARCH_MODEL_VERSIONS_LIMIT  # the proto default is also the cap

_lock = threading.Lock()


def registry(ctx: Any) -> RegistryService:
    """The server's registry service, built on the first registry request."""
    state = ctx.state
    service = getattr(state, "registry", None)
    if service is None:
        with _lock:
            service = getattr(state, "registry", None)
            if service is None:
                store = state.plugin_manager.registry_store(state.registry_store_uri)
                events = getattr(state, "events", None)
                if events is not None:
                    events.attach(store)
                service = state.registry = RegistryService(store, tracking=ctx.tracking, check_sources=True)
    return service


# -- rendering (spec/rest-api.md §3: unset fields and empty lists left out) ------------------
def model_version(mv: ModelVersion) -> dict[str, Any]:
    out: dict[str, Any] = {"name": mv.name, "version": str(mv.version)}
    for key in ("creation_timestamp", "last_updated_timestamp", "user_id", "current_stage", "description",
                "source", "run_id", "status", "status_message"):
        value = getattr(mv, key)
        if value is not None:
            out[key] = value
    if mv.tags:
        out["tags"] = render.key_values(mv.tags)
    if mv.run_link is not None:
        out["run_link"] = mv.run_link
    if mv.aliases:
        out["aliases"] = list(mv.aliases)
    if mv.model_id:
        out["model_id"] = mv.model_id
    return out


def registered_model(model: RegisteredModel) -> dict[str, Any]:
    out: dict[str, Any] = {"name": model.name}
    for key in ("creation_timestamp", "last_updated_timestamp", "user_id", "description"):
        value = getattr(model, key)
        if value is not None:
            out[key] = value
    if model.latest_versions:
        out["latest_versions"] = [model_version(mv) for mv in model.latest_versions]
    if model.tags:
        out["tags"] = render.key_values(model.tags)
    if model.aliases:
        out["aliases"] = [{"alias": alias, "version": str(version)} for alias, version in model.aliases.items()]
    return out


# -- request pieces -------------------------------------------------------------------------
def _name(p: Params) -> str:
    return p.text("name", required=True)  # type: ignore[return-value]


def _version(p: Params) -> str:
    return str(rv.parse_version(p.text("version", required=True, numbers_ok=True)))


def _tags(p: Params) -> list[tuple[str, str]]:
    return [(t.key, t.value) for t in items.tags(p)]


# -- registered models ------------------------------------------------------------------------
def create_registered_model(ctx: Any, p: Params) -> dict[str, Any]:
    model = registry(ctx).create_registered_model(_name(p), _tags(p), p.text("description"))
    return {"registered_model": registered_model(model)}


def rename_registered_model(ctx: Any, p: Params) -> dict[str, Any]:
    model = registry(ctx).rename_registered_model(_name(p), p.text("new_name", required=True))
    return {"registered_model": registered_model(model)}


def update_registered_model(ctx: Any, p: Params) -> dict[str, Any]:
    return {"registered_model": registered_model(registry(ctx).update_registered_model(_name(p), p.text("description")))}


def delete_registered_model(ctx: Any, p: Params) -> dict[str, Any]:
    registry(ctx).delete_registered_model(_name(p))
    return {}


def get_registered_model(ctx: Any, p: Params) -> dict[str, Any]:
    return {"registered_model": registered_model(registry(ctx).get_registered_model(_name(p)))}


def search_registered_models(ctx: Any, p: Params) -> dict[str, Any]:
    page = registry(ctx).search_registered_models(
        filter_string=p.text("filter") or None,
        max_results=p.integer("max_results", default=rv.SEARCH_REGISTERED_MODELS_DEFAULT),
        order_by=p.texts("order_by") or None,
        page_token=p.text("page_token") or None,
    )
    return render.page("registered_models", [registered_model(m) for m in page.items], page.token)


def list_registered_models(ctx: Any, p: Params) -> dict[str, Any]:
    """MLflow 1.x's listing, which older R clients (``mlflow_list_registered_models``) still call."""
    page = registry(ctx).search_registered_models(
        max_results=p.integer("max_results", default=rv.SEARCH_REGISTERED_MODELS_DEFAULT),
        page_token=p.text("page_token") or None,
    )
    return render.page("registered_models", [registered_model(m) for m in page.items], page.token)


def get_latest_versions(ctx: Any, p: Params) -> dict[str, Any]:
    found = registry(ctx).get_latest_versions(_name(p), p.texts("stages") or None)
    return {"model_versions": [model_version(mv) for mv in found]} if found else {}


def set_registered_model_tag(ctx: Any, p: Params) -> dict[str, Any]:
    registry(ctx).set_registered_model_tag(_name(p), p.text("key", required=True), p.text("value") or "")
    return {}


def delete_registered_model_tag(ctx: Any, p: Params) -> dict[str, Any]:
    registry(ctx).delete_registered_model_tag(_name(p), p.text("key", required=True))
    return {}


# -- model versions ---------------------------------------------------------------------------
def create_model_version(ctx: Any, p: Params) -> dict[str, Any]:
    version = registry(ctx).create_model_version(
        _name(p),
        p.text("source", required=True),  # type: ignore[arg-type]
        run_id=p.text("run_id") or None,
        tags=_tags(p),
        run_link=p.text("run_link") or None,
        description=p.text("description"),
        model_id=p.text("model_id") or None,
    )
    return {"model_version": model_version(version)}


def update_model_version(ctx: Any, p: Params) -> dict[str, Any]:
    version = registry(ctx).update_model_version(_name(p), _version(p), p.text("description"))
    return {"model_version": model_version(version)}


def transition_model_version_stage(ctx: Any, p: Params) -> dict[str, Any]:
    name, version = _name(p), _version(p)
    stage = p.text("stage", required=True)
    # A JSON bool from Python; "TRUE"/"false" strings from the R client.
    archive = p.flag("archive_existing_versions", default=False)
    moved = registry(ctx).transition_model_version_stage(name, version, stage, bool(archive))  # type: ignore[arg-type]
    return {"model_version": model_version(moved)}


def delete_model_version(ctx: Any, p: Params) -> dict[str, Any]:
    registry(ctx).delete_model_version(_name(p), _version(p))
    return {}


def get_model_version(ctx: Any, p: Params) -> dict[str, Any]:
    return {"model_version": model_version(registry(ctx).get_model_version(_name(p), _version(p)))}


def search_model_versions(ctx: Any, p: Params) -> dict[str, Any]:
    page = registry(ctx).search_model_versions(
        filter_string=p.text("filter") or None,
        max_results=p.integer("max_results", default=SEARCH_VERSIONS_DEFAULT),
        order_by=p.texts("order_by") or None,
        page_token=p.text("page_token") or None,
    )
    return render.page("model_versions", [model_version(mv) for mv in page.items], page.token)


def get_model_version_download_uri(ctx: Any, p: Params) -> dict[str, Any]:
    return {"artifact_uri": registry(ctx).get_model_version_download_uri(_name(p), _version(p))}


def set_model_version_tag(ctx: Any, p: Params) -> dict[str, Any]:
    registry(ctx).set_model_version_tag(_name(p), _version(p), p.text("key", required=True), p.text("value") or "")
    return {}


def delete_model_version_tag(ctx: Any, p: Params) -> dict[str, Any]:
    registry(ctx).delete_model_version_tag(_name(p), _version(p), p.text("key", required=True))
    return {}


# -- aliases ----------------------------------------------------------------------------------
def _alias(p: Params) -> str:
    alias = p.text("alias")
    if not alias:
        raise HeadwaterError.invalid("Missing value for required parameter 'alias'.")
    return alias


def set_registered_model_alias(ctx: Any, p: Params) -> dict[str, Any]:
    registry(ctx).set_registered_model_alias(_name(p), _alias(p), _version(p))
    return {}


def delete_registered_model_alias(ctx: Any, p: Params) -> dict[str, Any]:
    registry(ctx).delete_registered_model_alias(_name(p), _alias(p))
    return {}


def get_model_version_by_alias(ctx: Any, p: Params) -> dict[str, Any]:
    return {"model_version": model_version(registry(ctx).get_model_version_by_alias(_name(p), _alias(p)))}


_READ = ("GET", "POST")  # the R client posts reads; Python GETs them
_POST, _PATCH, _DELETE = ("POST",), ("PATCH",), ("DELETE",)

REGISTRY_ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("registered-models/create", _POST, create_registered_model, "Create a registered model"),
    Endpoint("registered-models/rename", _POST, rename_registered_model, "Rename a registered model and its versions"),
    Endpoint("registered-models/update", _PATCH, update_registered_model, "Update a registered model's description"),
    Endpoint("registered-models/delete", _DELETE, delete_registered_model,
             "Delete a registered model with its versions, tags and aliases"),
    Endpoint("registered-models/get", _READ, get_registered_model, "Get a registered model"),
    Endpoint("registered-models/search", _READ, search_registered_models, "Search registered models",
             repeated=("order_by",)),
    Endpoint("registered-models/list", _READ, list_registered_models, "List registered models (older R clients)"),
    Endpoint("registered-models/get-latest-versions", ("POST", "GET"), get_latest_versions,
             "The newest version per stage", repeated=("stages",)),
    Endpoint("registered-models/set-tag", _POST, set_registered_model_tag, "Set a registered model tag"),
    Endpoint("registered-models/delete-tag", _DELETE, delete_registered_model_tag,
             "Delete a registered model tag"),
    Endpoint("registered-models/alias", _POST, set_registered_model_alias, "Point an alias at a version"),
    Endpoint("registered-models/alias", _DELETE, delete_registered_model_alias, "Delete an alias"),
    Endpoint("registered-models/alias", ("GET",), get_model_version_by_alias, "The version an alias points at"),
    Endpoint("model-versions/create", _POST, create_model_version, "Create a model version"),
    Endpoint("model-versions/update", _PATCH, update_model_version, "Update a model version's description"),
    Endpoint("model-versions/transition-stage", _POST, transition_model_version_stage,
             "Move a model version to another stage"),
    Endpoint("model-versions/delete", _DELETE, delete_model_version, "Delete a model version"),
    Endpoint("model-versions/get", _READ, get_model_version, "Get a model version"),
    Endpoint("model-versions/search", _READ, search_model_versions, "Search model versions",
             repeated=("order_by",)),
    Endpoint("model-versions/get-download-uri", _READ, get_model_version_download_uri,
             "Where a model version's files are stored"),
    Endpoint("model-versions/set-tag", _POST, set_model_version_tag, "Set a model version tag"),
    Endpoint("model-versions/delete-tag", _DELETE, delete_model_version_tag, "Delete a model version tag"),
)


def model_version_artifact(ctx: Any) -> Callable[[Request], Any]:
    """``GET /model-versions/get-artifact?name=&version=&path=``: one file of a version (MLflow's UI route).

    The file is read from the version's download location. That location is
    only trusted because every source was checked when its version was created.
    """
    from headwater_server.artifact_roots import repository_for
    from headwater_server.artifacts import _open_checked, _prepend, artifact_media_type, checked_path
    from headwater_server.artifacts import content_disposition
    from headwater_server.routes.browsing import ARTIFACT_HEADERS

    state = ctx.state

    def open_file(name: str, version: str, raw_path: str) -> tuple[Any, bytes, str]:
        relative = checked_path(raw_path, must_name_file=True)
        root = registry(ctx).get_model_version_download_uri(name, version)
        chunks, first = _open_checked(repository_for(state, root), relative)
        return chunks, first, relative

    async def get_artifact(request: Request) -> Response:
        """One file of a model version's artifacts"""
        try:
            p = await read_params(request, (), state.max_request_bytes)
            chunks, first, relative = await run_in_threadpool(open_file, _name(p), _version(p), p.text("path") or "")
        except HeadwaterError as err:
            # Storage messages may name the server's own folders; clients need not know them.
            err.message = str(err.message).replace(state.artifacts_destination or "\0", "<artifact root>")
            return error_response(err)
        except Exception as exc:
            return internal_error(exc)
        name = posixpath.basename(relative)
        headers = {**ARTIFACT_HEADERS, "Content-Disposition": content_disposition(name)}
        return StreamingResponse(_prepend(first, chunks), media_type=artifact_media_type(name), headers=headers)

    return get_artifact


def _by_method(handlers: dict[str, Callable[[Request], Any]]) -> Callable[[Request], Any]:
    if len(set(handlers.values())) == 1:
        return next(iter(handlers.values()))

    async def dispatch(request: Request) -> Response:
        # Starlette routes HEAD wherever GET is allowed.
        return await handlers["GET" if request.method == "HEAD" else request.method](request)

    return dispatch


def registry_routes(ctx: Any, static_prefix: str = "") -> list[Route]:
    # One route per path: registered-models/alias has a handler per method.
    by_path: dict[str, dict[str, Callable[[Request], Any]]] = {}
    summaries: dict[str, list[str]] = {}
    for ep in REGISTRY_ENDPOINTS:
        endpoint = rpc_endpoint(ep, ctx)
        for method in ep.methods:
            by_path.setdefault(ep.path, {})[method] = endpoint
        summaries.setdefault(ep.path, []).append(ep.summary)
    routes = []
    for path, handlers in by_path.items():
        endpoint = _by_method(handlers)
        endpoint.__doc__ = "; ".join(summaries[path])  # the OpenAPI document lists routes by their docstring
        for root in API_ROOTS:
            routes.append(Route(f"{static_prefix}{root}/{path}", endpoint, methods=list(handlers)))
    get_artifact = model_version_artifact(ctx)
    for prefix in ("", "/ajax-api/2.0/mlflow"):
        routes.append(Route(f"{static_prefix}{prefix}/model-versions/get-artifact", get_artifact, methods=["GET"]))
    return routes
