"""The same requests to ``mlflow models serve`` and ``headwater models serve`` get the same answers.

Both serve one sklearn model saved by Headwater (MLflow loads it natively:
it names ``mlflow.sklearn`` as its loader). Slow: MLflow's server takes
seconds to start.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import headwater

pytest.importorskip("mlflow")
pytestmark = pytest.mark.slow

FRAME = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0, 1, 1]})
ROWS = FRAME.to_numpy(dtype=object).tolist()

REQUESTS = [
    ("application/json", {"dataframe_split": {"columns": ["a", "b"], "data": ROWS}}),
    ("application/json", {"dataframe_records": FRAME.to_dict("records")}),
    ("application/json", {"inputs": FRAME.to_dict("list")}),
    ("application/json", {"instances": FRAME.to_dict("records")}),
    ("application/json", {"inputs": FRAME.to_dict("records")}),
    ("text/csv", FRAME.to_csv(index=False)),
    ("application/json", "[1, 2]"),
    ("application/json", "{oops"),
    ("application/json", {"columns": ["a", "b"], "data": ROWS}),
    ("application/json", {"dataframe_split": {"columns": ["a"], "data": [[1.0]]}}),
    ("application/json", {"dataframe_records": [{"a": "text", "b": 1}]}),
    ("application/json", {"dataframe_records": {"a": 1}}),
    ("text/plain", "a,b\n1,0\n"),
    ("application/json; format=pandas-split", {"dataframe_records": []}),
]


@pytest.fixture(scope="module")
def servers(tmp_path_factory, serve_model, serve_with_mlflow):
    from sklearn.linear_model import LinearRegression

    model = LinearRegression().fit(FRAME, 2 * FRAME["a"] + 3 * FRAME["b"])
    path = tmp_path_factory.mktemp("both") / "model"
    headwater.save_model(model, path, input_example=FRAME)
    return serve_model(path), serve_with_mlflow(path)


@pytest.mark.parametrize("content_type, body", REQUESTS)
def test_same_status_and_same_predictions(servers, content_type, body):
    ours, theirs = servers
    payload = body if isinstance(body, str) else json.dumps(body)
    mine, reference = ours.post(payload, content_type), theirs.post(payload, content_type)
    assert mine.status_code == reference.status_code, (mine.text, reference.text)
    if reference.status_code == 200:
        np.testing.assert_allclose(mine.json()["predictions"], reference.json()["predictions"])
    elif reference.headers["content-type"].startswith("application/json"):
        assert mine.json()["error_code"] == reference.json()["error_code"]
        if "error_class" in reference.json():
            assert mine.json()["error_class"] == reference.json()["error_class"]
    else:
        assert mine.headers["content-type"].split(";")[0] == reference.headers["content-type"].split(";")[0]


def test_same_health_answers(servers):
    import requests

    ours, theirs = servers
    for route in ("ping", "health"):
        mine = requests.get(f"{ours.url}/{route}", timeout=5)
        reference = requests.get(f"{theirs.url}/{route}", timeout=5)
        assert (mine.status_code, mine.text) == (reference.status_code, reference.text)
