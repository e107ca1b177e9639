"""``headwater models serve`` as a real process on loopback: every input form and every refusal."""

from __future__ import annotations

import json
import sys
import time

import cloudpickle
import numpy as np
import pandas as pd
import pytest
import requests

import headwater

# The pyfunc below is pickled by value, so the server process need not import this test module.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

FRAME = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [0, 1, 1, 0]})


def scaled(data, params=None):
    """A model with params: a * k; sleeps or raises when asked to."""
    params = params or {}
    if params.get("fail"):
        raise ValueError("secret internal detail")
    if params.get("sleep"):
        time.sleep(params["sleep"])
    return (data["a"] * params["k"]).to_numpy()


@pytest.fixture(scope="module")
def sklearn_server(tmp_path_factory, serve_model):
    from sklearn.linear_model import LinearRegression

    model = LinearRegression().fit(FRAME, 2 * FRAME["a"] + 3 * FRAME["b"] + 1)
    path = tmp_path_factory.mktemp("sk") / "model"
    headwater.save_model(model, path, input_example=FRAME)
    server = serve_model(path, "--max-request-bytes", "4000")
    server.model = model
    return server


@pytest.fixture(scope="module")
def params_server(tmp_path_factory, serve_model):
    path = tmp_path_factory.mktemp("pf") / "model"
    headwater.save_model(scaled, path, input_example=(FRAME[["a"]], {"k": 2, "sleep": 0.0, "fail": False}))
    return serve_model(path, "--timeout", "1")


def predictions(response):
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()["predictions"]


def expected(server, frame=FRAME):
    return server.model.predict(frame).tolist()


@pytest.mark.parametrize("body", [
    {"dataframe_split": {"columns": ["a", "b"], "data": FRAME.to_numpy(dtype=object).tolist()}},
    {"dataframe_split": {"columns": ["a", "b"], "data": FRAME.to_numpy(dtype=object).tolist(), "index": [5, 6, 7, 8]}},
    {"dataframe_records": FRAME.to_dict("records")},
    {"inputs": FRAME.to_dict("list")},
    {"inputs": FRAME.to_dict("records")},
    {"instances": FRAME.to_dict("records")},
    {"instances": FRAME.to_numpy(dtype=object).tolist()},
])
def test_every_json_form_predicts_like_the_model(sklearn_server, body):
    got = predictions(sklearn_server.post(json.dumps(body)))
    np.testing.assert_allclose(got, expected(sklearn_server))


def test_csv_and_charset(sklearn_server):
    got = predictions(sklearn_server.post(FRAME.to_csv(index=False), "text/csv"))
    np.testing.assert_allclose(got, expected(sklearn_server))
    body = json.dumps({"dataframe_records": FRAME.to_dict("records")})
    np.testing.assert_allclose(predictions(sklearn_server.post(body, "application/json; charset=UTF-8")),
                               expected(sklearn_server))


def test_parquet(sklearn_server, tmp_path):
    pytest.importorskip("pyarrow")
    FRAME.to_parquet(tmp_path / "in.parquet")
    got = predictions(sklearn_server.post((tmp_path / "in.parquet").read_bytes(), "application/vnd.apache.parquet"))
    np.testing.assert_allclose(got, expected(sklearn_server))


def test_health_routes_and_version(sklearn_server):
    for route in ("ping", "health"):
        response = requests.get(f"{sklearn_server.url}/{route}", timeout=5)
        assert (response.status_code, response.text, response.headers["content-type"]) == (200, "\n", "application/json")
    version = requests.get(f"{sklearn_server.url}/version", timeout=5)
    assert version.status_code == 200 and version.text.count(".") == 2


def test_predict_route_answers_without_the_wrapper(sklearn_server):
    response = sklearn_server.post(json.dumps({"dataframe_split": FRAME.to_dict("split") | {"index": None}}), route="predict")
    assert response.status_code == 200
    np.testing.assert_allclose(response.json(), expected(sklearn_server))
    csv = sklearn_server.post(FRAME.to_csv(index=False), "text/csv", route="predict")
    np.testing.assert_allclose(csv.json(), expected(sklearn_server))


def json_error(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert "stack_trace" not in body and "Traceback" not in response.text
    return body


@pytest.mark.parametrize("body, needle", [
    ("{not json", "valid JSON"),
    ("[1, 2]", "Received a list"),
    ('{"columns": ["a"], "data": [[1]]}', "exactly one of the input fields"),
    ('{"dataframe_split": {"data": [[1, 0]]}, "inputs": [[1, 0]]}', "exactly one of the input fields"),
    ('{"dataframe_split": {"columns": ["a", "b"], "data": [[1, 0]], "extra": 1}}', "'data' field"),
    ('{"dataframe_records": {"a": 1}}', "list of records"),
    ('{"inputs": [[1, 0]], "signature_name": "x"}', "signature_name"),
])
def test_malformed_payloads_are_400_bad_request(sklearn_server, body, needle):
    body = json_error(sklearn_server.post(body), 400)
    assert body["error_code"] == "BAD_REQUEST" and needle in body["message"]


def test_csv_that_does_not_parse_is_400(sklearn_server):
    body = json_error(sklearn_server.post(b"a,b\n\xff\xfe,1\n", "text/csv"), 400)
    assert body["error_code"] == "BAD_REQUEST"


def test_schema_mismatch_is_400_schema_enforcement_failed(sklearn_server):
    body = json_error(sklearn_server.post(json.dumps({"dataframe_records": [{"a": 1.0}]})), 400)
    assert body["error_code"] == "INVALID_PARAMETER_VALUE" and body["error_class"] == "SCHEMA_ENFORCEMENT_FAILED"
    assert body["message"].startswith("Failed to predict data ") and "missing inputs ['b']" in body["message"]
    wrong_type = json_error(sklearn_server.post(json.dumps({"dataframe_records": [{"a": "x", "b": 1}]})), 400)
    assert "column a" in wrong_type["message"]


@pytest.mark.parametrize("content_type, needle", [
    ("text/plain", "only supports the following content types"),
    ("application/json; charset=latin-1", "only supports UTF-8"),
    ("application/json; format=pandas-split", "Unrecognized content type parameters: format"),
    (None, "Content-Type"),
])
def test_content_types_the_protocol_refuses_are_415_plain_text(sklearn_server, content_type, needle):
    response = sklearn_server.post('{"inputs": [[1, 0]]}', content_type)
    assert response.status_code == 415 and response.headers["content-type"].startswith("text/plain")
    assert needle in response.text


def test_a_body_over_the_cap_is_refused_with_413(sklearn_server):
    big = {"dataframe_records": [{"a": 1.0, "b": 0}] * 500}
    body = json_error(sklearn_server.post(json.dumps(big)), 413)
    assert "limit" in body["message"]
    np.testing.assert_allclose(predictions(sklearn_server.post(json.dumps({"inputs": [[1.0, 0]]}))), [3.0])


def test_params_are_checked_and_passed(params_server):
    body = {"dataframe_split": {"columns": ["a"], "data": [[1.0], [2.0]]}, "params": {"k": 10}}
    assert predictions(params_server.post(json.dumps(body))) == [10.0, 20.0]
    default = {"dataframe_split": {"columns": ["a"], "data": [[1.0]]}}
    assert predictions(params_server.post(json.dumps(default))) == [2.0]
    bad = json_error(params_server.post(json.dumps({**default, "params": {"k": "ten"}})), 400)
    assert bad["error_class"] == "SCHEMA_ENFORCEMENT_FAILED" and "'k'" in bad["message"]
    unknown = {**default, "params": {"k": 3, "nobody": 1}}
    assert predictions(params_server.post(json.dumps(unknown))) == [3.0]


def test_an_exception_in_the_model_is_400_without_its_stack_trace(params_server):
    body = {"dataframe_split": {"columns": ["a"], "data": [[1.0]]}, "params": {"fail": True}}
    error = json_error(params_server.post(json.dumps(body)), 400)
    assert error["error_code"] == "BAD_REQUEST" and "unexpected error" in error["message"]
    assert "secret internal detail" not in json.dumps(error)
    assert "secret internal detail" in params_server.log()  # logged on the server side


def test_a_request_over_the_timeout_gets_504(params_server):
    body = {"dataframe_split": {"columns": ["a"], "data": [[1.0]]}, "params": {"sleep": 3.0}}
    response = params_server.post(json.dumps(body))
    assert response.status_code == 504 and response.text == "Request processing time exceeded limit"
    quick = {"dataframe_split": {"columns": ["a"], "data": [[1.0]]}}
    assert predictions(params_server.post(json.dumps(quick))) == [2.0]


def test_serving_a_folder_that_is_not_a_model_fails_before_listening(serve_model, tmp_path):
    server = serve_model(tmp_path, wait=False)
    assert server.process.wait(timeout=60) != 0
    assert "MLmodel" in server.log()
