"""The server process: meta endpoints, OpenAPI, CLI options, static prefix, body cap, workers."""

from __future__ import annotations

import concurrent.futures
import uuid
from pathlib import Path

import pytest
import requests
from packaging.version import Version


def test_health_and_version(tracking_server):
    health = requests.get(f"{tracking_server.url}/health", timeout=10)
    assert (health.status_code, health.text) == (200, "OK")
    assert health.headers["content-type"].startswith("text/plain")
    version = requests.get(f"{tracking_server.url}/version", timeout=10)
    # MLflow's Python client parses this as PEP 440 and gates span logging on >= 3.4
    assert Version(version.text) >= Version("3.4")


def test_server_info(tracking_server):
    for root in ("api", "ajax-api"):
        info = requests.get(f"{tracking_server.url}/{root}/3.0/mlflow/server-info", timeout=10).json()
        assert info["artifact_serving_enabled"] is True
        assert info["multipart_uploads_enabled"] is False and info["workspaces_enabled"] is False


def test_openapi_describes_the_real_endpoints(tracking_server):
    document = requests.get(f"{tracking_server.url}/openapi.json", timeout=10).json()
    paths = document["paths"]
    assert paths["/api/2.0/mlflow/runs/search"].keys() == {"post"}
    assert paths["/api/2.0/mlflow/experiments/get"].keys() == {"get", "post"}
    get_params = {p["name"]: p for p in paths["/api/2.0/mlflow/experiments/get"]["get"]["parameters"]}
    assert get_params["experiment_id"]["required"] is True
    create = paths["/api/2.0/mlflow/experiments/create"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/CreateExperiment")
    schemas = document["components"]["schemas"]
    assert "run_uuid" in schemas["RunInfo"]["properties"]
    assert "/api/2.0/mlflow-artifacts/artifacts/{artifact_path}" in paths
    assert "/health" in paths and "/version" in paths
    # every documented reference resolves
    text = requests.get(f"{tracking_server.url}/openapi.json", timeout=10).text
    for name in {part.split('"')[0] for part in text.split("#/components/schemas/")[1:]}:
        assert name in schemas, name
    # and every served RPC is documented
    served = requests.post(f"{tracking_server.url}/api/2.0/mlflow/runs/log-inputs", json={}, timeout=10)
    assert served.status_code == 400 and "/api/2.0/mlflow/runs/log-inputs" in paths


def test_static_prefix_moves_every_route(start_server, make_api, tmp_path):
    server = start_server("--backend-store-uri", f"sqlite:///{tmp_path / 'p.db'}", "--static-prefix", "/mlflow")
    api = make_api(server.api)
    assert server.api.startswith(f"http://127.0.0.1:{server.port}/mlflow/api/")
    experiment_id = api.create_experiment()
    assert api.ok(api.get("experiments/get", {"experiment_id": experiment_id}))
    assert requests.get(f"{server.url}/health", timeout=10).text == "OK"
    assert requests.get(f"{server.url}/openapi.json", timeout=10).status_code == 200
    ajax = make_api(f"{server.url}/ajax-api/2.0/mlflow")
    assert ajax.ok(ajax.get("experiments/get", {"experiment_id": experiment_id}))
    unprefixed = f"http://127.0.0.1:{server.port}"
    assert requests.get(f"{unprefixed}/health", timeout=10).status_code == 404
    assert requests.get(f"{unprefixed}/api/2.0/mlflow/experiments/get?experiment_id=0", timeout=10).status_code == 404
    upload = requests.put(f"{server.url}/api/2.0/mlflow-artifacts/artifacts/x/y.txt", data=b"1", timeout=10)
    assert upload.status_code == 200


def test_request_body_cap(start_server, make_api, tmp_path):
    server = start_server("--backend-store-uri", f"sqlite:///{tmp_path / 'cap.db'}",
                          env={"HEADWATER_MAX_REQUEST_BYTES": "2000"})
    api = make_api(server.api)
    run_id = api.create_run(api.create_experiment())["info"]["run_id"]
    big = {"run_id": run_id, "params": [{"key": f"p{i}", "value": "v" * 50} for i in range(60)]}
    status, code, message = api.error(api.post("runs/log-batch", big))
    assert (status, code) == (413, "INVALID_PARAMETER_VALUE") and "2000" in message

    def chunks():  # no Content-Length: the cap holds while streaming too
        yield b'{"run_id": "' + run_id.encode() + b'", "params": ['
        for i in range(100):
            yield b'{"key": "q%d", "value": "%s"},' % (i, b"v" * 50)
        yield b'{"key": "last", "value": "v"}]}'

    response = requests.post(f"{server.api}/runs/log-batch", data=chunks(), timeout=30,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "params" not in api.ok(api.get("runs/get", {"run_id": run_id}))["run"]["data"]
    # the artifact proxy is exempt: uploads are streamed, not held in memory
    upload = requests.put(f"{server.url}/api/2.0/mlflow-artifacts/artifacts/big/file.bin", data=b"x" * 10_000, timeout=30)
    assert upload.status_code == 200


def test_default_backend_is_headwater_db_in_the_working_directory(start_server, make_api, tmp_path):
    server = start_server(cwd=tmp_path)
    api = make_api(server.api)
    experiment_id = api.create_experiment()
    run = api.create_run(experiment_id)
    assert (tmp_path / "headwater.db").exists()
    assert run["info"]["artifact_uri"].startswith(f"mlflow-artifacts:/{experiment_id}/")
    relative = run["info"]["artifact_uri"].split(":/", 1)[1]
    requests.put(f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{relative}/a.txt", data=b"hi", timeout=10)
    assert (tmp_path / "mlartifacts" / relative / "a.txt").read_bytes() == b"hi"


def test_repeated_options_take_the_last_value_and_no_serve_artifacts(start_server, make_api, tmp_path):
    # the fixture appends --port too: this server gets --port twice, as MLflow's R package passes it
    server = start_server("--port", "1", "--backend-store-uri", f"sqlite:///{tmp_path / 'x.db'}",
                          "--no-serve-artifacts", cwd=tmp_path)
    api = make_api(server.api)
    experiment_id = api.create_experiment()
    location = api.ok(api.get("experiments/get", {"experiment_id": experiment_id}))["experiment"]["artifact_location"]
    assert location == f"{tmp_path / 'mlruns'}/{experiment_id}"
    proxy = requests.get(f"{server.url}/api/2.0/mlflow-artifacts/artifacts", timeout=10)
    assert proxy.status_code == 503
    info = requests.get(f"{server.url}/api/3.0/mlflow/server-info", timeout=10).json()
    assert info["artifact_serving_enabled"] is False


def test_ui_without_browser_serves_the_same_api(start_server, make_api, tmp_path):
    server = start_server("--backend-store-uri", f"sqlite:///{tmp_path / 'ui.db'}", "--no-browser", command="ui")
    assert make_api(server.api).create_experiment()


@pytest.mark.slow
def test_two_workers_share_one_database(start_server, make_api, tmp_path):
    server = start_server("--backend-store-uri", f"sqlite:///{tmp_path / 'w.db'}", "--workers", "2")
    api = make_api(server.api)
    experiment_id = api.create_experiment()
    run_id = api.create_run(experiment_id)["info"]["run_id"]

    def log(i: int) -> int:
        session = requests.Session()  # one connection per client, spread over the workers
        body = {"run_id": run_id, "key": "m", "value": float(i), "timestamp": i, "step": i}
        return session.post(f"{server.api}/runs/log-metric", json=body, timeout=60).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(log, range(200)))
    assert statuses == [200] * 200
    history = api.ok(api.get("metrics/get-history", {"run_id": run_id, "metric_key": "m"}))["metrics"]
    assert sorted(m["step"] for m in history) == list(range(200))
    ids = {api.create_experiment(f"w-{uuid.uuid4().hex[:8]}") for _ in range(20)}
    assert len(ids) == 20
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    if children.exists():  # the CLI process runs uvicorn's supervisor over two workers
        assert len(_descendants(server.process.pid)) >= 2


def _descendants(pid: int) -> list[int]:
    found = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        found.append(int(child))
        found += _descendants(int(child))
    return found
