"""The tracking RPCs of MLflow's REST API (spec/rest-api.md §4).

Each handler takes the server context and the request's :class:`Params` and
returns the response as a dict; :mod:`headwater_server.routes` turns the table
at the bottom into routes under ``/api/2.0/mlflow/`` and ``/ajax-api/2.0/mlflow/``.
Handlers run in a worker thread (stores are blocking) and mutate only through
the :class:`~headwater.tracking.service.TrackingService`, so REST clients raise
the same events as in-process callers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

from headwater import validation
from headwater.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LoggedModelOutput,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)
from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.store.artifacts import safe_relative_path

from headwater_server import items, render
from headwater_server.artifact_roots import repository_for
from headwater_server.wire import Params, invalid

SEARCH_MAX_RESULTS = validation.SEARCH_MAX_RESULTS_LIMIT
BULK_INTERVAL_MAX_RUNS = 100
BULK_INTERVAL_MAX_RESULTS = 2500
BULK_HISTORY_MAX_RESULTS = 25000
LOGGED_MODELS_TAG = "mlflow.log-model.history"


@dataclass(frozen=True)
class Endpoint:
    path: str
    methods: tuple[str, ...]
    handler: Callable[[Any, Params], dict[str, Any]]
    summary: str
    repeated: tuple[str, ...] = ()  # query-string keys that are lists
    request_doc: str | None = None  # schema names in headwater_server.schemas
    response_doc: str = "Empty"


# -- helpers ------------------------------------------------------------------------------
def _experiment_id(p: Params, name: str = "experiment_id") -> str:
    return _canonical_experiment_id(p.text(name, required=True, numbers_ok=True))


def _canonical_experiment_id(raw: str | None) -> str:
    try:
        return validation.validate_experiment_id(raw)
    except ValueError:  # digits int() refuses, such as "²"
        raise HeadwaterError.invalid(f"Invalid experiment ID '{raw}'. Experiment IDs must be integers.") from None


def _run_id(p: Params) -> str:
    return p.text("run_id", required=True, alias="run_uuid")  # type: ignore[return-value]


def _max_results(value: int | None, limit: int = SEARCH_MAX_RESULTS, name: str = "max_results") -> int:
    if value is None or value < 1:
        raise HeadwaterError.invalid(
            f"Invalid value {value or 0} for parameter '{name}' supplied. It must be a positive integer"
        )
    if value > limit:
        raise HeadwaterError.invalid(
            f"Invalid value {value} for parameter '{name}' supplied. It must be at most {limit}"
        )
    return value


def _view_type(p: Params, name: str) -> ViewType:
    value = p.data.get(name)
    return ViewType.parse(value) if value not in (None, "") else ViewType.ACTIVE_ONLY


# -- experiments --------------------------------------------------------------------------
def create_experiment(ctx: Any, p: Params) -> dict[str, Any]:
    name = p.text("name", required=True)
    location = p.text("artifact_location") or None
    validation.validate_artifact_location(location)
    tags = [(t.key, t.value) for t in items.tags(p)]
    return {"experiment_id": ctx.tracking.create_experiment(name, location, tags)}


def get_experiment(ctx: Any, p: Params) -> dict[str, Any]:
    return {"experiment": render.experiment(ctx.tracking.get_experiment(_experiment_id(p)))}


def get_experiment_by_name(ctx: Any, p: Params) -> dict[str, Any]:
    name = p.text("experiment_name", required=True)
    exp = ctx.tracking.get_experiment_by_name(name)
    if exp is None:
        raise HeadwaterError.not_found(f"Could not find experiment with name '{name}'")
    return {"experiment": render.experiment(exp)}


def search_experiments(ctx: Any, p: Params) -> dict[str, Any]:
    # No REST default: MLflow answers an absent max_results with 400, the clients send 1000.
    max_results = _max_results(p.integer("max_results"))
    result = ctx.tracking.search_experiments(
        view_type=_view_type(p, "view_type"),
        max_results=max_results,
        filter_string=p.text("filter") or None,
        order_by=p.texts("order_by") or None,
        page_token=p.text("page_token") or None,
    )
    return render.page("experiments", [render.experiment(e) for e in result.items], result.token)


def delete_experiment(ctx: Any, p: Params) -> dict[str, Any]:
    ctx.tracking.delete_experiment(_experiment_id(p))
    return {}


def restore_experiment(ctx: Any, p: Params) -> dict[str, Any]:
    ctx.tracking.restore_experiment(_experiment_id(p))
    return {}


def update_experiment(ctx: Any, p: Params) -> dict[str, Any]:
    experiment_id = _experiment_id(p)
    ctx.tracking.rename_experiment(experiment_id, p.text("new_name", required=True))
    return {}


def set_experiment_tag(ctx: Any, p: Params) -> dict[str, Any]:
    experiment_id = _experiment_id(p)
    ctx.tracking.set_experiment_tag(experiment_id, p.text("key", required=True), p.text("value") or "")
    return {}


def delete_experiment_tag(ctx: Any, p: Params) -> dict[str, Any]:
    experiment_id = _experiment_id(p)
    ctx.tracking.delete_experiment_tag(experiment_id, p.text("key", required=True))
    return {}


# -- runs ----------------------------------------------------------------------------------
def create_run(ctx: Any, p: Params) -> dict[str, Any]:
    run = ctx.tracking.create_run(
        experiment_id=_experiment_id(p),
        user_id=p.text("user_id") or None,
        start_time=p.integer("start_time"),
        tags=items.tags(p),
        run_name=p.text("run_name") or None,
    )
    return {"run": render.run(run)}


def update_run(ctx: Any, p: Params) -> dict[str, Any]:
    run_id = _run_id(p)
    status = p.data.get("status")
    info = ctx.tracking.update_run_info(
        run_id,
        RunStatus.parse(status) if status not in (None, "") else None,
        p.integer("end_time"),
        p.text("run_name"),
    )
    return {"run_info": render.run_info(info)}


def delete_run(ctx: Any, p: Params) -> dict[str, Any]:
    ctx.tracking.delete_run(_run_id(p))
    return {}


def restore_run(ctx: Any, p: Params) -> dict[str, Any]:
    ctx.tracking.restore_run(_run_id(p))
    return {}


def get_run(ctx: Any, p: Params) -> dict[str, Any]:
    return {"run": render.run(ctx.tracking.get_run(_run_id(p)))}


def log_metric(ctx: Any, p: Params) -> dict[str, Any]:
    run_id = _run_id(p)
    ctx.tracking.log_metric(run_id, items.metric(p, run_id))
    return {}


def log_param(ctx: Any, p: Params) -> dict[str, Any]:
    run_id = _run_id(p)
    ctx.tracking.log_param(run_id, Param(key=p.text("key", required=True), value=p.text("value") or ""))
    return {}


def set_tag(ctx: Any, p: Params) -> dict[str, Any]:
    run_id = _run_id(p)
    ctx.tracking.set_tag(run_id, RunTag(key=p.text("key", required=True), value=p.text("value") or ""))
    return {}


def delete_tag(ctx: Any, p: Params) -> dict[str, Any]:
    run_id = _run_id(p)
    ctx.tracking.delete_tag(run_id, p.text("key", required=True))
    return {}


def log_batch(ctx: Any, p: Params) -> dict[str, Any]:
    run_id = _run_id(p)
    ctx.tracking.log_batch(run_id, items.metrics(p), items.params(p), items.tags(p))
    return {}


def log_model(ctx: Any, p: Params) -> dict[str, Any]:
    """Append a model's MLmodel dict to the run's ``mlflow.log-model.history`` tag (R client)."""
    run_id = _run_id(p)
    model_json = p.text("model_json", required=True)
    try:
        model = json.loads(model_json)  # type: ignore[arg-type]
    except ValueError:
        raise HeadwaterError.invalid(f"Malformed model info. \n {model_json} \n is not a valid JSON.") from None
    if not isinstance(model, dict):
        raise HeadwaterError.invalid(f"Malformed model info. \n {model_json} \n is not a JSON object.")
    missing_fields = {"artifact_path", "flavors", "utc_time_created", "run_id"} - set(model)
    if missing_fields:
        raise HeadwaterError.invalid(f"Model json is missing mandatory fields: {sorted(missing_fields)}")
    # Read-modify-write through the service, so observers see a set_tag event.
    history_json = ctx.tracking.get_run(run_id).data.tags.get(LOGGED_MODELS_TAG)
    history = json.loads(history_json) if history_json else []
    history.append(model)
    ctx.tracking.set_tag(run_id, RunTag(key=LOGGED_MODELS_TAG, value=json.dumps(history)))
    return {}


def _dataset_input(item: Params) -> DatasetInput:
    ds = item.object("dataset")
    dataset = Dataset(
        name=ds.text("name", required=True),
        digest=ds.text("digest", required=True),
        source_type=ds.text("source_type", required=True),
        source=ds.text("source", required=True),
        schema=ds.text("schema") or None,
        profile=ds.text("profile") or None,
    )
    tags = [InputTag(key=t.text("key", required=True), value=t.text("value") or "") for t in item.objects("tags")]
    return DatasetInput(dataset=dataset, tags=tags)


def log_inputs(ctx: Any, p: Params) -> dict[str, Any]:
    run_id = _run_id(p)
    datasets = [_dataset_input(d) for d in p.objects("datasets")]
    models = [m.text("model_id", required=True) for m in p.objects("models")]
    if models:
        log_model_inputs = getattr(ctx.tracking.store, "log_model_inputs", None)
        if log_model_inputs is None:
            raise HeadwaterError("This server's tracking store does not record model inputs.", ErrorCode.NOT_IMPLEMENTED)
        log_model_inputs(run_id, models)
    ctx.tracking.log_inputs(run_id, datasets)
    return {}


def log_outputs(ctx: Any, p: Params) -> dict[str, Any]:
    run_id = _run_id(p)
    models = [
        LoggedModelOutput(model_id=m.text("model_id", required=True), step=m.integer("step", default=0))
        for m in p.objects("models", required=True)
    ]
    log = getattr(ctx.tracking, "log_outputs", None)  # stores with logged models (a later issue)
    if log is None:
        raise HeadwaterError("This server's tracking store does not record model outputs.", ErrorCode.NOT_IMPLEMENTED)
    log(run_id, models)
    return {}


def search_runs(ctx: Any, p: Params) -> dict[str, Any]:
    max_results = _max_results(p.integer("max_results", default=validation.SEARCH_RUNS_MAX_RESULTS_DEFAULT))
    result = ctx.tracking.search_runs(
        experiment_ids=[_canonical_experiment_id(e) for e in p.texts("experiment_ids", numbers_ok=True)],
        filter_string=p.text("filter") or None,
        run_view_type=_view_type(p, "run_view_type"),
        max_results=max_results,
        order_by=p.texts("order_by") or None,
        page_token=p.text("page_token") or None,
    )
    return render.page("runs", [render.run(r) for r in result.items], result.token)


# -- metrics ---------------------------------------------------------------------------------
def get_metric_history(ctx: Any, p: Params) -> dict[str, Any]:
    run_id = _run_id(p)
    key = p.text("metric_key", required=True)
    max_results = p.integer("max_results")
    if max_results is not None and max_results <= 0:
        raise HeadwaterError.invalid(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be a positive integer."
        )
    result = ctx.tracking.get_metric_history(run_id, key, max_results=max_results, page_token=p.text("page_token") or None)
    return render.page("metrics", render.metrics(result.items), result.token)


def get_metric_history_bulk_interval(ctx: Any, p: Params) -> dict[str, Any]:
    run_ids = p.texts("run_ids", required=True)
    if len(run_ids) > BULK_INTERVAL_MAX_RUNS:
        raise HeadwaterError.invalid(
            f"GetMetricHistoryBulkInterval request must specify at most {BULK_INTERVAL_MAX_RUNS} run_ids."
            f" Received {len(run_ids)} run_ids."
        )
    key = p.text("metric_key", required=True)
    max_results = p.integer("max_results", default=BULK_INTERVAL_MAX_RESULTS)
    if not 1 <= max_results <= BULK_INTERVAL_MAX_RESULTS:  # type: ignore[operator]
        raise HeadwaterError.invalid(
            f"max_results must be between 1 and {BULK_INTERVAL_MAX_RESULTS}. See the API docs for more"
            " information about request parameters."
        )
    start, end = p.integer("start_step"), p.integer("end_step")
    if (start is None) != (end is None):
        raise HeadwaterError.invalid("If either start step or end step are specified, both must be specified.")
    if start is not None and end is not None and start > end:
        raise HeadwaterError.invalid(
            f"end_step must be greater than start_step. Found start_step={start} and end_step={end}."
        )
    points = ctx.tracking.get_metric_history_bulk_interval(
        run_ids=run_ids, metric_key=key, max_results=max_results, start_step=start, end_step=end
    )
    return render.page("metrics", render.metrics(points, with_run_id=True), None)


def get_metric_history_bulk(ctx: Any, p: Params) -> dict[str, Any]:
    """The UI's older bulk form: ``run_id`` repeated, every point of each run up to a cap."""
    run_ids = p.texts("run_id")
    if not run_ids:
        raise HeadwaterError.invalid("GetMetricHistoryBulk request must specify at least one run_id.")
    if len(run_ids) > BULK_INTERVAL_MAX_RUNS:
        raise HeadwaterError.invalid(
            f"GetMetricHistoryBulk request cannot specify more than {BULK_INTERVAL_MAX_RUNS} run_ids."
            f" Received {len(run_ids)} run_ids."
        )
    key = p.text("metric_key")
    if key is None:
        raise HeadwaterError.invalid("GetMetricHistoryBulk request must specify a metric_key.")
    max_results = min(p.integer("max_results", default=BULK_HISTORY_MAX_RESULTS), BULK_HISTORY_MAX_RESULTS)  # type: ignore[type-var]
    if max_results < 1:
        raise invalid("max_results", max_results, "It must be a positive integer.")
    out: list[dict[str, Any]] = []
    for run_id in sorted(run_ids):
        points = ctx.tracking.get_metric_history(run_id, key).items
        points = sorted(points, key=lambda m: (m.timestamp, m.step, m.value))
        for m in points:
            item = render.metric(m)
            item["run_id"] = run_id
            out.append(item)
            if len(out) >= max_results:
                return {"metrics": out}
    return {"metrics": out} if out else {}


# -- artifacts ---------------------------------------------------------------------------------
def list_artifacts(ctx: Any, p: Params) -> dict[str, Any]:
    run_id = _run_id(p)
    raw_path = p.text("path")
    try:
        path = safe_relative_path(raw_path) if raw_path else None
    except HeadwaterError:
        raise HeadwaterError.invalid("Invalid path") from None
    root_uri = ctx.tracking.get_run(run_id).info.artifact_uri
    files = repository_for(ctx.state, root_uri).list_artifacts(path or None)
    out: dict[str, Any] = {"root_uri": root_uri}
    if files:
        out["files"] = [render.file_info(f) for f in files]
    return out


_GET = ("GET", "POST")  # reads are also accepted as POST (the R client posts some of them)
_POST = ("POST",)

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("experiments/create", _POST, create_experiment, "Create an experiment",
             request_doc="CreateExperiment", response_doc="CreateExperimentResponse"),
    Endpoint("experiments/get", _GET, get_experiment, "Get an experiment by id (deleted ones too)",
             request_doc="GetExperiment", response_doc="ExperimentResponse"),
    Endpoint("experiments/get-by-name", _GET, get_experiment_by_name, "Get an experiment by name",
             request_doc="GetExperimentByName", response_doc="ExperimentResponse"),
    Endpoint("experiments/search", _GET, search_experiments, "Search experiments",
             repeated=("order_by",), request_doc="SearchExperiments", response_doc="SearchExperimentsResponse"),
    Endpoint("experiments/delete", _POST, delete_experiment, "Delete an experiment and its runs",
             request_doc="ExperimentId"),
    Endpoint("experiments/restore", _POST, restore_experiment, "Restore an experiment and its runs",
             request_doc="ExperimentId"),
    Endpoint("experiments/update", _POST, update_experiment, "Rename an experiment",
             request_doc="UpdateExperiment"),
    Endpoint("experiments/set-experiment-tag", _POST, set_experiment_tag, "Set an experiment tag",
             request_doc="SetExperimentTag"),
    Endpoint("experiments/delete-experiment-tag", _POST, delete_experiment_tag, "Delete an experiment tag",
             request_doc="DeleteExperimentTag"),
    Endpoint("runs/create", _POST, create_run, "Create a run", request_doc="CreateRun", response_doc="RunResponse"),
    Endpoint("runs/update", _POST, update_run, "Update a run's status, end time or name",
             request_doc="UpdateRun", response_doc="UpdateRunResponse"),
    Endpoint("runs/delete", _POST, delete_run, "Delete a run", request_doc="RunId"),
    Endpoint("runs/restore", _POST, restore_run, "Restore a deleted run", request_doc="RunId"),
    Endpoint("runs/get", _GET, get_run, "Get a run (deleted runs too)", request_doc="RunId",
             response_doc="RunResponse"),
    Endpoint("runs/log-metric", _POST, log_metric, "Log one metric point", request_doc="LogMetric"),
    Endpoint("runs/log-parameter", _POST, log_param, "Log a parameter", request_doc="LogParam"),
    Endpoint("runs/set-tag", _POST, set_tag, "Set a run tag", request_doc="SetTag"),
    Endpoint("runs/delete-tag", _POST, delete_tag, "Delete a run tag", request_doc="DeleteTag"),
    Endpoint("runs/log-batch", _POST, log_batch, "Log metrics, params and tags at once", request_doc="LogBatch"),
    Endpoint("runs/log-model", _POST, log_model, "Record a logged model in the run's history tag",
             request_doc="LogModel"),
    Endpoint("runs/log-inputs", _POST, log_inputs, "Record dataset inputs of a run", request_doc="LogInputs"),
    Endpoint("runs/outputs", _POST, log_outputs, "Record model outputs of a run", request_doc="LogOutputs"),
    Endpoint("runs/search", _POST, search_runs, "Search runs", request_doc="SearchRuns",
             response_doc="SearchRunsResponse"),
    Endpoint("metrics/get-history", _GET, get_metric_history, "Every point of one metric of a run",
             request_doc="GetMetricHistory", response_doc="MetricsResponse"),
    Endpoint("metrics/get-history-bulk-interval", _GET, get_metric_history_bulk_interval,
             "Sampled points of one metric over several runs", repeated=("run_ids",),
             request_doc="GetMetricHistoryBulkInterval", response_doc="MetricsResponse"),
    Endpoint("metrics/get-history-bulk", _GET, get_metric_history_bulk,
             "Every point of one metric over several runs (UI)", repeated=("run_id",),
             request_doc="GetMetricHistoryBulk", response_doc="MetricsResponse"),
    Endpoint("artifacts/list", _GET, list_artifacts, "List a run's artifacts", request_doc="ListArtifacts",
             response_doc="ListArtifactsResponse"),
)
