"""MLflow's own client (3.17.2, unchanged) against ``headwater server --app-name basic-auth``.

It authenticates with MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN,
logs runs, metrics and artifacts where it may, is refused where it may not,
and manages users and permissions through MLflow's own REST helper (what its
AuthServiceClient calls; importing that module needs Flask-WTF, a server-side
extra, so the calls are made the same way here).
"""

from __future__ import annotations

import uuid

import pytest
import requests

ADMIN = ("admin", "Root-Secret-1234")


def _auth_call(tracking_uri, endpoint, method, **kwargs):
    from mlflow.utils.rest_utils import http_request, verify_rest_response
    from mlflow.utils.credentials import get_default_host_creds

    response = http_request(get_default_host_creds(tracking_uri), endpoint, method, **kwargs)
    return verify_rest_response(response, endpoint).json()


@pytest.fixture
def as_user(monkeypatch):
    def use(username=None, password=None, token=None):
        for key in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
            monkeypatch.delenv(key, raising=False)
        if username:
            monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", username)
            monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", password)
        if token:
            monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    return use


def test_mlflow_client_with_password_and_with_token(auth_server, as_user, tmp_path):
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    as_user(*ADMIN)
    username = f"alice-{uuid.uuid4().hex[:6]}"
    user = _auth_call(auth_server, "/api/2.0/mlflow/users/create", "POST",
                      json={"username": username, "password": "Alice-Password-77"})["user"]
    assert user["username"] == username and user["is_admin"] is False
    admin = MlflowClient(tracking_uri=auth_server)
    shared = admin.create_experiment(f"shared-{uuid.uuid4().hex[:6]}")
    admin_run = admin.create_run(shared).info.run_id
    _auth_call(auth_server, "/api/3.0/mlflow/users/permissions/grant", "POST",
               json={"username": username, "resource_type": "experiment", "resource_id": shared, "permission": "READ"})
    got = _auth_call(auth_server, "/api/3.0/mlflow/users/permissions/get", "GET",
                     params={"username": username, "resource_type": "experiment", "resource_id": shared})
    assert got == {"allowed": True, "permission": "READ"}

    as_user(username, "Alice-Password-77")
    alice = MlflowClient(tracking_uri=auth_server)
    own = alice.create_experiment(f"alices-{uuid.uuid4().hex[:6]}")
    run = alice.create_run(own)
    alice.log_metric(run.info.run_id, "loss", 0.25, step=1)
    (tmp_path / "notes.txt").write_text("hello")
    alice.log_artifact(run.info.run_id, str(tmp_path / "notes.txt"))
    assert [f.path for f in alice.list_artifacts(run.info.run_id)] == ["notes.txt"]
    assert alice.get_run(admin_run).info.run_id == admin_run  # READ on the shared experiment
    with pytest.raises(MlflowException) as refused:
        alice.log_metric(admin_run, "loss", 1.0)
    assert refused.value.error_code == "PERMISSION_DENIED"
    with pytest.raises(MlflowException) as not_admin:
        _auth_call(auth_server, "/api/2.0/mlflow/users/create", "POST",
                   json={"username": "mallory", "password": "Mallory-Pass-999"})
    assert not_admin.value.error_code == "PERMISSION_DENIED"

    token = requests.post(f"{auth_server}/api/2.0/mlflow/users/tokens/create", auth=(username, "Alice-Password-77"),
                          json={"name": "laptop", "expires_in_days": 1}, timeout=30).json()["token"]
    as_user(token=token)
    by_token = MlflowClient(tracking_uri=auth_server)
    by_token.log_metric(run.info.run_id, "loss", 0.125, step=2)
    history = by_token.get_metric_history(run.info.run_id, "loss")
    assert [m.value for m in history] == [0.25, 0.125]

    as_user(username, "wrong-password")
    with pytest.raises(MlflowException) as unauthenticated:
        MlflowClient(tracking_uri=auth_server).get_run(run.info.run_id)
    assert "401" in str(unauthenticated.value) or unauthenticated.value.error_code == "UNAUTHENTICATED"


def test_the_run_owner_stays_the_clients_user_id_as_in_mlflow(auth_server, as_user):
    """The client's own user_id is kept (MLflow semantics); auth only decides who may write."""
    from mlflow import MlflowClient

    as_user(*ADMIN)
    client = MlflowClient(tracking_uri=auth_server)
    experiment = client.create_experiment(f"owner-{uuid.uuid4().hex[:6]}")
    run = client.create_run(experiment, tags={"mlflow.user": "someone"})
    assert client.get_run(run.info.run_id).data.tags["mlflow.user"] == "someone"
