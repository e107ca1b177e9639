"""Request parsing and error rendering: what MLflow's clients send, and bad input."""

from __future__ import annotations

import json
import uuid

import pytest
import requests


@pytest.fixture
def run_id(api):
    return api.create_run(api.create_experiment())["info"]["run_id"]


def _raw_post(api, path, data, content_type="application/json"):
    headers = {"Content-Type": content_type} if content_type else {}
    return requests.post(f"{api.base}/{path}", data=data, headers=headers, timeout=30)


def _run(api, run_id):
    return api.ok(api.get("runs/get", {"run_id": run_id}))["run"]


# -- the R client: every JSON leaf a string --------------------------------------------------
def test_r_client_stringified_metric(api, run_id):
    body = {"run_uuid": run_id, "key": "r", "value": "0.5", "timestamp": "1795709502511", "step": "1e+05"}
    api.ok(api.post("runs/log-metric", body))
    [metric] = [m for m in _run(api, run_id)["data"]["metrics"] if m["key"] == "r"]
    assert metric == {"key": "r", "value": 0.5, "timestamp": 1795709502511, "step": 100000}


@pytest.mark.parametrize("text, expected", [("Inf", 1.7976931348623157e308), ("-Inf", -1.7976931348623157e308),
                                            ("NaN", "NaN"), ("1e+05", 100000.0), ("-2.5", -2.5)])
def test_r_client_special_doubles(api, run_id, text, expected):
    api.ok(api.post("runs/log-metric", {"run_id": run_id, "key": "special", "value": text, "timestamp": "1"}))
    [metric] = [m for m in _run(api, run_id)["data"]["metrics"] if m["key"] == "special"]
    assert metric["value"] == expected


def test_r_client_create_run_and_update(api):
    experiment_id = api.create_experiment()
    run = api.ok(api.post("runs/create", {"experiment_id": experiment_id, "start_time": "1795709502511",
                                          "tags": [{"key": "a", "value": "1"}]}))["run"]
    assert run["info"]["start_time"] == 1795709502511
    info = api.ok(api.post("runs/update", {"run_uuid": run["info"]["run_uuid"], "status": "FINISHED",
                                           "end_time": "1795709502999"}))["run_info"]
    assert info["end_time"] == 1795709502999


def test_r_client_stringified_search_and_booleans(api):
    experiment_id = api.create_experiment()
    api.create_run(experiment_id)
    body = {"experiment_ids": experiment_id, "max_results": "1000", "run_view_type": "ACTIVE_ONLY"}
    assert len(api.ok(api.post("runs/search", body))["runs"]) == 1  # a lone id unboxed by R is a list of one
    assert api.ok(api.post("experiments/search", {"max_results": "1e+03", "view_type": "1"}))["experiments"]


def test_r_client_posts_reads(api, run_id):
    """R sends some reads as POST; they are accepted with a JSON body."""
    assert api.ok(api.post("runs/get", {"run_id": run_id}))["run"]["info"]["run_id"] == run_id
    assert api.ok(api.post("metrics/get-history", {"run_id": run_id, "metric_key": "none"})) == {}


def test_r_client_stringified_log_batch(api, run_id):
    body = {"run_id": run_id, "metrics": [{"key": "b", "value": "Inf", "timestamp": "5", "step": "0"}],
            "params": [{"key": "p", "value": "1"}], "tags": [{"key": "t", "value": "FALSE"}]}
    api.ok(api.post("runs/log-batch", body))
    data = _run(api, run_id)["data"]
    assert {m["key"]: m["value"] for m in data["metrics"]}["b"] == 1.7976931348623157e308


# -- body forms ------------------------------------------------------------------------------------
def test_double_encoded_json_body(api):
    name = f"dbl-{uuid.uuid4().hex[:8]}"
    response = _raw_post(api, "experiments/create", json.dumps(json.dumps({"name": name})))
    assert "experiment_id" in api.ok(response)


def test_empty_body_counts_as_empty_object(api):
    status, _, message = api.error(_raw_post(api, "experiments/create", b""))
    assert status == 400 and "'name'" in message


def test_charset_parameter_is_allowed(api):
    response = _raw_post(api, "experiments/create", json.dumps({"name": f"cs-{uuid.uuid4().hex[:8]}"}),
                         "application/json; charset=utf-8")
    assert response.status_code == 200


def test_content_type_checks_use_mlflow_messages(api):
    body = json.dumps({"name": "x"})
    assert api.error(_raw_post(api, "experiments/create", body, None))[2] == "Bad Request. Content-Type header is missing."
    assert api.error(_raw_post(api, "experiments/create", body, "text/plain"))[2] == (
        "Bad Request. Content-Type must be one of ['application/json'].")


@pytest.mark.parametrize("data", [b"{bad json", b"[1, 2]", b"42", b"\xff\xfe", b'{"name": "x"'])
def test_malformed_or_non_object_json_is_a_json_400(api, data):
    status, code, _ = api.error(_raw_post(api, "experiments/create", data))
    assert (status, code) == (400, "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize(
    "body",
    [
        {"name": ["a"]},
        {"name": {"x": 1}},
        {"name": "ok", "tags": "notalist-but-scalar"},
        {"name": "ok", "tags": [5]},
        {"name": "ok", "tags": [{"value": "no key"}]},
    ],
)
def test_wrong_types_are_400_not_500(api, body):
    assert api.error(api.post("experiments/create", body))[0] == 400


@pytest.mark.parametrize(
    "path, body",
    [
        ("runs/log-metric", {"key": "m", "value": True, "timestamp": 1}),
        ("runs/log-metric", {"key": "m", "value": 1, "timestamp": "soon"}),
        ("runs/log-metric", {"key": "m", "value": 1, "timestamp": 2**70}),
        ("runs/log-metric", {"key": "m", "value": [1], "timestamp": 1}),
        ("runs/log-metric", {"key": "m", "value": 1, "timestamp": 1, "step": 0.5}),
        ("runs/update", {"status": 99}),
        ("runs/update", {"end_time": {"a": 1}}),
        ("runs/log-batch", {"metrics": {"key": "m"}}),
        ("runs/log-batch", {"metrics": [{"key": "m", "value": "x", "timestamp": 1}]}),
        ("runs/set-tag", {"key": "k", "value": 3}),
    ],
)
def test_wrong_scalar_types_are_400(api, run_id, path, body):
    status, code, _ = api.error(api.post(path, {"run_id": run_id, **body}))
    assert (status, code) == (400, "INVALID_PARAMETER_VALUE")


def test_camel_case_fields_and_unknown_fields(api, run_id):
    api.ok(api.post("runs/log-metric", {"runId": run_id, "key": "cc", "value": 1, "timestamp": 1,
                                        "datasetName": "d", "whatever": {"ignored": True}}))
    [metric] = [m for m in _run(api, run_id)["data"]["metrics"] if m["key"] == "cc"]
    assert metric["value"] == 1.0
    status, _, message = api.error(api.post("runs/log-metric", {"run_id": run_id, "runId": run_id, "key": "x",
                                                                "value": 1, "timestamp": 1}))
    assert status == 400 and "run_id" in message and "runId" in message


def test_get_query_string_lists_and_get_with_a_body(api):
    experiment_id = api.create_experiment()
    runs = [api.create_run(experiment_id)["info"]["run_id"] for _ in range(2)]
    query = [("run_ids", runs[0]), ("run_ids", runs[1]), ("metric_key", "m")]
    assert api.ok(api.get("metrics/get-history-bulk-interval", query)) == {}
    # a GET with no query string has its JSON body read instead
    response = requests.get(f"{api.base}/experiments/get", data=json.dumps({"experiment_id": experiment_id}),
                            headers={"Content-Type": "application/json"}, timeout=30)
    assert api.ok(response)["experiment"]["experiment_id"] == experiment_id


# -- rendering and routing --------------------------------------------------------------------------
def test_unknown_routes_and_methods_are_not_json(api, tracking_server):
    for url in (f"{api.base}/no/such/thing", f"{tracking_server.url}/nothing"):
        response = requests.get(url, timeout=30)
        assert response.status_code == 404 and not response.headers["content-type"].startswith("application/json")
    response = requests.get(f"{api.base}/runs/create", timeout=30)
    assert response.status_code == 405 and not response.headers["content-type"].startswith("application/json")


def test_ajax_prefix_serves_the_same_api(tracking_server, make_api, api):
    ajax = make_api(tracking_server.url + "/ajax-api/2.0/mlflow")
    experiment_id = ajax.create_experiment()
    assert api.ok(api.get("experiments/get", {"experiment_id": experiment_id}))["experiment"]["experiment_id"] == experiment_id
    assert ajax.error(ajax.get("experiments/get", {"experiment_id": "987654321"}))[:2] == (404, "RESOURCE_DOES_NOT_EXIST")


def test_errors_carry_only_code_and_message_and_no_trace(api):
    response = api.get("runs/get", {"run_id": uuid.uuid4().hex})
    body = response.json()
    assert set(body) == {"error_code", "message"} and "Traceback" not in response.text


def test_deterministic_errors_are_never_5xx_retry_traps(api, run_id):
    """Python's client retries 5xx on these calls for minutes; deterministic errors must be 4xx."""
    cases = [
        ("runs/log-metric", {"run_id": run_id, "key": "../bad", "value": 1, "timestamp": 1}),
        ("runs/log-parameter", {"run_id": run_id, "key": "k" * 300, "value": "v"}),
        ("runs/set-tag", {"run_id": run_id, "key": "", "value": "v"}),
        ("runs/log-batch", {"run_id": run_id, "metrics": [{"key": "m", "value": 1, "timestamp": -1}]}),
        ("runs/update", {"run_id": uuid.uuid4().hex, "status": "FINISHED"}),
        ("runs/delete", {"run_id": "not a run id!"}),
    ]
    for path, body in cases:
        response = api.post(path, body)
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text)
