"""Authentication and permissions, request by request: what is let through, what is refused, and
that a refused request changes nothing."""

from __future__ import annotations

import re
import threading
import time
import uuid

import pytest

from headwater_auth import migrate
from headwater_auth.admin_page import csrf_token

ADMIN = ("admin", "Root-Secret-1234")
API = "/api/2.0/mlflow"


def _experiment(app, who=ADMIN, name=None) -> str:
    return app.ok("POST", f"{API}/experiments/create", who, json={"name": name or f"e-{uuid.uuid4().hex[:8]}"})[
        "experiment_id"]


def _run(app, experiment_id, who=ADMIN) -> str:
    return app.ok("POST", f"{API}/runs/create", who, json={"experiment_id": experiment_id})["run"]["info"]["run_id"]


def _grant(app, experiment_id, user, permission):
    app.ok("POST", f"{API}/experiments/permissions/create",
           json={"experiment_id": experiment_id, "username": user[0], "permission": permission})


def _error(response, status, code):
    assert response.status_code == status, response.text
    assert response.json()["error_code"] == code, response.text


def _experiment_count(app) -> int:
    return len(app.ok("POST", f"{API}/experiments/search", json={"max_results": 1000, "view_type": "ALL"})
               .get("experiments", []))


# -- authentication -------------------------------------------------------------------------------
def test_wrong_or_missing_credentials_are_401_and_change_nothing(auth_app):
    user = auth_app.new_user()
    count = _experiment_count(auth_app)
    for who in (None, (user[0], "Wrong-Password-1"), ("nobody", "Whatever-123"), "hwt_not-a-token"):
        answer = auth_app.call("POST", f"{API}/experiments/create", who, json={"name": "should-not-exist"})
        _error(answer, 401, "UNAUTHENTICATED")
        assert answer.headers["www-authenticate"] == 'Basic realm="headwater"'
    for raw in ("Basic !!!", "Basic " + "dXNlcg==", "Digest abc", "Bearer"):
        _error(auth_app.call("GET", f"{API}/experiments/get", headers={"Authorization": raw},
                             params={"experiment_id": "0"}), 401, "UNAUTHENTICATED")
    assert _experiment_count(auth_app) == count


def test_tokens_authenticate_until_they_expire_or_are_deleted(auth_app):
    user = auth_app.new_user()
    created = auth_app.ok("POST", f"{API}/users/tokens/create", user, json={"name": "ci", "expires_in_days": 1})
    token = created["token"]
    assert auth_app.ok("GET", f"{API}/users/current", token)["user"]["username"] == user[0]
    auth_app.ok("DELETE", f"{API}/users/tokens/delete", user, json={"token_id": created["token_info"]["id"]})
    _error(auth_app.call("GET", f"{API}/users/current", token), 401, "UNAUTHENTICATED")
    short = auth_app.ok("POST", f"{API}/users/tokens/create", user, json={"expires_in_days": 0.00002})["token"]
    assert auth_app.call("GET", f"{API}/users/current", short).status_code == 200
    time.sleep(2)
    expired = auth_app.call("POST", f"{API}/experiments/create", short, json={"name": "by-expired-token"})
    _error(expired, 401, "UNAUTHENTICATED")
    assert "expired" in expired.json()["message"]
    assert auth_app.call("GET", f"{API}/experiments/get-by-name", ADMIN,
                         params={"experiment_name": "by-expired-token"}).status_code == 404
    _error(auth_app.call("POST", f"{API}/users/tokens/create", user, json={"expires_in_days": 10_000}),
           400, "INVALID_PARAMETER_VALUE")


def test_a_changed_password_stops_the_old_one_at_once(auth_app):
    user = auth_app.new_user()
    assert auth_app.call("GET", f"{API}/users/current", user).status_code == 200
    _error(auth_app.call("PATCH", f"{API}/users/update-password", user,
                         json={"username": user[0], "password": "Brand-New-Pass-42"}), 400, "INVALID_PARAMETER_VALUE")
    auth_app.ok("PATCH", f"{API}/users/update-password", user,
                json={"username": user[0], "password": "Brand-New-Pass-42", "current_password": user[1]})
    _error(auth_app.call("GET", f"{API}/users/current", user), 401, "UNAUTHENTICATED")
    assert auth_app.call("GET", f"{API}/users/current", (user[0], "Brand-New-Pass-42")).status_code == 200


# -- permissions ---------------------------------------------------------------------------------------
def test_edit_can_change_but_not_delete(strict_app):
    user = strict_app.new_user()
    experiment = _experiment(strict_app)
    run = _run(strict_app, experiment)
    _grant(strict_app, experiment, user, "EDIT")
    strict_app.ok("POST", f"{API}/runs/log-metric", user, json={"run_id": run, "key": "m", "value": 1, "timestamp": 1})
    strict_app.ok("POST", f"{API}/experiments/set-experiment-tag", user,
                  json={"experiment_id": experiment, "key": "k", "value": "v"})
    new_run = _run(strict_app, experiment, user)
    for path, body in (("runs/delete", {"run_id": run}), ("runs/delete", {"run_id": new_run}),
                       ("experiments/delete", {"experiment_id": experiment}),
                       ("experiments/restore", {"experiment_id": experiment})):
        _error(strict_app.call("POST", f"{API}/{path}", user, json=body), 403, "PERMISSION_DENIED")
    got = strict_app.ok("GET", f"{API}/runs/get", params={"run_id": run})["run"]["info"]
    assert got["lifecycle_stage"] == "active"
    artifact = f"/api/2.0/mlflow-artifacts/artifacts/{experiment}/{run}/artifacts/f.txt"
    strict_app.ok("PUT", artifact, user, data=b"x")
    _error(strict_app.call("DELETE", artifact, user), 403, "PERMISSION_DENIED")
    assert strict_app.call("GET", artifact, ADMIN).content == b"x"


def test_read_can_read_only_and_no_permissions_nothing(strict_app):
    reader, stranger = strict_app.new_user(), strict_app.new_user()
    experiment = _experiment(strict_app)
    run = _run(strict_app, experiment)
    _grant(strict_app, experiment, reader, "READ")
    _grant(strict_app, experiment, stranger, "NO_PERMISSIONS")
    strict_app.ok("GET", f"{API}/runs/get", reader, params={"run_id": run})
    strict_app.ok("GET", f"{API}/experiments/get", reader, params={"experiment_id": experiment})
    _error(strict_app.call("POST", f"{API}/runs/log-metric", reader,
                           json={"run_id": run, "key": "m", "value": 1, "timestamp": 1}), 403, "PERMISSION_DENIED")
    _error(strict_app.call("POST", f"{API}/runs/create", reader, json={"experiment_id": experiment}),
           403, "PERMISSION_DENIED")
    for who in (stranger,):
        _error(strict_app.call("GET", f"{API}/runs/get", who, params={"run_id": run}), 403, "PERMISSION_DENIED")
        _error(strict_app.call("GET", f"{API}/experiments/get", who, params={"experiment_id": experiment}),
               403, "PERMISSION_DENIED")
    assert "metrics" not in strict_app.ok("GET", f"{API}/runs/get", params={"run_id": run})["run"]["data"]


def test_runs_take_their_experiments_permission(strict_app):
    user = strict_app.new_user()
    mine, theirs = _experiment(strict_app), _experiment(strict_app)
    _grant(strict_app, mine, user, "EDIT")
    run_mine, run_theirs = _run(strict_app, mine), _run(strict_app, theirs)
    strict_app.ok("POST", f"{API}/runs/set-tag", user, json={"run_id": run_mine, "key": "a", "value": "b"})
    _error(strict_app.call("POST", f"{API}/runs/set-tag", user, json={"run_id": run_theirs, "key": "a", "value": "b"}),
           403, "PERMISSION_DENIED")
    _error(strict_app.call("GET", f"{API}/runs/get", user, params={"run_id": "f" * 32}), 404, "RESOURCE_DOES_NOT_EXIST")
    # Other spellings the server reads must name the same run to the check as to the handler.
    for body in ({"runId": run_theirs}, {"run_id": "", "run_uuid": run_theirs}, {"run_uuid": run_theirs},
                 {"run_id": run_mine, "runId": run_theirs}, "{\"run_id\": \"%s\"}" % run_theirs):
        answer = strict_app.call("POST", f"{API}/runs/set-tag", user,
                                 json={**body, "key": "x", "value": "y"} if isinstance(body, dict) else body)
        assert answer.status_code in (400, 403), (body, answer.text)
    tags = strict_app.ok("GET", f"{API}/runs/get", params={"run_id": run_theirs})["run"]["data"].get("tags", [])
    assert not [t for t in tags if t["key"] in ("x", "a")]


def test_creators_manage_what_they_create_and_searches_show_only_the_readable(strict_app):
    user = strict_app.new_user()
    hidden = _experiment(strict_app)
    _run(strict_app, hidden)
    own = _experiment(strict_app, user)
    own_run = _run(strict_app, own, user)
    found = strict_app.ok("POST", f"{API}/experiments/search", user, json={"max_results": 100})["experiments"]
    assert [e["experiment_id"] for e in found] == [own]
    runs = strict_app.ok("POST", f"{API}/runs/search", user, json={"experiment_ids": [own, hidden]})["runs"]
    assert [r["info"]["run_id"] for r in runs] == [own_run]
    assert strict_app.ok("POST", f"{API}/runs/search", user, json={"experiment_ids": [hidden]}) == {}
    strict_app.ok("POST", f"{API}/runs/delete", user, json={"run_id": own_run})
    strict_app.ok("POST", f"{API}/experiments/delete", user, json={"experiment_id": own})


def test_registered_model_permissions_follow_renames_and_deletes(strict_app):
    owner, other = strict_app.new_user(), strict_app.new_user()
    name = f"model-{uuid.uuid4().hex[:6]}"
    strict_app.ok("POST", f"{API}/registered-models/create", owner, json={"name": name})
    _error(strict_app.call("GET", f"{API}/registered-models/get", other, params={"name": name}), 403, "PERMISSION_DENIED")
    strict_app.ok("POST", f"{API}/registered-models/permissions/create", owner,
                  json={"name": name, "username": other[0], "permission": "READ"})
    strict_app.ok("GET", f"{API}/registered-models/get", other, params={"name": name})
    _error(strict_app.call("PATCH", f"{API}/registered-models/update", other, json={"name": name, "description": "x"}),
           403, "PERMISSION_DENIED")
    listed = strict_app.ok("GET", f"{API}/registered-models/search", other)["registered_models"]
    assert [m["name"] for m in listed] == [name]
    strict_app.ok("POST", f"{API}/registered-models/rename", owner, json={"name": name, "new_name": name + "-v2"})
    strict_app.ok("GET", f"{API}/registered-models/get", other, params={"name": name + "-v2"})
    strict_app.ok("DELETE", f"{API}/registered-models/delete", owner, json={"name": name + "-v2"})
    strict_app.ok("POST", f"{API}/registered-models/create", ADMIN, json={"name": name + "-v2"})
    _error(strict_app.call("GET", f"{API}/registered-models/get", other, params={"name": name + "-v2"}),
           403, "PERMISSION_DENIED")  # the old grant went with the deleted model


def test_permissions_on_missing_things_are_404_and_create_nothing(auth_app):
    user = auth_app.new_user()
    cases = [
        ("POST", "experiments/permissions/create", {"experiment_id": "987654", "username": user[0], "permission": "READ"}),
        ("POST", "registered-models/permissions/create", {"name": "no-such-model", "username": user[0], "permission": "READ"}),
        ("POST", "experiments/permissions/create", {"experiment_id": "0", "username": "no-such-user", "permission": "READ"}),
        ("GET", "experiments/permissions/get", {"experiment_id": "0", "username": user[0]}),
        ("PATCH", "experiments/permissions/update", {"experiment_id": "0", "username": user[0], "permission": "EDIT"}),
        ("DELETE", "experiments/permissions/delete", {"experiment_id": "0", "username": user[0]}),
    ]
    for method, path, body in cases:
        kwargs = {"params": body} if method == "GET" else {"json": body}
        _error(auth_app.call(method, f"{API}/{path}", ADMIN, **kwargs), 404, "RESOURCE_DOES_NOT_EXIST")
    _error(auth_app.call("POST", f"{API}/experiments/permissions/create", ADMIN,
                         json={"experiment_id": "0", "username": user[0], "permission": "OWNER"}),
           400, "INVALID_PARAMETER_VALUE")
    granted = auth_app.ok("GET", f"{API}/users/get", params={"username": user[0]})["user"]
    assert granted["experiment_permissions"] == [] and granted["registered_model_permissions"] == []


def test_only_admins_manage_accounts(auth_app):
    user = auth_app.new_user()
    for method, path, body in (
        ("POST", "users/create", {"username": "sneaky", "password": "Sneaky-Pass-123"}),
        ("PATCH", "users/update-admin", {"username": user[0], "is_admin": True}),
        ("DELETE", "users/delete", {"username": "admin"}),
        ("PATCH", "users/update-password", {"username": "admin", "password": "Taken-Over-123"}),
    ):
        _error(auth_app.call(method, f"{API}/{path}", user, json=body), 403, "PERMISSION_DENIED")
    _error(auth_app.call("GET", f"{API}/users/get", user, params={"username": "admin"}), 403, "PERMISSION_DENIED")
    _error(auth_app.call("GET", f"{API}/users/list", user), 403, "PERMISSION_DENIED")
    _error(auth_app.call("POST", f"{API}/users/create", None, json={"username": "anon", "password": "Anon-Pass-1234"}),
           401, "UNAUTHENTICATED")
    users = {u["username"]: u for u in auth_app.ok("GET", f"{API}/users/list")["users"]}
    assert set(users) == {"admin", user[0]} and not users[user[0]]["is_admin"]
    assert auth_app.call("GET", f"{API}/users/current", ADMIN).status_code == 200


@pytest.mark.parametrize("password, rule", [
    ("Short-1", "at least 12"), ("alllowercaseletters", "mix at least 2"), ("Contains-newbie-name1", "username"),
])
def test_password_rules(auth_app, password, rule):
    answer = auth_app.call("POST", f"{API}/users/create", ADMIN, json={"username": "newbie", "password": password})
    _error(answer, 400, "INVALID_PARAMETER_VALUE")
    assert rule in answer.json()["message"]
    _error(auth_app.call("GET", f"{API}/users/get", ADMIN, params={"username": "newbie"}), 404, "RESOURCE_DOES_NOT_EXIST")


def test_self_signup_only_when_configured(make_auth_app):
    app = make_auth_app(HEADWATER_AUTH_ALLOW_SIGNUP="true", HEADWATER_AUTH_ALLOWED_HOSTS="mlflow.example.org")
    created = app.ok("POST", f"{API}/users/create", None, json={"username": "self-made", "password": "Own-Choice-Pass1"},
                     headers={"host": "mlflow.example.org"})
    assert created["user"]["is_admin"] is False
    _error(app.call("POST", f"{API}/users/create", None, json={"username": "weak", "password": "weak"},
                    headers={"host": "mlflow.example.org"}),
           400, "INVALID_PARAMETER_VALUE")
    _error(app.call("POST", f"{API}/experiments/create", None, json={"name": "anonymous"}), 401, "UNAUTHENTICATED")
    assert app.call("GET", f"{API}/users/current", ("self-made", "Own-Choice-Pass1")).status_code == 200


def test_host_header_checks(auth_app):
    _error(auth_app.call("GET", f"{API}/users/current", ADMIN, headers={"host": "attacker.example"}), 400, "BAD_REQUEST")
    assert auth_app.call("GET", f"{API}/users/current", ADMIN, headers={"host": "127.0.0.1:5000"}).status_code == 200
    assert auth_app.call("GET", f"{API}/users/current", ADMIN, headers={"host": "[::1]:5000"}).status_code == 200
    assert auth_app.call("GET", "/health", None, headers={"host": "attacker.example"}).status_code == 200


def test_admin_page_form_posts_need_a_csrf_token_and_the_same_origin(auth_app):
    page = auth_app.call("GET", "/auth/admin", ADMIN)
    assert page.status_code == 200 and "script" not in page.headers["content-security-policy"].replace(
        "default-src 'none'", "")
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text).group(1)
    form = {"username": "formuser", "password": "Form-User-Pass1"}
    headers = {"content-type": "application/x-www-form-urlencoded"}

    def post(fields, extra=None):
        from urllib.parse import urlencode

        return auth_app.call("POST", "/auth/admin/create-user", ADMIN, data=urlencode(fields).encode(),
                             headers={**headers, **(extra or {})})

    assert post(form).status_code == 403
    assert post({**form, "csrf_token": "0" * 64}).status_code == 403
    assert post({**form, "csrf_token": token}, {"origin": "http://attacker.example"}).status_code == 403
    assert auth_app.call("GET", f"{API}/users/get", ADMIN, params={"username": "formuser"}).status_code == 404
    user = auth_app.new_user()
    assert auth_app.call("GET", "/auth/admin", user).status_code == 403
    done = post({**form, "csrf_token": token}, {"origin": "http://localhost"})
    assert done.status_code == 200 and "Created user formuser" in done.text
    assert auth_app.ok("GET", f"{API}/users/get", params={"username": "formuser"})["user"]["is_admin"] is False
    assert token == csrf_token(auth_app.app.state.auth.store.secret(), "admin")


def test_events_carry_the_authenticated_user(auth_app):
    from headwater.events import signal

    seen: list[str | None] = []
    done = threading.Event()

    def receiver(sender, event, **extra):
        seen.append(event.actor)
        done.set()

    signal("create_experiment").connect(receiver)
    try:
        user = auth_app.new_user()
        _experiment(auth_app, user)
        assert done.wait(10)
    finally:
        signal("create_experiment").disconnect(receiver)
    assert seen == [user[0]]


def test_the_auth_tables_have_their_own_migration_chain(auth_app):
    import os

    import sqlalchemy as sa

    versions = os.listdir(os.path.join(os.path.dirname(migrate.__file__), "migrations", "versions"))
    newest = sorted(v.split("_")[0] for v in versions if v.endswith(".py"))[-1]
    assert newest.lstrip("a").lstrip("0") == migrate.HEAD_REVISION.lstrip("a").lstrip("0")
    engine = sa.create_engine(auth_app.backend_uri)
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        auth_version = conn.execute(sa.text("SELECT version_num FROM headwater_auth_alembic_version")).scalar()
    engine.dispose()
    assert auth_version == migrate.HEAD_REVISION
    assert {"headwater_auth_users", "headwater_auth_experiment_permissions", "experiments"} <= tables
    assert migrate.upgrade_auth_database(auth_app.backend_uri) == migrate.HEAD_REVISION  # idempotent


def test_a_model_version_cannot_point_at_a_run_its_creator_cannot_read(strict_app):
    user = strict_app.new_user()
    hidden = _experiment(strict_app)
    hidden_run = _run(strict_app, hidden)
    own = _experiment(strict_app, user)
    own_run = _run(strict_app, own, user)
    name = f"m-{uuid.uuid4().hex[:6]}"
    strict_app.ok("POST", f"{API}/registered-models/create", user, json={"name": name})
    for body in ({"source": f"runs:/{hidden_run}/model"},
                 {"source": f"mlflow-artifacts:/{hidden}/{hidden_run}/artifacts/model", "run_id": hidden_run},
                 {"source": f"mlflow-artifacts:/{hidden}/{hidden_run}/artifacts/model"}):
        _error(strict_app.call("POST", f"{API}/model-versions/create", user, json={"name": name, **body}),
               403, "PERMISSION_DENIED")
    assert "latest_versions" not in strict_app.ok("GET", f"{API}/registered-models/get", params={"name": name})[
        "registered_model"]
    strict_app.ok("POST", f"{API}/model-versions/create", user,
                  json={"name": name, "source": f"mlflow-artifacts:/{own}/{own_run}/artifacts/model", "run_id": own_run})


def test_artifact_previews_of_logged_models_take_the_models_experiment(strict_app):
    user = strict_app.new_user()
    hidden, own = _experiment(strict_app), _experiment(strict_app, user)
    models = {}
    for experiment in (hidden, own):
        answer = strict_app.ok("POST", f"{API}/logged-models", json={"experiment_id": experiment, "name": "m"})
        models[experiment] = answer["model"]["info"]["model_id"]
    for route in ("artifacts/get", "artifacts/preview"):
        refused = strict_app.call("GET", f"/api/2.0/headwater/{route}", user,
                                  params={"model_id": models[hidden], "path": "MLmodel"})
        _error(refused, 403, "PERMISSION_DENIED")
        allowed = strict_app.call("GET", f"/api/2.0/headwater/{route}", user,
                                  params={"model_id": models[own], "path": "MLmodel"})
        assert allowed.status_code in (200, 404), allowed.text  # allowed through (no file logged)
