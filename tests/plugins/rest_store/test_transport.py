"""The REST store's HTTP behaviour against a small scripted HTTP server:
retries (which calls, which statuses), auth headers, TLS settings, error mapping."""

from __future__ import annotations

import base64
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import pytest

from headwater.entities import Metric, RunTag
from headwater.exceptions import ErrorCode, HeadwaterError
from headwater_store_rest import RestStore
from headwater_store_rest.transport import HttpConfig, RestClient

FAST = HttpConfig(max_retries=3, backoff_factor=0)


class ScriptedServer:
    """Answers each request with the next scripted (status, body) and records what it got."""

    def __init__(self) -> None:
        self.script: list[tuple[int, Any]] = []
        self.default: tuple[int, Any] = (200, {})
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.requests.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
                )
                status, payload = outer.script.pop(0) if outer.script else outer.default
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if not isinstance(payload, bytes) else "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that gave up (the timeout test) is expected here

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = ScriptedServer()
    yield s
    s.close()


def _store(server: ScriptedServer, config: HttpConfig = FAST) -> RestStore:
    return RestStore(server.url, config)


def test_get_is_retried_on_503_then_succeeds(server):
    server.script = [(503, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"})] * 2
    server.default = (200, {"experiment": {"experiment_id": "7", "name": "e", "artifact_location": "x"}})
    experiment = _store(server).get_experiment("7")
    assert experiment.experiment_id == "7"
    assert len(server.requests) == 3
    assert all(r["path"] == "/api/2.0/mlflow/experiments/get?experiment_id=7" for r in server.requests)


def test_retries_give_up_after_the_configured_number(server):
    server.default = (503, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "still busy"})
    with pytest.raises(HeadwaterError) as info:
        _store(server, HttpConfig(max_retries=2, backoff_factor=0)).get_run("r1")
    assert info.value.error_code == ErrorCode.TEMPORARILY_UNAVAILABLE
    assert info.value.message == "still busy"
    assert len(server.requests) == 3  # the call and two retries


def test_retry_safe_post_is_retried_on_503(server):
    server.script = [(503, b"<html>gateway</html>")]
    _store(server).log_metric("r1", Metric(key="m", value=1.0, timestamp=5, step=1))
    assert [r["path"] for r in server.requests] == ["/api/2.0/mlflow/runs/log-metric"] * 2


def test_creating_a_run_is_not_repeated_on_503(server):
    server.script = [(503, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"})]
    with pytest.raises(HeadwaterError) as info:
        _store(server).create_run("0")
    assert info.value.error_code == ErrorCode.TEMPORARILY_UNAVAILABLE
    assert len(server.requests) == 1


def test_delete_tag_is_not_retried_although_runs_delete_is(server):
    server.script = [(503, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"})]
    with pytest.raises(HeadwaterError):
        _store(server).delete_tag("r1", "k")
    assert len(server.requests) == 1
    server.requests.clear()
    server.script = [(503, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"})]
    _store(server).delete_run("r1")
    assert len(server.requests) == 2


def test_429_is_retried_even_for_creating_an_experiment(server):
    server.script = [(429, {"error_code": "REQUEST_LIMIT_EXCEEDED", "message": "slow down"})]
    server.default = (200, {"experiment_id": "12"})
    assert _store(server).create_experiment("exp") == "12"
    assert len(server.requests) == 2
    assert json.loads(server.requests[1]["body"]) == {"name": "exp", "tags": []}


def test_deterministic_errors_are_not_retried_and_keep_the_server_code(server):
    server.script = [(400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "bad key"})]
    with pytest.raises(HeadwaterError) as info:
        _store(server).set_tag("r1", RunTag(key="k", value="v"))
    assert info.value.error_code == ErrorCode.INVALID_PARAMETER_VALUE
    assert info.value.message == "bad key"
    assert len(server.requests) == 1


def test_experiment_by_name_maps_does_not_exist_to_none(server):
    server.script = [(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no such experiment"})]
    assert _store(server).get_experiment_by_name("nope") is None


def test_non_json_error_bodies_map_by_status(server):
    server.script = [(404, b"<html>Not Found</html>")]
    with pytest.raises(HeadwaterError) as info:
        _store(server).get_run("r1")
    assert info.value.error_code == ErrorCode.ENDPOINT_NOT_FOUND


def test_connection_errors_are_retried_then_reported():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens here now
    store = RestStore(f"http://127.0.0.1:{port}", HttpConfig(max_retries=2, backoff_factor=0))
    with pytest.raises(HeadwaterError) as info:
        store.get_run("r1")
    assert info.value.error_code == ErrorCode.TEMPORARILY_UNAVAILABLE
    assert f"127.0.0.1:{port}" in info.value.message


def test_nan_and_infinity_travel_as_strings(server):
    _store(server).log_metric("r1", Metric(key="m", value=float("nan"), timestamp=1))
    _store(server).log_metric("r1", Metric(key="m", value=float("-inf"), timestamp=2))
    bodies = [json.loads(r["body"]) for r in server.requests]
    assert [b["value"] for b in bodies] == ["NaN", "-Infinity"]


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"MLFLOW_TRACKING_USERNAME": "ann", "MLFLOW_TRACKING_PASSWORD": "s3cret"},
         "Basic " + base64.b64encode(b"ann:s3cret").decode()),
        ({"MLFLOW_TRACKING_TOKEN": "tok-1"}, "Bearer tok-1"),
        ({"MLFLOW_TRACKING_TOKEN": "tok-1", "HEADWATER_TRACKING_TOKEN": "tok-2"}, "Bearer tok-2"),
        ({"MLFLOW_TRACKING_USERNAME": "ann", "MLFLOW_TRACKING_PASSWORD": "a",
          "HEADWATER_TRACKING_PASSWORD": "b"}, "Basic " + base64.b64encode(b"ann:b").decode()),
        ({}, None),
    ],
)
def test_auth_headers_come_from_the_environment(server, env, expected):
    server.default = (200, {"run": {"info": {"run_id": "r1", "experiment_id": "0"}}})
    RestStore(server.url, HttpConfig.from_env(env)).get_run("r1")
    assert server.requests[0]["headers"].get("Authorization") == expected


def test_tls_settings_come_from_the_environment(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not used before a request")
    assert RestClient("https://h", HttpConfig.from_env({"MLFLOW_TRACKING_INSECURE_TLS": "true"})).session.verify is False
    client = RestClient("https://h", HttpConfig.from_env({"MLFLOW_TRACKING_SERVER_CERT_PATH": str(bundle)}))
    assert client.session.verify == str(bundle)
    assert RestClient("https://h", HttpConfig.from_env({})).session.verify is True
    with pytest.raises(HeadwaterError):
        HttpConfig.from_env({"MLFLOW_TRACKING_INSECURE_TLS": "true", "MLFLOW_TRACKING_SERVER_CERT_PATH": "x"})


def test_timeouts_and_retry_counts_come_from_the_environment():
    config = HttpConfig.from_env({"MLFLOW_HTTP_REQUEST_TIMEOUT": "7", "HEADWATER_HTTP_REQUEST_MAX_RETRIES": "1",
                                  "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "9"})
    assert (config.timeout, config.max_retries) == (7.0, 1)


def test_a_hanging_server_times_out(server):
    release = threading.Event()
    original: Callable[..., Any] = server.httpd.RequestHandlerClass.do_GET

    def slow(handler: Any) -> None:
        release.wait(5)
        original(handler)

    server.httpd.RequestHandlerClass.do_GET = slow
    try:
        with pytest.raises(HeadwaterError) as info:
            RestStore(server.url, HttpConfig(timeout=0.3, max_retries=0)).get_run("r1")
        assert info.value.error_code in (ErrorCode.DEADLINE_EXCEEDED, ErrorCode.TEMPORARILY_UNAVAILABLE)
    finally:
        release.set()
