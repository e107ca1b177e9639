"""/metrics: events by name, latency by route template, outbox depth and delivery failures."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("headwater_prometheus")

from prometheus_client.parser import text_string_to_metric_families  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402


def samples(client: TestClient) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(response.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


@pytest.fixture
def app(tmp_path, monkeypatch):
    from headwater_server.app import create_app

    monkeypatch.setenv("HEADWATER_PROMETHEUS", "1")
    monkeypatch.setenv("HEADWATER_AUDIT_LOG", str(tmp_path / "audit"))  # a directory: the audit lane fails
    monkeypatch.setenv("HEADWATER_EVENTS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("HEADWATER_EVENTS_POLL_SECONDS", "0.02")
    (tmp_path / "audit").mkdir()
    app = create_app(f"sqlite:///{tmp_path / 'hw.db'}", artifacts_destination=str(tmp_path / "artifacts"))
    yield app
    app.state.prometheus.close()  # no receiver left on the process-wide signals


def test_metrics_endpoint(app):
    with TestClient(app) as client:
        api = "/api/2.0/mlflow"
        exp = client.post(f"{api}/experiments/create", json={"name": "p"}).json()["experiment_id"]
        run = client.post(f"{api}/runs/create", json={"experiment_id": exp}).json()["run"]["info"]["run_id"]
        for step in range(3):
            assert client.post(f"{api}/runs/log-metric", json={"run_id": run, "key": "m", "value": 1.0,
                                                              "timestamp": 1, "step": step}).status_code == 200
        client.get(f"{api}/runs/get", params={"run_id": "nope"})
        deadline = time.time() + 10
        got = samples(client)
        while time.time() < deadline and got.get(("headwater_outbox_parked", (("lane", "audit.audit"),))) != 5:
            time.sleep(1.1)
            got = samples(client)
    assert got[("headwater_events_total", (("event", "log_metric"),))] == 3
    assert got[("headwater_events_total", (("event", "create_run"),))] == 1
    count = ("headwater_http_request_duration_seconds_count",
             (("method", "POST"), ("route", "/api/2.0/mlflow/runs/log-metric"), ("status", "200")))
    assert got.get(count) == 3, [k for k in got if "duration" in k[0] and k[0].endswith("count")]
    assert got[("headwater_http_request_duration_seconds_count",
                (("method", "GET"), ("route", "/api/2.0/mlflow/runs/get"), ("status", "404")))] == 1
    assert not any("nope" in str(key) for key in got), "raw paths never become labels"
    # The audit lane cannot write: every event failed once and was parked (max attempts 1).
    assert got[("headwater_outbox_parked", (("lane", "audit.audit"),))] == 5
    assert got[("headwater_outbox_unrouted", ())] == 0
    assert got[("headwater_event_delivery_failures_total", (("lane", "audit.audit"), ("parked", "true")))] >= 1


def test_off_unless_enabled(tmp_path, monkeypatch):
    from headwater_server.app import create_app

    monkeypatch.delenv("HEADWATER_PROMETHEUS", raising=False)
    app = create_app(f"sqlite:///{tmp_path / 'hw.db'}", artifacts_destination=str(tmp_path / "a"))
    with TestClient(app) as client:
        assert client.get("/metrics").status_code == 404
