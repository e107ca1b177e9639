"""Headwater's own Client and fluent API with an ``http://`` tracking URI (the REST store)."""

from __future__ import annotations

import pytest

import headwater
from headwater.tracking.client import Client


@pytest.fixture
def server(rest_server, monkeypatch):
    rest_server.reset()
    for name in ("HEADWATER_TRACKING_URI", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    return rest_server


def test_client_logs_and_reads_through_the_server(server, tmp_path):
    client = Client(server.url)
    experiment_id = client.create_experiment("over-http")
    run_id = client.create_run(experiment_id).info.run_id
    client.log_param(run_id, "p", 1)
    client.log_metric(run_id, "m", 0.5, step=2)
    client.set_tag(run_id, "t", "v")
    run = client.get_run(run_id)
    assert (run.data.params, run.data.metrics["m"], run.data.tags["t"]) == ({"p": "1"}, 0.5, "v")


def test_client_artifacts_use_the_clients_server_not_the_global_uri(server, tmp_path):
    # The process-wide tracking URI is the local default here; the artifacts must still
    # travel to the server this client talks to.
    client = Client(server.url)
    run = client.create_run("0")
    source = tmp_path / "hello.txt"
    source.write_text("hello")
    client.log_artifact(run.info.run_id, str(source), "docs")
    assert [f.path for f in client.list_artifacts(run.info.run_id, "docs")] == ["docs/hello.txt"]
    local = client.download_artifacts(run.info.run_id, "docs/hello.txt", str(tmp_path / "out"))
    assert open(local).read() == "hello"
    assert any(p.name == "hello.txt" for p in server.artifacts_destination.rglob("*"))


def test_fluent_api_over_http(server, monkeypatch, tmp_path):
    monkeypatch.setenv("HEADWATER_TRACKING_URI", server.url)
    with headwater.start_run() as run:
        headwater.log_metric("loss", 0.25)
        headwater.log_param("lr", "0.1")
    fetched = Client(server.url).get_run(run.info.run_id)
    assert fetched.info.status.value == "FINISHED"
    assert fetched.data.metrics == {"loss": 0.25} and fetched.data.params == {"lr": "0.1"}
