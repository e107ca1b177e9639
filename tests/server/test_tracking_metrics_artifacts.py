"""Metric history (plain, bulk-interval, bulk) and run artifact listing through a live server."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def experiment_id(api):
    return api.create_experiment()


def _log_points(api, run_id, key, steps, timestamp=1000):
    metrics = [{"key": key, "value": float(s), "timestamp": timestamp + s, "step": s} for s in steps]
    for start in range(0, len(metrics), 1000):
        api.ok(api.post("runs/log-batch", {"run_id": run_id, "metrics": metrics[start:start + 1000]}))


def test_history_returns_every_point_ordered_without_a_token(api, experiment_id):
    run_id = api.create_run(experiment_id)["info"]["run_id"]
    _log_points(api, run_id, "loss", [3, 1, 2])
    body = api.ok(api.get("metrics/get-history", {"run_id": run_id, "metric_key": "loss"}))
    assert "next_page_token" not in body
    assert [m["step"] for m in body["metrics"]] == [1, 2, 3]
    assert body["metrics"][0] == {"key": "loss", "value": 1.0, "timestamp": 1001, "step": 1}


def test_history_pages(api, experiment_id):
    run_id = api.create_run(experiment_id)["info"]["run_id"]
    _log_points(api, run_id, "loss", range(7))
    steps, token = [], None
    while True:
        params = {"run_uuid": run_id, "metric_key": "loss", "max_results": 3}
        if token:
            params["page_token"] = token
        body = api.ok(api.get("metrics/get-history", params))
        steps += [m["step"] for m in body["metrics"]]
        token = body.get("next_page_token")
        if not token:
            break
    assert steps == list(range(7))


def test_history_errors_and_empty(api, experiment_id):
    run_id = api.create_run(experiment_id)["info"]["run_id"]
    assert api.ok(api.get("metrics/get-history", {"run_id": run_id, "metric_key": "none"})) == {}
    status, _, message = api.error(api.get("metrics/get-history", {"run_id": run_id, "metric_key": "m", "max_results": 0}))
    assert status == 400 and "max_results" in message
    assert api.error(api.get("metrics/get-history", {"run_id": run_id}))[0] == 400
    assert api.error(api.get("metrics/get-history", {"run_id": uuid.uuid4().hex, "metric_key": "m"}))[0] == 404


def test_bulk_interval_samples_each_run_and_names_it(api, experiment_id):
    runs = [api.create_run(experiment_id)["info"]["run_id"] for _ in range(2)]
    for run_id in runs:
        _log_points(api, run_id, "acc", range(100))
    query = [("run_ids", r) for r in runs] + [("metric_key", "acc"), ("max_results", "10")]
    body = api.ok(api.get("metrics/get-history-bulk-interval", query))
    by_run = {r: [m for m in body["metrics"] if m["run_id"] == r] for r in runs}
    for points in by_run.values():
        steps = [m["step"] for m in points]
        assert len(points) == 10 and steps[0] == 0 and steps[-1] == 99
    windowed = api.ok(api.get("metrics/get-history-bulk-interval",
                              [("run_ids", runs[0]), ("metric_key", "acc"), ("start_step", "10"), ("end_step", "20")]))
    assert sorted({m["step"] for m in windowed["metrics"]}) == list(range(10, 21))


@pytest.mark.parametrize(
    "extra, fragment",
    [
        ([("start_step", "1")], "both must be specified"),
        ([("start_step", "5"), ("end_step", "1")], "end_step must be greater"),
        ([("max_results", "0")], "between 1 and 2500"),
        ([("max_results", "2501")], "between 1 and 2500"),
    ],
)
def test_bulk_interval_rejects_bad_windows(api, experiment_id, extra, fragment):
    run_id = api.create_run(experiment_id)["info"]["run_id"]
    response = api.get("metrics/get-history-bulk-interval", [("run_ids", run_id), ("metric_key", "m"), *extra])
    status, code, message = api.error(response)
    assert (status, code) == (400, "INVALID_PARAMETER_VALUE") and fragment in message


def test_bulk_interval_requires_runs_and_caps_them(api):
    status, _, message = api.error(api.get("metrics/get-history-bulk-interval", {"metric_key": "m"}))
    assert status == 400 and "'run_ids'" in message
    too_many = [("run_ids", uuid.uuid4().hex) for _ in range(101)] + [("metric_key", "m")]
    status, _, message = api.error(api.get("metrics/get-history-bulk-interval", too_many))
    assert status == 400 and "at most 100" in message


def test_bulk_history_for_the_ui(tracking_server, make_api, experiment_id, api):
    ajax = make_api(tracking_server.url + "/ajax-api/2.0/mlflow")
    runs = [api.create_run(experiment_id)["info"]["run_id"] for _ in range(2)]
    for run_id in runs:
        _log_points(api, run_id, "m", range(3))
    body = ajax.ok(ajax.get("metrics/get-history-bulk", [("run_id", r) for r in runs] + [("metric_key", "m")]))
    assert len(body["metrics"]) == 6 and {m["run_id"] for m in body["metrics"]} == set(runs)
    assert ajax.error(ajax.get("metrics/get-history-bulk", {"metric_key": "m"}))[0] == 400


def _upload(tracking_server, run_info, path, data):
    relative = run_info["artifact_uri"].split("mlflow-artifacts:/", 1)[1]
    import requests

    response = requests.put(f"{tracking_server.url}/api/2.0/mlflow-artifacts/artifacts/{relative}/{path}", data=data, timeout=30)
    assert response.status_code == 200, response.text


def test_artifacts_list_through_the_proxy_destination(api, tracking_server, experiment_id):
    info = api.create_run(experiment_id)["info"]
    _upload(tracking_server, info, "model/MLmodel", b"flavors: {}\n")
    _upload(tracking_server, info, "notes.txt", b"hello")
    root = api.ok(api.get("artifacts/list", {"run_id": info["run_id"]}))
    assert root["root_uri"] == info["artifact_uri"]
    assert root["files"] == [{"path": "model", "is_dir": True}, {"path": "notes.txt", "is_dir": False, "file_size": 5}]
    nested = api.ok(api.get("artifacts/list", {"run_uuid": info["run_id"], "path": "model"}))
    assert nested["files"] == [{"path": "model/MLmodel", "is_dir": False, "file_size": 12}]
    # the files really are under --artifacts-destination
    destination = tracking_server.options["artifacts_destination"]
    assert (destination / experiment_id / info["run_id"] / "artifacts" / "notes.txt").read_bytes() == b"hello"


def test_artifacts_list_of_an_empty_run_has_no_files_field(api, experiment_id):
    info = api.create_run(experiment_id)["info"]
    assert api.ok(api.get("artifacts/list", {"run_id": info["run_id"]})) == {"root_uri": info["artifact_uri"]}


def test_artifacts_list_of_a_local_artifact_location(api, tmp_path):
    experiment_id = api.create_experiment(artifact_location=tmp_path.as_uri())
    info = api.create_run(experiment_id)["info"]
    target = tmp_path / info["run_id"] / "artifacts"
    target.mkdir(parents=True)
    (target / "a.txt").write_bytes(b"abc")
    body = api.ok(api.get("artifacts/list", {"run_id": info["run_id"]}))
    assert body["files"] == [{"path": "a.txt", "is_dir": False, "file_size": 3}]


@pytest.mark.parametrize(
    "path",
    ["../x", "a/../../x", "/etc", "C:\\Windows", "a\\..\\b", "%2e%2e/x", "%252e%252e/x", "a#b", "..%2fx"],
)
def test_artifacts_list_refuses_unsafe_paths(api, experiment_id, path):
    info = api.create_run(experiment_id)["info"]
    status, code, message = api.error(api.get("artifacts/list", {"run_id": info["run_id"], "path": path}))
    assert (status, code, message) == (400, "INVALID_PARAMETER_VALUE", "Invalid path")


@pytest.mark.parametrize(
    "location",
    ["file:///tmp/x#/../../etc", "file:///tmp/x?p=/../../etc", "file:///tmp/x;/../../etc", "file:///tmp/../../etc",
     "s3://bucket/%2e%2e/%2e%2e/etc", "mlflow-artifacts:/%252e%252e/x"],
)
def test_create_experiment_refuses_smuggled_artifact_locations(api, location):
    response = api.post("experiments/create", {"name": f"smuggle-{uuid.uuid4().hex[:8]}", "artifact_location": location})
    assert api.error(response)[:2] == (400, "INVALID_PARAMETER_VALUE")
