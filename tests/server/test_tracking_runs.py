"""Run endpoints through a live server (spec/rest-api.md §3–4)."""

from __future__ import annotations

import json
import math
import uuid

import pytest


@pytest.fixture
def experiment_id(api):
    return api.create_experiment()


@pytest.fixture
def run_id(api, experiment_id):
    return api.create_run(experiment_id)["info"]["run_id"]


def _run(api, run_id):
    return api.ok(api.get("runs/get", {"run_id": run_id}))["run"]


def test_create_run_renders_run_info_like_mlflow(api, experiment_id):
    run = api.create_run(experiment_id, run_name="first", user_id="ann", start_time=1795709502511,
                         tags=[{"key": "t", "value": "1"}])
    info = run["info"]
    assert info["run_id"] == info["run_uuid"] and len(info["run_id"]) == 32
    assert info["experiment_id"] == experiment_id
    assert info["run_name"] == "first" and info["user_id"] == "ann"
    assert info["status"] == "RUNNING" and info["lifecycle_stage"] == "active"
    assert info["start_time"] == 1795709502511
    assert "end_time" not in info
    assert info["artifact_uri"] == f"mlflow-artifacts:/{experiment_id}/{info['run_id']}/artifacts"
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    assert tags == {"t": "1", "mlflow.runName": "first"}
    assert "metrics" not in run["data"] and "params" not in run["data"]
    assert run["inputs"] == {}


def test_create_run_generates_a_name(api, experiment_id):
    info = api.create_run(experiment_id)["info"]
    assert info["run_name"]


def test_create_run_errors(api, experiment_id):
    assert api.error(api.post("runs/create", {"experiment_id": "987654321"}))[:2] == (404, "RESOURCE_DOES_NOT_EXIST")
    assert api.error(api.post("runs/create", {}))[0] == 400
    mismatch = {"experiment_id": experiment_id, "run_name": "a", "tags": [{"key": "mlflow.runName", "value": "b"}]}
    assert api.error(api.post("runs/create", mismatch))[:2] == (400, "INVALID_PARAMETER_VALUE")
    deleted = api.create_experiment()
    api.ok(api.post("experiments/delete", {"experiment_id": deleted}))
    assert api.error(api.post("runs/create", {"experiment_id": deleted}))[:2] == (400, "INVALID_PARAMETER_VALUE")


def test_update_run(api, run_id):
    info = api.ok(api.post("runs/update", {"run_id": run_id, "status": "FINISHED", "end_time": 1795709509999}))["run_info"]
    assert info["status"] == "FINISHED" and info["end_time"] == 1795709509999
    assert info["run_id"] == info["run_uuid"] == run_id
    # run_uuid in place of run_id, a status by number, and a rename that rewrites the tag
    info = api.ok(api.post("runs/update", {"run_uuid": run_id, "status": 4, "run_name": "renamed"}))["run_info"]
    assert info["status"] == "FAILED" and info["run_name"] == "renamed"
    tags = {t["key"]: t["value"] for t in _run(api, run_id)["data"]["tags"]}
    assert tags["mlflow.runName"] == "renamed"
    assert api.error(api.post("runs/update", {"run_id": run_id, "status": "NOPE"}))[0] == 400
    assert api.error(api.post("runs/update", {}))[0] == 400


def test_delete_and_restore_run_are_idempotent(api, run_id):
    for _ in range(2):
        assert api.ok(api.post("runs/delete", {"run_id": run_id})) == {}
    assert _run(api, run_id)["info"]["lifecycle_stage"] == "deleted"
    for _ in range(2):
        assert api.ok(api.post("runs/restore", {"run_id": run_id})) == {}
    assert _run(api, run_id)["info"]["lifecycle_stage"] == "active"
    assert api.error(api.post("runs/delete", {"run_id": uuid.uuid4().hex}))[:2] == (404, "RESOURCE_DOES_NOT_EXIST")


def test_get_unknown_run_is_404(api):
    assert api.error(api.get("runs/get", {"run_id": uuid.uuid4().hex}))[:2] == (404, "RESOURCE_DOES_NOT_EXIST")
    assert api.error(api.get("runs/get"))[0] == 400


def test_log_metric_and_latest_values(api, run_id):
    api.ok(api.post("runs/log-metric", {"run_id": run_id, "key": "acc", "value": 0.5, "timestamp": 10, "step": 1}))
    api.ok(api.post("runs/log-metric", {"run_uuid": run_id, "key": "acc", "value": 0.7, "timestamp": 20, "step": 2}))
    api.ok(api.post("runs/log-metric", {"run_id": run_id, "key": "loss", "value": 3, "timestamp": 10}))
    metrics = {m["key"]: m for m in _run(api, run_id)["data"]["metrics"]}
    assert metrics["acc"] == {"key": "acc", "value": 0.7, "timestamp": 20, "step": 2}
    assert metrics["loss"] == {"key": "loss", "value": 3.0, "timestamp": 10, "step": 0}


def test_log_metric_requires_its_fields(api, run_id):
    base = {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 1}
    for field in ("run_id", "key", "value", "timestamp"):
        body = {k: v for k, v in base.items() if k != field}
        status, code, message = api.error(api.post("runs/log-metric", body))
        assert (status, code) == (400, "INVALID_PARAMETER_VALUE") and f"'{field}'" in message
    assert api.error(api.post("runs/log-metric", {**base, "value": "abc"}))[0] == 400
    assert api.error(api.post("runs/log-metric", {**base, "timestamp": 1.5}))[0] == 400
    assert api.error(api.post("runs/log-metric", {**base, "run_id": uuid.uuid4().hex}))[0] == 404


def test_nan_and_infinity_render_as_mlflow_does(api, run_id):
    for key, value in (("nan", "NaN"), ("pinf", "Infinity"), ("ninf", "-Infinity")):
        api.ok(api.post("runs/log-metric", {"run_id": run_id, "key": key, "value": value, "timestamp": 1}))
    metrics = {m["key"]: m["value"] for m in _run(api, run_id)["data"]["metrics"]}
    assert metrics["nan"] == "NaN"
    # infinities are stored as the largest double, and printed as a number
    assert metrics["pinf"] == 1.7976931348623157e308 and metrics["ninf"] == -1.7976931348623157e308


def test_params(api, run_id):
    api.ok(api.post("runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.1"}))
    api.ok(api.post("runs/log-parameter", {"run_uuid": run_id, "key": "lr", "value": "0.1"}))  # same value: fine
    api.ok(api.post("runs/log-parameter", {"run_id": run_id, "key": "empty"}))
    assert api.error(api.post("runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.2"}))[:2] == (
        400, "INVALID_PARAMETER_VALUE")
    params = {p["key"]: p["value"] for p in _run(api, run_id)["data"]["params"]}
    assert params == {"lr": "0.1", "empty": ""}


def test_tags_set_delete_and_rename(api, run_id):
    api.ok(api.post("runs/set-tag", {"run_id": run_id, "key": "k", "value": "1"}))
    api.ok(api.post("runs/set-tag", {"run_uuid": run_id, "key": "k", "value": "2"}))
    api.ok(api.post("runs/set-tag", {"run_id": run_id, "key": "mlflow.runName", "value": "via-tag"}))
    run = _run(api, run_id)
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    assert tags["k"] == "2" and run["info"]["run_name"] == "via-tag"
    api.ok(api.post("runs/delete-tag", {"run_id": run_id, "key": "k"}))
    assert "k" not in {t["key"] for t in _run(api, run_id)["data"]["tags"]}
    assert api.error(api.post("runs/delete-tag", {"run_id": run_id, "key": "k"}))[:2] == (404, "RESOURCE_DOES_NOT_EXIST")


def test_log_batch_all_or_nothing(api, run_id):
    body = {
        "run_id": run_id,
        "metrics": [{"key": f"m{i}", "value": i / 10, "timestamp": 100 + i, "step": i} for i in range(50)],
        "params": [{"key": "p1", "value": "a"}, {"key": "p2", "value": "b"}],
        "tags": [{"key": "t1", "value": "x"}],
    }
    assert api.ok(api.post("runs/log-batch", body)) == {}
    data = _run(api, run_id)["data"]
    assert len(data["metrics"]) == 50
    assert {p["key"] for p in data["params"]} == {"p1", "p2"}
    # a conflicting param fails the whole batch: the new metric is not written
    bad = {"run_id": run_id, "metrics": [{"key": "late", "value": 1, "timestamp": 1}], "params": [{"key": "p1", "value": "changed"}]}
    assert api.error(api.post("runs/log-batch", bad))[0] == 400
    assert "late" not in {m["key"] for m in _run(api, run_id)["data"]["metrics"]}


def test_log_batch_names_the_missing_nested_field(api, run_id):
    status, _, message = api.error(api.post("runs/log-batch", {"run_id": run_id, "metrics": [{"key": "a", "value": 1}]}))
    assert status == 400 and "metrics[0].timestamp" in message
    status, _, message = api.error(api.post("runs/log-batch", {"run_id": run_id, "params": [{"value": "x"}]}))
    assert status == 400 and "params[0].key" in message


def test_log_batch_over_the_limits_is_400(api, run_id):
    body = {"run_id": run_id, "params": [{"key": f"p{i}", "value": "v"} for i in range(101)]}
    assert api.error(api.post("runs/log-batch", body))[:2] == (400, "INVALID_PARAMETER_VALUE")


def test_log_model_appends_to_the_history_tag(api, run_id):
    model = {"artifact_path": "model", "flavors": {"python_function": {}}, "utc_time_created": "2026-01-01", "run_id": run_id}
    for _ in range(2):
        api.ok(api.post("runs/log-model", {"run_id": run_id, "model_json": json.dumps(model)}))
    tags = {t["key"]: t["value"] for t in _run(api, run_id)["data"]["tags"]}
    assert json.loads(tags["mlflow.log-model.history"]) == [model, model]
    status, _, message = api.error(api.post("runs/log-model", {"run_id": run_id, "model_json": json.dumps({"flavors": {}})}))
    assert status == 400 and "artifact_path" in message
    assert api.error(api.post("runs/log-model", {"run_id": run_id, "model_json": "{not json"}))[0] == 400


def test_log_inputs_renders_dataset_inputs(api, run_id):
    dataset = {"name": "iris", "digest": "abc123", "source_type": "local", "source": "{}", "schema": "{\"a\": 1}"}
    body = {"run_id": run_id, "datasets": [{"tags": [{"key": "mlflow.data.context", "value": "train"}], "dataset": dataset}]}
    assert api.ok(api.post("runs/log-inputs", body)) == {}
    inputs = _run(api, run_id)["inputs"]["dataset_inputs"]
    assert inputs == [{"tags": [{"key": "mlflow.data.context", "value": "train"}], "dataset": dataset}]
    status, _, message = api.error(api.post("runs/log-inputs", {"run_id": run_id, "datasets": [{"dataset": {"name": "x"}}]}))
    assert status == 400 and "digest" in message


def test_search_runs_filter_order_and_pages(api, experiment_id):
    run_ids = []
    for i in range(5):
        run_id = api.create_run(experiment_id, run_name=f"r{i}")["info"]["run_id"]
        run_ids.append(run_id)
        api.ok(api.post("runs/log-batch", {
            "run_id": run_id,
            "metrics": [{"key": "acc", "value": i / 10, "timestamp": 1}],
            "params": [{"key": "opt", "value": "adam" if i % 2 == 0 else "sgd"}],
        }))
    body = {"experiment_ids": [experiment_id], "filter": "metrics.acc > 0.05 and params.opt = 'adam'",
            "order_by": ["metrics.acc DESC"], "max_results": 1}
    seen = []
    token = None
    while True:
        page = api.ok(api.post("runs/search", {**body, **({"page_token": token} if token else {})}))
        seen += [r["info"]["run_id"] for r in page["runs"]]
        token = page.get("next_page_token")
        if not token:
            break
    assert seen == [run_ids[4], run_ids[2]]


def test_search_runs_edge_cases(api, experiment_id):
    api.create_run(experiment_id)
    assert api.ok(api.post("runs/search", {"experiment_ids": [experiment_id], "filter": "metrics.nope > 1"})) == {}
    assert api.error(api.post("runs/search", {"experiment_ids": [experiment_id], "max_results": 50001}))[0] == 400
    assert api.error(api.post("runs/search", {"experiment_ids": [experiment_id], "filter": "metrics.a >>> 1"}))[0] == 400
    # MLflow serves runs/search as POST only
    assert api.get("runs/search", {"experiment_ids": experiment_id}).status_code == 405
    deleted = api.create_run(experiment_id)["info"]["run_id"]
    api.ok(api.post("runs/delete", {"run_id": deleted}))
    only_deleted = api.ok(api.post("runs/search", {"experiment_ids": [experiment_id], "run_view_type": "DELETED_ONLY"}))
    assert [r["info"]["run_id"] for r in only_deleted["runs"]] == [deleted]


def test_runs_outputs_refuses_unknown_models_without_a_5xx(api, run_id):
    response = api.post("runs/outputs", {"run_id": run_id, "models": [{"model_id": "m-" + "0" * 32, "step": 0}]})
    # 404 from a store with logged models, 501 from one without: never a 5xx the client would retry
    assert api.error(response)[:2] in {(404, "RESOURCE_DOES_NOT_EXIST"), (501, "NOT_IMPLEMENTED")}
    status, _, message = api.error(api.post("runs/outputs", {"run_id": run_id}))
    assert status == 400 and "'models'" in message


def test_metric_values_survive_json_round_trip_exactly(api, run_id):
    values = [0.1, 1e-300, 123456789.123456789, -0.0, 2**53]
    for step, value in enumerate(values):
        api.ok(api.post("runs/log-metric", {"run_id": run_id, "key": "exact", "value": value, "timestamp": 1, "step": step}))
    history = api.ok(api.get("metrics/get-history", {"run_id": run_id, "metric_key": "exact"}))["metrics"]
    assert [m["value"] for m in sorted(history, key=lambda m: m["step"])] == [float(v) for v in values]
    assert not any(isinstance(m["value"], str) or math.isnan(m["value"]) for m in history)
