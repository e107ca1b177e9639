"""Webhooks through live servers: REST and MLflow's client, signed deliveries, retries, filters, SSRF."""

from __future__ import annotations

import base64
import hashlib
import hmac
import subprocess
import sys
import time
import uuid

import pytest

pytest.importorskip("headwater_webhooks")

LOOPBACK = {"HEADWATER_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",
            "HEADWATER_EVENTS_RETRY_BASE_SECONDS": "0.2", "HEADWATER_EVENTS_RETRY_JITTER_SECONDS": "0.1"}


@pytest.fixture
def db_uri(tmp_path):
    return f"sqlite:///{tmp_path / 'hw.db'}"


def mv_event():
    return {"entity": "MODEL_VERSION", "action": "CREATED"}


def create_webhook(server, receiver, **fields):
    body = {"name": f"hook-{uuid.uuid4().hex[:6]}", "url": receiver.url, "events": [mv_event()], **fields}
    return server.call("POST", "webhooks", body)["webhook"]


def delivery_history(server, webhook_id: str, timeout: float = 10.0) -> list[dict]:
    """The webhook's deliveries once all are settled: history is saved after each attempt is answered."""
    deadline = time.monotonic() + timeout
    while True:
        history = server.call("GET", f"webhooks/{webhook_id}/deliveries").get("deliveries", [])
        settled = history and all(d["status"] in ("delivered", "refused") for d in history)
        if settled or time.monotonic() > deadline:
            return history
        time.sleep(0.05)


def register_version(server, model: str) -> None:
    server.call("POST", "registered-models/create", {"name": model})
    run = server.call("POST", "runs/create", {"experiment_id": "0"})["run"]["info"]["run_id"]
    server.call("POST", "model-versions/create", {"name": model, "source": f"runs:/{run}/model", "run_id": run})


def test_signed_delivery_verifies_with_mlflows_signing_and_carries_its_headers(start_server, receiver, db_uri):
    from mlflow.webhooks.delivery import _generate_hmac_signature

    server = start_server(db_uri, env=LOOPBACK)
    hook = create_webhook(server, receiver, secret="s3cret")
    assert "secret" not in hook and hook["status"] == "ACTIVE"
    assert hook["events"] == [mv_event()]
    time.sleep(1.5)  # the subscription reaches the dispatcher within a second
    register_version(server, "signed-model")
    [request] = receiver.wait_for(1)
    headers = {k.lower(): v for k, v in request.headers.items()}
    payload = request.body.decode()
    expected = _generate_hmac_signature("s3cret", headers["x-mlflow-delivery-id"], headers["x-mlflow-timestamp"],
                                        payload)
    assert headers["x-mlflow-signature"] == expected
    assert str(uuid.UUID(headers["x-mlflow-delivery-id"])) == headers["x-mlflow-delivery-id"]
    assert abs(int(headers["x-mlflow-timestamp"]) - time.time()) < 60
    body = request.json()
    assert (body["entity"], body["action"]) == ("model_version", "created")
    assert body["timestamp"].endswith("+00:00")
    assert set(body["data"]) == {"name", "version", "source", "run_id", "tags", "description"}
    assert body["data"]["name"] == "signed-model" and body["data"]["version"] == "1"
    history = delivery_history(server, hook["webhook_id"])
    assert [(d["status"], d["attempts"], d["response_status"]) for d in history] == [("delivered", 1, 200)]
    # Independently of MLflow's helper: base64 HMAC-SHA256 of "<id>.<ts>.<body>".
    mac = hmac.new(b"s3cret", f"{headers['x-mlflow-delivery-id']}.{headers['x-mlflow-timestamp']}.{payload}".encode(),
                   hashlib.sha256).digest()
    assert headers["x-mlflow-signature"] == "v1," + base64.b64encode(mac).decode()


def test_mlflow_client_manages_webhooks(start_server, receiver, db_uri):
    from mlflow import MlflowClient
    from mlflow.entities.webhook import WebhookEvent, WebhookStatus

    server = start_server(db_uri, env=LOOPBACK)
    client = MlflowClient(tracking_uri=server.url, registry_uri=server.url)
    hook = client.create_webhook(name="from-mlflow", url=receiver.url,
                                 events=[WebhookEvent("model_version", "created")], secret="x")
    assert hook.name == "from-mlflow" and hook.status == WebhookStatus.ACTIVE
    assert [w.webhook_id for w in client.list_webhooks()] == [hook.webhook_id]
    updated = client.update_webhook(hook.webhook_id, description="d", status=WebhookStatus.DISABLED)
    assert updated.description == "d" and updated.status == WebhookStatus.DISABLED
    result = client.test_webhook(hook.webhook_id)
    assert result.success and result.response_status == 200
    [test_request] = receiver.wait_for(1)
    assert test_request.json()["entity"] == "model_version"
    client.delete_webhook(hook.webhook_id)
    assert list(client.list_webhooks()) == []


@pytest.mark.parametrize(
    "url, words",
    [
        ("ftp://example.com/hook", "scheme"),
        ("http://127.0.0.1:9/hook", "loopback"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://10.1.2.3/hook", "private"),
        ("http://no-such-host.invalid/hook", "does not resolve"),
    ],
)
def test_bad_urls_are_refused_when_saved(start_server, db_uri, url, words):
    server = start_server(db_uri)
    response = server.post("webhooks", {"name": "bad", "url": url, "events": [mv_event()]})
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert words in response.json()["message"]
    assert server.call("GET", "webhooks")["webhooks"] == []


def test_invalid_event_pair_is_refused_with_the_valid_actions(start_server, db_uri, receiver):
    server = start_server(db_uri, env=LOOPBACK)
    response = server.post("webhooks", {"name": "x", "url": receiver.url,
                                        "events": [{"entity": "model_version_tag", "action": "created"}]})
    assert response.status_code == 400
    assert response.json()["message"] == (
        "Invalid action 'created' for entity 'model_version_tag'. Valid actions are: ['set', 'deleted']")


def test_receiver_errors_are_retried_with_retry_after_and_a_slow_receiver_blocks_no_other(
        start_server, receiver, db_uri):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    import threading

    slow_hits = []

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            slow_hits.append(time.monotonic())
            time.sleep(5)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    slow = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=slow.serve_forever, daemon=True).start()
    try:
        receiver.responses = [(503, {"Retry-After": "1"}, 0.0), (500, {}, 0.0), (200, {}, 0.0)]
        server = start_server(db_uri, env={**LOOPBACK, "HEADWATER_WEBHOOK_TIMEOUT": "10"})
        create_webhook(server, receiver, name="flaky")
        server.call("POST", "webhooks", {"name": "slow", "url": f"http://127.0.0.1:{slow.server_address[1]}/h",
                                         "events": [mv_event()]})
        time.sleep(1.5)
        started = time.monotonic()
        register_version(server, "retried")
        got = receiver.wait_for(3, timeout=20)
        assert len(got) == 3, got
        assert slow_hits, "the slow receiver was called"
        # Retry-After: 1 s between the first two attempts; the slow receiver's 5 s never held this one up.
        assert time.monotonic() - started < 5
        hook = server.call("GET", "webhooks")["webhooks"][0]
        [history] = delivery_history(server, hook["webhook_id"])
        assert history["status"] == "delivered" and history["attempts"] == 3
        ids = {r.headers["X-MLflow-Delivery-Id"] for r in got}
        assert len(ids) == 1, "every attempt carries the same delivery id"
    finally:
        slow.shutdown()


def test_client_errors_are_parked_and_replayed(start_server, receiver, db_uri):
    receiver.responses = [(400, {}, 0.0), (200, {}, 0.0)]
    server = start_server(db_uri, env=LOOPBACK)
    hook = create_webhook(server, receiver)
    time.sleep(1.5)
    register_version(server, "parked")
    receiver.wait_for(1)
    deadline = time.time() + 10
    failed = ""
    while time.time() < deadline and "HTTP 400" not in failed:
        failed = _cli("events", "failed", "--backend-store-uri", db_uri)
        time.sleep(0.3)
    assert f"webhooks.webhooks:{hook['webhook_id']}" in failed and "create_model_version" in failed
    assert "1 parked delivery will be tried again" in _cli("events", "replay", "--all", "--backend-store-uri", db_uri)
    got = receiver.wait_for(2, timeout=15)
    assert len(got) == 2 and got[1].json()["data"]["name"] == "parked"


def test_filters_on_events_experiments_and_models(start_server, receiver, db_uri):
    server = start_server(db_uri, env=LOOPBACK)
    kept = server.call("POST", "experiments/create", {"name": "kept"})["experiment_id"]
    other = server.call("POST", "experiments/create", {"name": "other"})["experiment_id"]
    create_webhook(server, receiver, events=[{"entity": "run", "action": "created"}], experiment_ids=[kept])
    create_webhook(server, receiver, events=[mv_event()], model_names=["wanted"])
    time.sleep(1.5)
    server.call("POST", "runs/create", {"experiment_id": other})
    run = server.call("POST", "runs/create", {"experiment_id": kept})["run"]["info"]["run_id"]
    register_version(server, "unwanted")
    register_version(server, "wanted")
    got = receiver.wait_for(2, timeout=15)
    time.sleep(1)
    kinds = sorted((r.json()["entity"], r.json()["data"].get("name") or r.json()["data"].get("run_id"))
                   for r in receiver.received)
    assert kinds == [("model_version", "wanted"), ("run", run)], got


def test_secrets_are_readable_by_another_process_and_after_restart(start_server, receiver, db_uri):
    first = start_server(db_uri, env=LOOPBACK)
    create_webhook(first, receiver, secret="shared")
    first.stop()
    second = start_server(db_uri, env=LOOPBACK)
    time.sleep(1.5)
    register_version(second, "after-restart")
    [request] = receiver.wait_for(1)
    headers = request.headers
    mac = hmac.new(b"shared", f"{headers['X-MLflow-Delivery-Id']}.{headers['X-MLflow-Timestamp']}.".encode()
                   + request.body, hashlib.sha256).digest()
    assert headers["X-MLflow-Signature"] == "v1," + base64.b64encode(mac).decode()


def _cli(*args: str) -> str:
    done = subprocess.run([sys.executable, "-c", "from headwater.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_cli_create_list_update_test_delete(start_server, receiver, db_uri):
    server = start_server(db_uri, env=LOOPBACK)
    uri = ["--tracking-uri", server.url]
    import json as _json

    created = _json.loads(_cli("webhooks", "create", *uri, "--name", "cli", "--url", receiver.url,
                               "--event", "model_version.created", "--event", "run.created",
                               "--secret", "s", "--model-name", "m1"))
    hook_id = created["webhook_id"]
    assert created["model_names"] == ["m1"] and len(created["events"]) == 2
    assert [w["webhook_id"] for w in _json.loads(_cli("webhooks", "list", *uri))] == [hook_id]
    updated = _json.loads(_cli("webhooks", "update", *uri, hook_id, "--status", "disabled", "--name", "cli2"))
    assert updated["status"] == "DISABLED" and updated["name"] == "cli2"
    result = _json.loads(_cli("webhooks", "test", *uri, hook_id, "--event", "run.created"))
    assert result["success"] and result["response_status"] == 200
    assert receiver.wait_for(1)[0].json()["entity"] == "run"
    assert "Deleted webhook" in _cli("webhooks", "delete", *uri, hook_id)
    assert _json.loads(_cli("webhooks", "list", *uri)) == []
    refused = subprocess.run([sys.executable, "-c", "from headwater.cli import main; main()", "webhooks", "create",
                              *uri, "--name", "x", "--url", "file:///etc/passwd", "--event", "run.created"],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "scheme" in refused.stderr
