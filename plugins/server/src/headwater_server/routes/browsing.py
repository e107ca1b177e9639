"""Headwater's own read endpoints for browsing, used by the web UI.

They are not part of MLflow's API, so they live under their own roots,
``/api/2.0/headwater/`` and ``/ajax-api/2.0/headwater/``:

- ``GET metrics/downsampled``: a metric's history reduced to at most
  ``max_buckets`` buckets with the min and max of each, so a chart of a
  million points stays small and its spikes survive.
- ``GET runs/keys``: the param, metric and tag keys of an experiment's most
  recent runs (``max_runs``, default 10,000): the columns a runs table can offer.
- ``GET artifacts/get``: one file of a run's artifacts (or, with ``model_id``,
  of a logged model's), whatever store holds them, with a content type that cannot run script (MLflow's UI route
  ``/get-artifact?run_uuid=&path=`` is the same handler).
- ``GET artifacts/preview``: the head of such a file parsed on the server
  (CSV rows, MLmodel as JSON, pretty JSON), see :mod:`headwater_server.previews`.
"""

from __future__ import annotations

import math
import posixpath
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from headwater.exceptions import HeadwaterError

from headwater_server.artifact_roots import repository_for
from headwater_server.artifacts import _open_checked, _prepend, artifact_media_type, checked_path, content_disposition
from headwater_server.previews import build_preview, read_head
from headwater_server.render import JSONResponse
from headwater_server.routes import error_response, internal_error, rpc_endpoint
from headwater_server.routes.tracking import Endpoint
from headwater_server.wire import Params, read_params

BROWSING_ROOTS = ("/api/2.0/headwater", "/ajax-api/2.0/headwater")
DEFAULT_BUCKETS = 1000
MAX_BUCKETS = 20000
# Keys are looked for in the most recent runs: enough to offer the columns in use, cheap at any size.
KEYS_DEFAULT_RUNS = 10_000
KEYS_MAX_RUNS = 100_000
# Artifacts are shown, never run: no scripts, no plugins, no framing, no same-origin access.
ARTIFACT_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "no-cache",
}


def _column(values: list[float]) -> list[float | None]:
    # JSON has no NaN or infinity; a chart draws null as a gap.
    return [v if math.isfinite(v) else None for v in values]


def downsampled_metric(ctx: Any, p: Params) -> dict[str, Any]:
    run_id = p.text("run_id", required=True, alias="run_uuid")
    key = p.text("metric_key", required=True)
    buckets = p.integer("max_buckets", default=DEFAULT_BUCKETS)
    if not 1 <= buckets <= MAX_BUCKETS:  # type: ignore[operator]
        raise HeadwaterError.invalid(f"max_buckets must be between 1 and {MAX_BUCKETS}, not {buckets}.")
    x_axis = p.text("x_axis") or "step"
    if x_axis not in ("step", "timestamp"):
        raise HeadwaterError.invalid(f"x_axis must be 'step' or 'timestamp', not {x_axis!r}.")
    result = ctx.tracking.get_metric_history_downsampled(
        run_id, key, max_buckets=buckets, x_axis=x_axis, x_min=p.integer("x_min"), x_max=p.integer("x_max")
    )
    total = sum(b.count for b in result)
    return {
        "run_id": run_id,
        "metric_key": key,
        "x_axis": x_axis,
        "total": total,
        "downsampled": total > len(result),
        "x_first": [b.x_first for b in result],
        "x_last": [b.x_last for b in result],
        "min": _column([b.min for b in result]),
        "max": _column([b.max for b in result]),
        "count": [b.count for b in result],
    }


def run_keys(ctx: Any, p: Params) -> dict[str, Any]:
    experiment_ids = p.texts("experiment_ids", required=True, numbers_ok=True)
    max_runs = p.integer("max_runs", default=KEYS_DEFAULT_RUNS)
    if not 1 <= max_runs <= KEYS_MAX_RUNS:  # type: ignore[operator]
        raise HeadwaterError.invalid(f"max_runs must be between 1 and {KEYS_MAX_RUNS}, not {max_runs}.")
    keys = ctx.tracking.list_run_keys(experiment_ids, max_runs=max_runs)
    return {"params": keys.params, "metrics": keys.metrics, "tags": keys.tags}


ENDPOINTS = (
    Endpoint("metrics/downsampled", ("GET",), downsampled_metric, "A metric history in min/max buckets"),
    Endpoint("runs/keys", ("GET",), run_keys, "Param, metric and tag keys of experiments' runs",
             repeated=("experiment_ids",)),
)


def artifact_endpoints(ctx: Any) -> tuple[Any, Any]:
    """``artifacts/get`` (the file) and ``artifacts/preview`` (its head, parsed) for a run's artifact."""
    state = ctx.state
    limit = state.max_request_bytes

    def open_file(run_id: str, model_id: str, raw_path: str) -> tuple[Any, bytes, str]:
        relative = checked_path(raw_path, must_name_file=True)
        if run_id:
            root_uri = ctx.tracking.get_run(run_id).info.artifact_uri
        else:  # a logged model's files (MLflow 3 clients register versions from them)
            root_uri = ctx.tracking.get_logged_model(model_id).artifact_uri
        chunks, first = _open_checked(repository_for(state, root_uri), relative)
        return chunks, first, relative

    async def opened(request: Request) -> tuple[Any, bytes, str]:
        p = await read_params(request, (), limit)
        run_id = p.text("run_id", alias="run_uuid") or ""
        model_id = p.text("model_id") or ""
        if not run_id and not model_id:
            raise HeadwaterError.invalid("Missing value for required parameter 'run_id' (or 'model_id').")
        return await run_in_threadpool(open_file, run_id, model_id, p.text("path") or "")

    def failed(exc: Exception) -> Response:
        if isinstance(exc, HeadwaterError):
            # Storage messages may name the server's own folders; clients need not know them.
            exc.message = str(exc.message).replace(state.artifacts_destination or "\0", "<artifact root>")
            return error_response(exc)
        return internal_error(exc)

    async def get_file(request: Request) -> Response:
        try:
            chunks, first, relative = await opened(request)
        except Exception as exc:
            return failed(exc)
        name = posixpath.basename(relative)
        headers = dict(ARTIFACT_HEADERS)
        headers["Content-Disposition"] = content_disposition(name)
        return StreamingResponse(_prepend(first, chunks), media_type=artifact_media_type(name), headers=headers)

    async def get_preview(request: Request) -> Response:
        try:
            chunks, first, relative = await opened(request)
            head, truncated = await run_in_threadpool(read_head, _prepend(first, chunks))
            return JSONResponse(await run_in_threadpool(build_preview, relative, head, truncated))
        except Exception as exc:
            return failed(exc)

    return get_file, get_preview


def browsing_routes(ctx: Any, static_prefix: str = "") -> list[Route]:
    routes = []
    get_artifact, get_preview = artifact_endpoints(ctx)
    for root in BROWSING_ROOTS:
        for ep in ENDPOINTS:
            routes.append(Route(f"{static_prefix}{root}/{ep.path}", rpc_endpoint(ep, ctx), methods=list(ep.methods)))
        routes.append(Route(f"{static_prefix}{root}/artifacts/get", get_artifact, methods=["GET"]))
        routes.append(Route(f"{static_prefix}{root}/artifacts/preview", get_preview, methods=["GET"]))
    routes.append(Route(f"{static_prefix}/get-artifact", get_artifact, methods=["GET"]))
    return routes
