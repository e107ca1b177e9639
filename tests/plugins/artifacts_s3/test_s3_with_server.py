"""S3 behind the server's artifact proxy, and S3 reached directly by clients.

The server runs as a subprocess with ``--artifacts-destination s3://…``; the
S3 server is moto's standalone server. MLflow's own client is used where it
matters that MLflow's clients work unchanged.
"""

from __future__ import annotations

import hashlib
import os
import uuid

import pytest
import requests

PROXY = "/api/2.0/mlflow-artifacts/artifacts"


@pytest.fixture(scope="module")
def bucket(moto_server) -> str:
    name = f"proxy-{uuid.uuid4().hex[:12]}"
    moto_server.client().create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="module")
def proxy_server(start_headwater_server, moto_server, bucket, tmp_path_factory):
    db = tmp_path_factory.mktemp("db") / "tracking.db"
    return start_headwater_server(
        "--backend-store-uri", f"sqlite:///{db}", "--artifacts-destination", f"s3://{bucket}/proxied",
        env=moto_server.environment(),
    )


def _keys(moto_server, bucket: str) -> set[str]:
    pages = moto_server.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def test_put_get_list_delete_through_the_proxy(proxy_server, moto_server, bucket):
    base = f"{proxy_server.url}{PROXY}"
    assert requests.put(f"{base}/7/run/artifacts/notes.txt", data=b"hello s3", timeout=30).status_code == 200
    assert "proxied/7/run/artifacts/notes.txt" in _keys(moto_server, bucket)
    got = requests.get(f"{base}/7/run/artifacts/notes.txt", timeout=30)
    assert got.status_code == 200 and got.content == b"hello s3"
    assert got.headers["content-disposition"] == "attachment; filename=notes.txt"
    listing = requests.get(base, params={"path": "7/run/artifacts"}, timeout=30).json()
    assert listing == {"files": [{"path": "notes.txt", "is_dir": False, "file_size": 8}]}
    assert requests.get(base, params={"path": "7/run"}, timeout=30).json() == {
        "files": [{"path": "artifacts", "is_dir": True}]}
    assert requests.delete(f"{base}/7/run", timeout=30).status_code == 200
    assert not any(key.startswith("proxied/7/") for key in _keys(moto_server, bucket))
    missing = requests.get(f"{base}/7/run/artifacts/notes.txt", timeout=30)
    assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    folder = requests.put(f"{base}/8/dir/file.txt", data=b"x", timeout=30)
    assert folder.status_code == 200
    assert requests.get(f"{base}/8/dir", timeout=30).status_code == 400  # a folder is not a file


def test_a_big_upload_streams_into_a_multipart_object_and_back(proxy_server, moto_server, bucket):
    data = os.urandom(20 * 1024 * 1024)

    def body():
        for start in range(0, len(data), 1 << 20):
            yield data[start:start + (1 << 20)]

    url = f"{proxy_server.url}{PROXY}/9/big/artifacts/blob.bin"
    assert requests.put(url, data=body(), timeout=120).status_code == 200
    head = moto_server.client().head_object(Bucket=bucket, Key="proxied/9/big/artifacts/blob.bin")
    assert head["ContentLength"] == len(data) and "-" in head["ETag"]  # uploaded in parts
    digest = hashlib.sha256()
    with requests.get(url, stream=True, timeout=120) as response:
        assert response.status_code == 200
        for chunk in response.iter_content(1 << 20):
            digest.update(chunk)
    assert digest.digest() == hashlib.sha256(data).digest()


ATTACKS = [
    "../escape.txt", "a/../../escape.txt", "%2e%2e/escape.txt", "%252e%252e/escape.txt",
    "..%2fescape.txt", "a/%2e%2e/%2e%2e/escape.txt", "..%5cescape.txt", "%2fescape.txt",
]


@pytest.mark.parametrize("path", ATTACKS)
def test_attack_paths_through_the_proxy_touch_nothing(proxy_server, moto_server, bucket, path):
    moto_server.client().put_object(Bucket=bucket, Key="escape.txt", Body=b"victim")
    before = _keys(moto_server, bucket)
    base = f"{proxy_server.url}{PROXY}"
    answers = [
        requests.put(f"{base}/{path}", data=b"attack", timeout=30),
        requests.get(f"{base}/{path}", timeout=30),
        requests.delete(f"{base}/{path}", timeout=30),
        requests.get(base, params={"path": path}, timeout=30),
    ]
    for answer in answers:
        assert answer.status_code in (400, 404), (answer.request.method, answer.status_code, answer.text)
        if answer.status_code == 400:
            assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert b"victim" not in answer.content
    assert _keys(moto_server, bucket) == before
    body = moto_server.client().get_object(Bucket=bucket, Key="escape.txt")["Body"].read()
    assert body == b"victim"


def test_a_missing_bucket_is_a_clear_json_error_without_a_traceback(start_headwater_server, moto_server,
                                                                     tmp_path_factory):
    missing = f"absent-{uuid.uuid4().hex[:10]}"
    db = tmp_path_factory.mktemp("db2") / "t.db"
    server = start_headwater_server("--backend-store-uri", f"sqlite:///{db}",
                                    "--artifacts-destination", f"s3://{missing}/p", env=moto_server.environment())
    base = f"{server.url}{PROXY}"
    for answer in (requests.put(f"{base}/1/f.txt", data=b"x", timeout=30),
                   requests.get(base, params={"path": "1"}, timeout=30),
                   requests.get(f"{base}/1/f.txt", timeout=30)):
        assert answer.status_code == 404, answer.text
        body = answer.json()
        assert body["error_code"] == "RESOURCE_DOES_NOT_EXIST"
        assert missing in body["message"] and moto_server.endpoint in body["message"]
        assert "Traceback" not in answer.text and "botocore" not in answer.text


def test_mlflow_client_logs_and_reads_artifacts_through_the_proxy(proxy_server, moto_server, bucket, tmp_path):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=proxy_server.url)
    experiment_id = client.create_experiment(f"s3-proxy-{uuid.uuid4().hex[:8]}")
    run = client.create_run(experiment_id)
    local = tmp_path / "model" / "weights.bin"
    local.parent.mkdir()
    local.write_bytes(os.urandom(100_000))
    client.log_artifacts(run.info.run_id, str(local.parent), "model")
    assert run.info.artifact_uri.startswith("mlflow-artifacts:")
    keys = _keys(moto_server, bucket)
    assert f"proxied/{experiment_id}/{run.info.run_id}/artifacts/model/weights.bin" in keys
    assert [f.path for f in client.list_artifacts(run.info.run_id, "model")] == ["model/weights.bin"]
    out = client.download_artifacts(run.info.run_id, "model/weights.bin", str(tmp_path / "out"))
    assert open(out, "rb").read() == local.read_bytes()


def test_clients_write_s3_roots_directly_when_the_server_does_not_proxy(
    start_headwater_server, moto_server, bucket, tmp_path, monkeypatch
):
    """``--default-artifact-root s3://…``: each client talks to the bucket itself."""
    db = tmp_path / "direct.db"
    server = start_headwater_server("--backend-store-uri", f"sqlite:///{db}", "--no-serve-artifacts",
                                    "--default-artifact-root", f"s3://{bucket}/direct",
                                    env=moto_server.environment())
    for key, value in moto_server.environment().items():
        monkeypatch.setenv(key, value)
    from headwater.tracking.client import Client

    client = Client(tracking_uri=server.url)
    experiment_id = client.create_experiment(f"direct-{uuid.uuid4().hex[:8]}")
    run = client.create_run(experiment_id)
    assert run.info.artifact_uri == f"s3://{bucket}/direct/{experiment_id}/{run.info.run_id}/artifacts"
    local = tmp_path / "metrics.csv"
    local.write_text("a,b\n1,2\n")
    client.log_artifact(run.info.run_id, str(local), "tables")
    assert f"direct/{experiment_id}/{run.info.run_id}/artifacts/tables/metrics.csv" in _keys(moto_server, bucket)
    from mlflow import MlflowClient  # MLflow's client reads the same layout straight from S3

    path = MlflowClient(tracking_uri=server.url).download_artifacts(run.info.run_id, "tables/metrics.csv",
                                                                   str(tmp_path / "m"))
    assert open(path).read() == "a,b\n1,2\n"
