"""Headwater's browsing endpoints (/api/2.0/headwater/...) through a live server."""

from __future__ import annotations

import math
import uuid

import pytest

from headwater_server.previews import build_preview, preview_kind, read_head


@pytest.fixture
def browse(api, tracking_server):
    return type(api)(f"{tracking_server.url}/ajax-api/2.0/headwater")


def _put(tracking_server, run, path, data: bytes):
    import requests

    root = run["info"]["artifact_uri"].removeprefix("mlflow-artifacts:/").strip("/")
    response = requests.put(f"{tracking_server.url}/api/2.0/mlflow-artifacts/artifacts/{root}/{path}", data=data, timeout=30)
    assert response.status_code == 200


def test_downsampled_history_is_columnar_with_min_and_max(api, browse):
    run_id = api.create_run(api.create_experiment())["info"]["run_id"]
    metrics = [{"key": "loss", "value": 50.0 if s == 777 else math.cos(s), "timestamp": 1000 + s, "step": s} for s in range(2000)]
    metrics.append({"key": "loss", "value": "NaN", "timestamp": 5000, "step": 2000})
    for i in range(0, len(metrics), 1000):
        api.ok(api.post("runs/log-batch", {"run_id": run_id, "metrics": metrics[i : i + 1000]}))
    body = browse.ok(browse.get("metrics/downsampled", {"run_id": run_id, "metric_key": "loss", "max_buckets": 40}))
    assert body["total"] == 2001 and body["downsampled"] is True and body["x_axis"] == "step"
    assert 20 <= len(body["x_first"]) == len(body["min"]) == len(body["max"]) == len(body["count"]) <= 40
    assert max(v for v in body["max"] if v is not None) == 50.0
    assert sum(body["count"]) == 2001  # the NaN point is counted (its bucket, if alone, is null)
    raw = browse.ok(browse.get("metrics/downsampled", {"run_uuid": run_id, "metric_key": "loss", "x_axis": "timestamp",
                                                       "x_min": 1000, "x_max": 1004}))
    assert raw["downsampled"] is False and raw["x_first"] == [1000, 1001, 1002, 1003, 1004]
    assert raw["min"] == raw["max"] == [pytest.approx(math.cos(s)) for s in range(5)]


@pytest.mark.parametrize(
    "params, status",
    [
        ({"metric_key": "loss"}, 400),
        ({"run_id": "RUN", "metric_key": "loss", "max_buckets": 0}, 400),
        ({"run_id": "RUN", "metric_key": "loss", "max_buckets": 20001}, 400),
        ({"run_id": "RUN", "metric_key": "loss", "x_axis": "wall"}, 400),
        ({"run_id": uuid.uuid4().hex, "metric_key": "loss"}, 404),
    ],
)
def test_downsampled_history_refuses_bad_requests(api, browse, params, status):
    run_id = api.create_run(api.create_experiment())["info"]["run_id"]
    params = {k: (run_id if v == "RUN" else v) for k, v in params.items()}
    assert browse.error(browse.get("metrics/downsampled", params))[0] == status


def test_run_keys(api, browse):
    experiment_id = api.create_experiment()
    run_id = api.create_run(experiment_id)["info"]["run_id"]
    api.ok(api.post("runs/log-batch", {"run_id": run_id, "params": [{"key": "lr", "value": "0.1"}],
                                       "metrics": [{"key": "acc", "value": 1, "timestamp": 1}]}))
    body = browse.ok(browse.get("runs/keys", {"experiment_ids": [experiment_id]}))
    assert body["params"] == ["lr"] and body["metrics"] == ["acc"] and "mlflow.runName" in body["tags"]
    assert browse.error(browse.get("runs/keys", {"other": 1}))[0] == 400


def test_artifact_file_and_preview(api, browse, tracking_server):
    run = api.create_run(api.create_experiment())
    run_id = run["info"]["run_id"]
    _put(tracking_server, run, "t/data.csv", b"a,b\n1,<b>x</b>\n")
    _put(tracking_server, run, "page.html", b"<script>alert(1)</script>")
    preview = browse.ok(browse.get("artifacts/preview", {"run_id": run_id, "path": "t/data.csv"}))
    assert preview["kind"] == "csv" and preview["table"] == {"columns": ["a", "b"], "rows": [["1", "<b>x</b>"]], "rows_truncated": False}
    page = browse.get("artifacts/get", {"run_id": run_id, "path": "page.html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
    assert page.text == "<script>alert(1)</script>"
    missing = browse.get("artifacts/get", {"run_id": run_id, "path": "nope.txt"})
    status, code, message = browse.error(missing)
    assert status == 404 and "<artifact root>" in message and str(tracking_server.cwd) not in message
    assert browse.error(browse.get("artifacts/preview", {"run_id": run_id, "path": "../x"}))[0] == 400
    assert browse.error(browse.get("artifacts/get", {"path": "x"}))[0] == 400


def test_preview_kinds_and_parsing():
    assert [preview_kind(n) for n in ("m/MLmodel", "a.PNG", "b.yml", "c.tsv", "d.bin")] == ["mlmodel", "image", "yaml", "csv", "text"]
    head, cut = read_head(iter([b"ab", b"cd", b"ef"]), limit=3)
    assert (head, cut) == (b"abc", True)
    assert build_preview("x.bin", b"\x00\x01", False)["kind"] == "binary"
    assert build_preview("x.json", b'{"a": [1]}', False)["text"] == '{\n  "a": [\n    1\n  ]\n}'
    assert "parse_error" in build_preview("x.json", b"{oops", False)
    model = build_preview("MLmodel", b"flavors: {a: {b: 1}}\nutc_time_created: 2024-01-01 00:00:00\n", False)
    assert model["mlmodel"] == {"flavors": {"a": {"b": 1}}, "utc_time_created": "2024-01-01T00:00:00"}
    # Only the safe loader: a tag that would build a Python object is an error, not an object.
    unsafe = build_preview("MLmodel", b"x: !!python/object/apply:os.system ['true']\n", False)
    assert "parse_error" in unsafe and "mlmodel" not in unsafe
    truncated = build_preview("t.tsv", b"a\tb\n1", True)
    assert truncated["truncated"] is True and "table" not in truncated
