"""Logged models through the REST store: a live ``headwater server``, and a server without the endpoints."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from headwater.entities import LoggedModelOutput, LoggedModelStatus
from headwater.exceptions import ErrorCode, HeadwaterError
from headwater_store_rest import RestStore
from headwater_store_rest.transport import HttpConfig


@pytest.fixture
def store(rest_server):
    rest_server.reset()
    rest_store = RestStore(rest_server.url, HttpConfig(max_retries=0))
    yield rest_store
    rest_store.close()


def test_the_whole_lifecycle_over_rest(store):
    exp_id = store.create_experiment("logged")
    run = store.create_run(exp_id, start_time=1)
    model = store.create_logged_model(exp_id, "model", run.info.run_id, {"t": "1"}, {"p": "2"}, "regressor")
    assert model.status == LoggedModelStatus.PENDING and model.source_run_id == run.info.run_id
    assert model.artifact_uri.endswith(f"/{exp_id}/models/{model.model_id}/artifacts")
    store.set_logged_model_tags(model.model_id, {"stage": "dev"})
    store.delete_logged_model_tag(model.model_id, "t")
    store.log_logged_model_params(model.model_id, {"q": "3"})
    ready = store.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    assert ready.status == LoggedModelStatus.READY
    got = store.get_logged_model(model.model_id)
    assert (got.tags, got.params, got.model_type) == ({"stage": "dev"}, {"p": "2", "q": "3"}, "regressor")
    store.log_outputs(run.info.run_id, [LoggedModelOutput(model_id=model.model_id, step=2)])
    assert [(o.model_id, o.step) for o in store.get_run(run.info.run_id).outputs.model_outputs] == [(model.model_id, 2)]
    other = store.create_logged_model(exp_id, "other")
    page = store.search_logged_models([exp_id], max_results=1, order_by=[{"field_name": "name", "ascending": True}])
    rest = store.search_logged_models([exp_id], max_results=1, order_by=[{"field_name": "name", "ascending": True}],
                                      page_token=page.token)
    assert [m.name for m in page] == ["model"] and [m.name for m in rest] == ["other"] and rest.token is None
    assert [m.model_id for m in store.search_logged_models([exp_id], "name = 'other'")] == [other.model_id]
    store.delete_logged_model(other.model_id)
    assert store.get_logged_model(other.model_id, allow_deleted=True).model_id == other.model_id
    with pytest.raises(HeadwaterError) as info:
        store.get_logged_model(other.model_id)
    assert info.value.error_code == ErrorCode.RESOURCE_DOES_NOT_EXIST


def test_errors_keep_their_codes(store):
    with pytest.raises(HeadwaterError) as info:
        store.create_logged_model("0", "bad/name")
    assert info.value.error_code == ErrorCode.INVALID_PARAMETER_VALUE
    with pytest.raises(HeadwaterError) as info:
        store.finalize_logged_model("m-" + "0" * 32, LoggedModelStatus.READY)
    assert info.value.error_code == ErrorCode.RESOURCE_DOES_NOT_EXIST


def test_a_server_without_logged_models_means_not_implemented():
    class NotFound(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html>Not Found</html>")

        do_GET = do_PATCH = do_POST  # noqa: N815

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        store = RestStore(f"http://127.0.0.1:{server.server_address[1]}", HttpConfig(max_retries=0))
        with pytest.raises(HeadwaterError) as info:
            store.create_logged_model("0", "m")
        assert info.value.error_code == ErrorCode.NOT_IMPLEMENTED
    finally:
        server.shutdown()
