"""The registry endpoints on the wire (spec/rest-api.md §3, §5): shapes, MLflow's R-client forms, errors.

Against the session's live ``headwater server``; names are unique per test.
The last tests run the app in this process for what a subprocess cannot
show: events with the Basic-auth actor, and a registry in a database of its own.
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


def unique(prefix: str = "rm") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def model(api) -> str:
    name = unique()
    api.ok(api.post("registered-models/create", {"name": name}))
    return name


def new_version(api, name: str, source: str = "s3://bucket/model", **extra: Any) -> dict[str, Any]:
    return api.ok(api.post("model-versions/create", {"name": name, "source": source, **extra}))["model_version"]


def delete(api, path: str, body: dict[str, Any]) -> requests.Response:
    return api.http.delete(f"{api.base}/{path}", json=body, timeout=30)


def patch(api, path: str, body: dict[str, Any]) -> requests.Response:
    return api.http.patch(f"{api.base}/{path}", json=body, timeout=30)


# -- shapes ----------------------------------------------------------------------------------------
def test_registered_model_shape_leaves_out_what_is_empty(api):
    name = unique()
    created = api.ok(api.post("registered-models/create", {"name": name}))["registered_model"]
    assert set(created) == {"name", "creation_timestamp", "last_updated_timestamp"}
    assert isinstance(created["creation_timestamp"], int)
    described = api.ok(api.post("registered-models/create", {
        "name": unique(), "description": "d", "tags": [{"key": "k", "value": "v"}],
    }))["registered_model"]
    assert described["description"] == "d" and described["tags"] == [{"key": "k", "value": "v"}]


def test_model_version_shape(api, model):
    version = new_version(api, model, run_id="abc", run_link="http://x/runs/abc", tags=[{"key": "k", "value": "v"}])
    assert version["version"] == "1" and isinstance(version["version"], str)
    assert (version["current_stage"], version["status"], version["run_id"]) == ("None", "READY", "abc")
    assert version["tags"] == [{"key": "k", "value": "v"}] and version["run_link"] == "http://x/runs/abc"
    assert not {"aliases", "model_id", "user_id", "status_message", "description"} & set(version)
    api.ok(api.post("registered-models/alias", {"name": model, "alias": "champion", "version": "1"}))
    fetched = api.ok(api.get("model-versions/get", {"name": model, "version": "1"}))["model_version"]
    assert fetched["aliases"] == ["champion"]


def test_registered_model_lists_latest_versions_and_aliases(api, model):
    for _ in range(3):
        new_version(api, model)
    api.ok(api.post("model-versions/transition-stage",
                    {"name": model, "version": "2", "stage": "Staging", "archive_existing_versions": False}))
    api.ok(api.post("registered-models/alias", {"name": model, "alias": "champion", "version": 3}))
    got = api.ok(api.get("registered-models/get", {"name": model}))["registered_model"]
    assert sorted((v["version"], v["current_stage"]) for v in got["latest_versions"]) == [("2", "Staging"), ("3", "None")]
    assert got["aliases"] == [{"alias": "champion", "version": "3"}]


def test_searches_leave_out_empty_lists_and_the_last_token(api):
    assert api.ok(api.get("registered-models/search", {"filter": f"name = '{unique()}'"})) == {}
    assert api.ok(api.get("model-versions/search", {"filter": f"name = '{unique()}'"})) == {}
    prefix = unique("page")
    for i in range(3):
        api.ok(api.post("registered-models/create", {"name": f"{prefix}-{i}"}))
    first = api.ok(api.get("registered-models/search", {"filter": f"name LIKE '{prefix}-%'", "max_results": 2}))
    assert [m["name"] for m in first["registered_models"]] == [f"{prefix}-0", f"{prefix}-1"]
    last = api.ok(api.get("registered-models/search", {"filter": f"name LIKE '{prefix}-%'", "max_results": 2,
                                                        "page_token": first["next_page_token"]}))
    assert [m["name"] for m in last["registered_models"]] == [f"{prefix}-2"] and "next_page_token" not in last


def test_order_by_is_repeated_in_the_query_string(api):
    prefix = unique("ord")
    for suffix in ("a", "b"):
        api.ok(api.post("registered-models/create", {"name": f"{prefix}-{suffix}"}))
    found = api.ok(api.get("registered-models/search", [("filter", f"name LIKE '{prefix}-%'"),
                                                         ("order_by", "name DESC")]))
    assert [m["name"] for m in found["registered_models"]] == [f"{prefix}-b", f"{prefix}-a"]


# -- the R client's forms ------------------------------------------------------------------------
def test_r_client_posts_search_with_string_leaves(api):
    prefix = unique("r")
    for i in range(2):
        api.ok(api.post("registered-models/create", {"name": f"{prefix}-{i}"}))
    found = api.ok(api.post("registered-models/search", {"filter": f"name LIKE '{prefix}-%'", "max_results": "1"}))
    assert len(found["registered_models"]) == 1 and found["next_page_token"]


def test_older_r_clients_list_registered_models(api):
    prefix = unique("list")
    for i in range(2):
        api.ok(api.post("registered-models/create", {"name": f"{prefix}-{i}"}))
    names, token = [], None
    while True:
        page = api.ok(api.get("registered-models/list", {"max_results": "50", **({"page_token": token} if token else {})}))
        names += [m["name"] for m in page.get("registered_models", [])]
        token = page.get("next_page_token")
        if not token:
            break
    assert {f"{prefix}-0", f"{prefix}-1"} <= set(names)


def test_r_client_transition_with_string_booleans(api, model):
    new_version(api, model)
    new_version(api, model)
    body = {"name": model, "version": "1", "stage": "Production", "archive_existing_versions": "FALSE"}
    assert api.ok(api.post("model-versions/transition-stage", body))["model_version"]["current_stage"] == "Production"
    body = {"name": model, "version": "2", "stage": "production", "archive_existing_versions": "TRUE"}
    assert api.ok(api.post("model-versions/transition-stage", body))["model_version"]["current_stage"] == "Production"
    first = api.ok(api.get("model-versions/get", {"name": model, "version": "1"}))["model_version"]
    assert first["current_stage"] == "Archived"
    bad = api.post("model-versions/transition-stage", {**body, "archive_existing_versions": "maybe"})
    assert api.error(bad)[:2] == (400, "INVALID_PARAMETER_VALUE")


def test_latest_versions_by_get_and_post(api, model):
    new_version(api, model)
    new_version(api, model)
    api.ok(api.post("model-versions/transition-stage", {"name": model, "version": "1", "stage": "Staging",
                                                        "archive_existing_versions": False}))
    by_post = api.ok(api.post("registered-models/get-latest-versions", {"name": model, "stages": ["Staging"]}))
    by_get = api.ok(api.get("registered-models/get-latest-versions", [("name", model), ("stages", "Staging")]))
    assert [v["version"] for v in by_post["model_versions"]] == [v["version"] for v in by_get["model_versions"]] == ["1"]
    every = api.ok(api.post("registered-models/get-latest-versions", {"name": model}))
    assert sorted(v["version"] for v in every["model_versions"]) == ["1", "2"]


def test_reads_also_accept_post(api, model):
    new_version(api, model)
    assert api.ok(api.post("registered-models/get", {"name": model}))["registered_model"]["name"] == model
    assert api.ok(api.post("model-versions/get", {"name": model, "version": 1}))["model_version"]["version"] == "1"
    assert api.ok(api.post("model-versions/get-download-uri", {"name": model, "version": "1"})) == {
        "artifact_uri": "s3://bucket/model"
    }


# -- every mutation over the wire ---------------------------------------------------------------------
def test_updates_tags_aliases_and_deletes(api, model):
    new_version(api, model)
    assert api.ok(patch(api, "registered-models/update", {"name": model, "description": "d"}))[
        "registered_model"]["description"] == "d"
    assert api.ok(patch(api, "model-versions/update", {"name": model, "version": "1", "description": "v"}))[
        "model_version"]["description"] == "v"
    assert api.ok(api.post("registered-models/set-tag", {"name": model, "key": "k", "value": "v"})) == {}
    assert api.ok(api.post("model-versions/set-tag", {"name": model, "version": "1", "key": "k", "value": "v"})) == {}
    assert api.ok(delete(api, "registered-models/delete-tag", {"name": model, "key": "k"})) == {}
    assert api.ok(delete(api, "registered-models/delete-tag", {"name": model, "key": "never-set"})) == {}
    assert api.ok(delete(api, "model-versions/delete-tag", {"name": model, "version": "1", "key": "k"})) == {}
    api.ok(api.post("registered-models/alias", {"name": model, "alias": "a1", "version": "1"}))
    assert api.ok(api.get("registered-models/alias", {"name": model, "alias": "a1"}))["model_version"]["version"] == "1"
    assert api.ok(delete(api, "registered-models/alias", {"name": model, "alias": "a1"})) == {}
    assert api.ok(delete(api, "registered-models/alias", {"name": model, "alias": "a1"})) == {}
    renamed = unique()
    got = api.ok(api.post("registered-models/rename", {"name": model, "new_name": renamed}))["registered_model"]
    assert got["name"] == renamed and got["latest_versions"][0]["name"] == renamed
    assert api.ok(delete(api, "model-versions/delete", {"name": renamed, "version": "1"})) == {}
    assert api.ok(delete(api, "registered-models/delete", {"name": renamed})) == {}
    assert api.error(api.get("registered-models/get", {"name": renamed}))[:2] == (404, "RESOURCE_DOES_NOT_EXIST")


def test_the_ajax_api_root_serves_the_registry_too(tracking_server, make_api):
    ajax = make_api(f"{tracking_server.url}/ajax-api/2.0/mlflow")
    name = unique()
    assert ajax.ok(ajax.post("registered-models/create", {"name": name}))["registered_model"]["name"] == name


# -- errors ------------------------------------------------------------------------------------------
def test_error_codes(api, model):
    new_version(api, model)
    cases = [
        (api.post("registered-models/create", {"name": model}), 400, "RESOURCE_ALREADY_EXISTS"),
        (api.post("registered-models/create", {}), 400, "INVALID_PARAMETER_VALUE"),
        (api.post("registered-models/create", {"name": "a/b"}), 400, "INVALID_PARAMETER_VALUE"),
        (api.get("registered-models/get", {"name": unique()}), 404, "RESOURCE_DOES_NOT_EXIST"),
        (api.post("model-versions/create", {"name": unique(), "source": "s3://b"}), 404, "RESOURCE_DOES_NOT_EXIST"),
        (api.post("model-versions/create", {"name": model}), 400, "INVALID_PARAMETER_VALUE"),
        (api.get("model-versions/get", {"name": model, "version": "abc"}), 400, "INVALID_PARAMETER_VALUE"),
        (api.get("model-versions/get", {"name": model, "version": "9"}), 404, "RESOURCE_DOES_NOT_EXIST"),
        (api.post("model-versions/transition-stage", {"name": model, "version": "1", "stage": "Prod"}), 400,
         "INVALID_PARAMETER_VALUE"),
        (api.post("model-versions/transition-stage",
                  {"name": model, "version": "1", "stage": "Archived", "archive_existing_versions": True}), 500,
         "INTERNAL_ERROR"),
        (api.get("registered-models/alias", {"name": model, "alias": "nobody"}), 400, "INVALID_PARAMETER_VALUE"),
        (api.post("registered-models/alias", {"name": model, "alias": "v3", "version": "1"}), 400,
         "INVALID_PARAMETER_VALUE"),
        (api.post("registered-models/alias", {"name": model, "alias": "latest", "version": "1"}), 400,
         "INVALID_PARAMETER_VALUE"),
        (api.post("registered-models/alias", {"name": model, "alias": "ok", "version": "7"}), 404,
         "RESOURCE_DOES_NOT_EXIST"),
        (api.get("registered-models/search", {"max_results": 1001}), 400, "INVALID_PARAMETER_VALUE"),
        (api.get("registered-models/search", {"filter": "name = 'a' OR name = 'b'"}), 400, "INVALID_PARAMETER_VALUE"),
        (api.get("model-versions/search", {"max_results": 200_001}), 400, "INVALID_PARAMETER_VALUE"),
    ]
    for response, status, code in cases:
        assert api.error(response)[:2] == (status, code), response.request.url
    assert api.error(api.get("model-versions/get", {"name": model, "version": "abc"}))[2] == (
        "Parameter 'version' must be an integer, got 'abc'."
    )
    assert "'latest' alias name" in api.error(
        api.post("registered-models/alias", {"name": model, "alias": "LATEST", "version": "1"}))[2]
    version = api.ok(api.get("model-versions/get", {"name": model, "version": "1"}))["model_version"]
    assert (version["current_stage"], version.get("aliases")) == ("None", None)  # nothing was written


def test_alias_latest_is_the_newest_version(api, model):
    for _ in range(2):
        new_version(api, model)
    got = api.ok(api.get("registered-models/alias", {"name": model, "alias": "Latest"}))["model_version"]
    assert got["version"] == "2"


def test_unsupported_methods_are_405(api):
    assert api.http.put(f"{api.base}/registered-models/create", json={}, timeout=30).status_code == 405


# -- in this process -----------------------------------------------------------------------------------
class _LiveApp:
    def __init__(self, app: Any):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        self.api = f"http://127.0.0.1:{port}/api/2.0/mlflow"

    def post(self, path: str, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        response = requests.post(f"{self.api}/{path}", json=body, timeout=30, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def separate_registry(tmp_path) -> Iterator[tuple[_LiveApp, str]]:
    from headwater_server import create_app

    registry_uri = f"sqlite:///{tmp_path / 'registry.db'}"
    app = create_app(f"sqlite:///{tmp_path / 'tracking.db'}", registry_store_uri=registry_uri,
                     artifacts_destination=str(tmp_path / "dest"))
    live = _LiveApp(app)
    yield live, registry_uri
    live.stop()


def test_rest_registry_calls_raise_events_with_the_actor(separate_registry):
    live, _ = separate_registry
    received: list[Any] = []
    names = ("create_registered_model", "create_model_version", "transition_model_version_stage",
             "set_registered_model_alias", "delete_registered_model")
    receiver = lambda sender, event, **extra: received.append(event)  # noqa: E731
    for name in names:
        signal(name).connect(receiver)
    try:
        auth = {"Authorization": "Basic " + base64.b64encode(b"alice:pw").decode()}
        live.post("registered-models/create", {"name": "evented"}, headers=auth)
        live.post("model-versions/create", {"name": "evented", "source": "s3://b/m"}, headers=auth)
        live.post("model-versions/transition-stage", {"name": "evented", "version": "1", "stage": "Staging"},
                  headers=auth)
        live.post("registered-models/alias", {"name": "evented", "alias": "champ", "version": "1"})
        response = requests.delete(f"{live.api}/registered-models/delete", json={"name": "evented"}, timeout=30,
                                   headers=auth)
        assert response.status_code == 200
        get_event_bus().flush(5)
    finally:
        for name in names:
            signal(name).disconnect(receiver)
    assert [(e.name, e.actor) for e in received] == [
        ("create_registered_model", "alice"), ("create_model_version", "alice"),
        ("transition_model_version_stage", "alice"), ("set_registered_model_alias", None),
        ("delete_registered_model", "alice"),
    ]


def test_registry_store_uri_puts_the_registry_in_its_own_database(separate_registry, tmp_path):
    from headwater_store_sql.registry_store import SqlRegistryStore

    live, registry_uri = separate_registry
    live.post("registered-models/create", {"name": "elsewhere"})
    separate = SqlRegistryStore(registry_uri)
    tracking_db = SqlRegistryStore(f"sqlite:///{tmp_path / 'tracking.db'}")
    try:
        assert [m.name for m in separate.search_registered_models()] == ["elsewhere"]
        assert list(tracking_db.search_registered_models()) == []
    finally:
        separate.close()
        tracking_db.close()
