"""The app in this process, served over loopback by uvicorn in a thread.

For what a subprocess cannot show: the events that REST mutations raise (with
the actor from Basic credentials), server extensions from plugins, and the
state the artifact proxy relies on.
"""

from __future__ import annotations

import base64
import socket
import threading
import time
import uuid
from typing import Any, Iterator

import pytest
import requests
import uvicorn

from headwater.events import get_event_bus, signal
from headwater.exceptions import PluginError
from headwater.plugins import hookimpl
from headwater.plugins.manager import make_plugin_manager
from headwater.plugins.types import ServerExtension
from headwater_server import create_app


class LiveApp:
    def __init__(self, app: Any):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        self.url = f"http://127.0.0.1:{self.port}"
        self.api = f"{self.url}/api/2.0/mlflow"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _serve(app: Any) -> Iterator[LiveApp]:
    live = LiveApp(app)
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def live(tmp_path) -> Iterator[LiveApp]:
    app = create_app(f"sqlite:///{tmp_path / 'events.db'}", artifacts_destination=str(tmp_path / "dest"))
    yield from _serve(app)


class Recorder:
    """Connects to event signals and keeps what arrives."""

    def __init__(self, names: list[str]):
        self.events: list[Any] = []
        self._connections = [(signal(name), self.receive) for name in names]
        for sig, receiver in self._connections:
            sig.connect(receiver)

    def receive(self, sender: Any, event: Any, **extra: Any) -> None:
        self.events.append(event)

    def close(self) -> None:
        for sig, receiver in self._connections:
            sig.disconnect(receiver)

    def named(self, name: str) -> list[Any]:
        get_event_bus().flush(5)
        return [e for e in self.events if e.name == name]


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder(["create_experiment", "create_run", "log_metric", "log_param", "log_batch", "set_tag",
                    "update_run", "delete_run", "delete_experiment", "log_inputs"])
    yield rec
    rec.close()


def _post(live: LiveApp, path: str, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    response = requests.post(f"{live.api}/{path}", json=body, timeout=30, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def test_rest_mutations_raise_the_same_events_as_in_process_calls(live, recorder):
    name = f"ev-{uuid.uuid4().hex[:8]}"
    experiment_id = _post(live, "experiments/create", {"name": name})["experiment_id"]
    run_id = _post(live, "runs/create", {"experiment_id": experiment_id})["run"]["info"]["run_id"]
    _post(live, "runs/log-metric", {"run_id": run_id, "key": "m", "value": "0.5", "timestamp": 7, "step": 2})
    _post(live, "runs/log-parameter", {"run_id": run_id, "key": "p", "value": "v"})
    _post(live, "runs/log-batch", {"run_id": run_id, "metrics": [{"key": "b", "value": 1, "timestamp": 1}]})
    _post(live, "runs/set-tag", {"run_id": run_id, "key": "t", "value": "x"})
    _post(live, "runs/update", {"run_id": run_id, "status": "FINISHED"})
    _post(live, "runs/delete", {"run_id": run_id})
    _post(live, "experiments/delete", {"experiment_id": experiment_id})

    [created] = [e for e in recorder.named("create_experiment") if e.payload.name == name]
    assert created.payload.experiment_id == experiment_id
    assert [e.payload.run_id for e in recorder.named("create_run")] == [run_id]
    [metric] = recorder.named("log_metric")
    assert (metric.payload.key, metric.payload.value, metric.payload.timestamp, metric.payload.step) == ("m", 0.5, 7, 2)
    assert [e.payload.key for e in recorder.named("log_param")] == ["p"]
    assert [m.key for m in recorder.named("log_batch")[0].payload.metrics] == ["b"]
    assert [e.payload.value for e in recorder.named("set_tag")] == ["x"]
    assert recorder.named("update_run")[0].payload.status == "FINISHED"
    assert [e.payload.run_id for e in recorder.named("delete_run")] == [run_id]
    assert [e.payload.experiment_id for e in recorder.named("delete_experiment")] == [experiment_id]


def test_rejected_calls_raise_no_event(live, recorder):
    experiment_id = _post(live, "experiments/create", {"name": f"ev-{uuid.uuid4().hex[:8]}"})["experiment_id"]
    run_id = _post(live, "runs/create", {"experiment_id": experiment_id})["run"]["info"]["run_id"]
    response = requests.post(f"{live.api}/runs/log-metric", json={"run_id": run_id, "key": "m", "value": "x", "timestamp": 1},
                             timeout=30)
    assert response.status_code == 400
    assert recorder.named("log_metric") == []


def test_the_actor_is_the_basic_auth_user(live, recorder):
    token = base64.b64encode(b"alice:secret").decode()
    _post(live, "experiments/create", {"name": f"actor-{uuid.uuid4().hex[:8]}"}, headers={"Authorization": f"Basic {token}"})
    _post(live, "experiments/create", {"name": f"anon-{uuid.uuid4().hex[:8]}"},
          headers={"Authorization": "Bearer opaque-token"})
    actors = {e.payload.name.split("-")[0]: e.actor for e in recorder.named("create_experiment")}
    assert actors == {"actor": "alice", "anon": None}


def test_app_state_for_the_artifact_proxy(tmp_path):
    app = create_app(f"sqlite:///{tmp_path / 's.db'}")
    state = app.state
    assert state.default_artifact_root == "mlflow-artifacts:/"
    assert state.artifacts_destination.endswith("/mlartifacts") and state.artifacts_destination.startswith("/")
    assert state.serve_artifacts is True
    assert state.plugin_manager is not None and state.tracking.store is state.store
    explicit = create_app(f"sqlite:///{tmp_path / 't.db'}", default_artifact_root=str(tmp_path / "roots"),
                          serve_artifacts=False)
    assert explicit.state.default_artifact_root == str(tmp_path / "roots")


class HelloPlugin:
    __name__ = "hello-extension"

    @hookimpl
    def headwater_server_extensions(self):
        def install(app):
            @app.get("/hello")
            def hello() -> dict[str, str]:
                return {"hello": "world"}

        yield ServerExtension(name="hello", install=install)


class BrokenPlugin:
    __name__ = "broken-extension"

    @hookimpl
    def headwater_server_extensions(self):
        def install(app):
            raise RuntimeError("cannot install")

        yield ServerExtension(name="broken", install=install)


def test_installed_server_extensions_are_installed(tmp_path):
    manager = make_plugin_manager()
    manager.register(HelloPlugin(), "test-hello", "test-dist", "0")
    app = create_app(f"sqlite:///{tmp_path / 'x.db'}", plugin_manager=manager)
    for live in _serve(app):
        assert requests.get(f"{live.url}/hello", timeout=10).json() == {"hello": "world"}
        assert requests.get(f"{live.url}/health", timeout=10).text == "OK"
    manager.close()


def test_a_failing_extension_stops_the_server_from_starting(tmp_path):
    manager = make_plugin_manager()
    manager.register(BrokenPlugin(), "test-broken", "test-dist", "0")
    with pytest.raises(PluginError, match="broken"):
        create_app(f"sqlite:///{tmp_path / 'y.db'}", plugin_manager=manager)
    manager.close()


def test_the_server_distribution_is_listed_as_a_plugin():
    records = make_plugin_manager().records
    assert records["server"].distribution == "headwater-server" and records["server"].status == "active"
