"""Every route of the running application refuses strangers (spec: security §5).

The routes are read from the live application, built with every installed
plugin, so a route added by any plugin (or a future one) is enumerated here
without anyone listing it. Each one is called twice:

- with no credentials: 401 (only /health and server-info are public);
- as a signed-in user with no permission on anything (default NO_PERMISSIONS),
  naming resources the admin owns: 403 — except the few routes open to every
  signed-in user by design, which must then leak none of the admin's data.

Afterwards the admin's resources are checked to be exactly as they were.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from headwater_auth.rules import ANY_USER_RPCS

PUBLIC = {"/health", "/api/3.0/mlflow/server-info", "/ajax-api/3.0/mlflow/server-info"}
# Routes about the caller's own account: a user may always use them on themselves.
OWN_ACCOUNT = {"users/current", "users/tokens/create", "users/tokens/list"}


def enumerate_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path template) for every route, sub-router and mount of the app."""
    found: list[tuple[str, str]] = []

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            kind = type(route).__name__
            if kind == "_IncludedRouter":
                walk(route.original_router.routes, prefix + route.include_context.prefix)
            elif kind == "Mount":
                found.append(("GET", prefix + route.path + "/{file:path}"))
            else:
                for method in sorted(getattr(route, "methods", None) or {"GET"}):
                    if method != "HEAD":
                        found.append((method, prefix + route.path))

    walk(app.router.routes, "")
    return sorted(set(found))


def _rpc(path: str) -> str | None:
    match = re.match(r"^/(?:ajax-)?api/\d\.0/mlflow/(.*)$", path)
    return match.group(1) if match else None


def _owned_by_admin(auth_app) -> dict[str, str]:
    experiment = auth_app.ok("POST", "/api/2.0/mlflow/experiments/create",
                             json={"name": f"admins-{uuid.uuid4().hex[:6]}"})["experiment_id"]
    run = auth_app.ok("POST", "/api/2.0/mlflow/runs/create", json={"experiment_id": experiment})["run"]["info"]
    auth_app.ok("POST", "/api/2.0/mlflow/runs/log-metric",
                json={"run_id": run["run_id"], "key": "loss", "value": 0.5, "timestamp": 1})
    auth_app.ok("PUT", f"/api/2.0/mlflow-artifacts/artifacts/{experiment}/{run['run_id']}/artifacts/secret.txt",
                data=b"admin's secret")
    model = auth_app.call("POST", "/api/2.0/mlflow/logged-models", ("admin", "Root-Secret-1234"),
                          json={"experiment_id": experiment, "name": "m"})
    return {"experiment_id": experiment, "run_id": run["run_id"],
            "model_id": model.json()["model"]["info"]["model_id"] if model.status_code == 200 else "m-missing"}


def _request_for(method: str, template: str, owned: dict[str, str]) -> tuple[str, dict[str, Any]]:
    values = {"model_id": owned["model_id"], "key": "tag", "action": "create-user",
              "artifact_path": f"{owned['experiment_id']}/{owned['run_id']}/artifacts/secret.txt",
              "file": "app.js"}
    path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values.get(m.group(1), "x"), template)
    fields: dict[str, Any] = {
        "experiment_id": owned["experiment_id"], "experiment_ids": [owned["experiment_id"]],
        "run_id": owned["run_id"], "run_ids": [owned["run_id"]], "run_uuid": owned["run_id"],
        "name": "admins-model", "new_name": "stolen", "username": "admin", "model_id": owned["model_id"],
        "path": f"{owned['experiment_id']}/{owned['run_id']}/artifacts", "key": "k", "value": "v",
        "metric_key": "loss", "experiment_name": "Default", "permission": "MANAGE", "password": "Stolen-Pass-999",
        "resource_type": "experiment", "resource_id": owned["experiment_id"], "max_results": 10,
        "timestamp": 1, "token_id": 1, "is_admin": True, "status": "FINISHED",
    }
    if method == "GET":
        return path, {"params": fields}
    if method == "PUT":
        return path, {"data": b"overwritten"}
    return path, {"json": fields}


def test_every_route_refuses_the_unauthenticated_and_the_unauthorised(strict_app):
    routes = enumerate_routes(strict_app.app)
    assert len(routes) > 100  # the tracking API, registry, artifacts, UI, auth: all there
    owned = _owned_by_admin(strict_app)
    # The model the test names, owned by the admin.
    strict_app.call("POST", "/api/2.0/mlflow/registered-models/create", ("admin", "Root-Secret-1234"),
                    json={"name": "admins-model"})
    stranger = strict_app.new_user()
    before = strict_app.ok("GET", "/api/2.0/mlflow/runs/get", params={"run_id": owned["run_id"]})
    open_to_users, refused = set(), set()
    for method, template in routes:
        path, request = _request_for(method, template, owned)
        anonymous = strict_app.call(method, path, None, **request)
        if template in PUBLIC:
            assert anonymous.status_code != 401, (method, template)
            continue
        assert anonymous.status_code == 401, (method, template, anonymous.status_code, anonymous.text[:200])
        assert anonymous.headers.get("www-authenticate", "").startswith("Basic")
        answer = strict_app.call(method, path, stranger, **request)
        rpc = _rpc(template)
        if answer.status_code == 403:
            if answer.headers.get("content-type", "").startswith("application/json"):
                assert answer.json()["error_code"] == "PERMISSION_DENIED"
            else:  # a page saying so (the admin page), never an API route
                assert not template.startswith(("/api/", "/ajax-api/")), template
            refused.add((method, template))
            continue
        open_to_users.add((method, template))
        assert rpc in ANY_USER_RPCS or rpc in OWN_ACCOUNT or rpc is None and not template.startswith(
            ("/api/", "/ajax-api/")) and method == "GET", (method, template, answer.status_code, answer.text[:300])
        assert b"admin's secret" not in answer.content and owned["run_id"].encode() not in answer.content, template
    assert refused and open_to_users
    after = strict_app.ok("GET", "/api/2.0/mlflow/runs/get", params={"run_id": owned["run_id"]})
    assert after == before  # nothing the stranger sent changed the admin's run
    experiment = strict_app.ok("GET", "/api/2.0/mlflow/experiments/get",
                               params={"experiment_id": owned["experiment_id"]})["experiment"]
    assert experiment["lifecycle_stage"] == "active" and experiment["name"].startswith("admins-")
    secret = strict_app.call("GET", f"/api/2.0/mlflow-artifacts/artifacts/{owned['experiment_id']}/"
                                    f"{owned['run_id']}/artifacts/secret.txt", ("admin", "Root-Secret-1234"))
    assert secret.content == b"admin's secret"
    admin = strict_app.ok("GET", "/api/2.0/mlflow/users/get", params={"username": "admin"})["user"]
    assert admin["is_admin"] is True


def test_a_route_added_by_another_plugin_is_for_admins_only(strict_app):
    """An API route no rule names fails closed; a page is open to signed-in users only."""
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def secret(request):
        return JSONResponse({"secret": 42})

    strict_app.app.router.routes.append(Route("/api/2.0/someplugin/secret", secret, methods=["GET", "POST"]))
    user = strict_app.new_user()
    assert strict_app.call("GET", "/api/2.0/someplugin/secret").status_code == 401
    assert strict_app.call("GET", "/api/2.0/someplugin/secret", user).status_code == 403
    assert strict_app.call("POST", "/api/2.0/someplugin/secret", user, json={}).status_code == 403
    assert strict_app.ok("GET", "/api/2.0/someplugin/secret") == {"secret": 42}
    assert strict_app.call("GET", "/no/such/page", user).status_code == 404
    assert strict_app.call("GET", "/no/such/page").status_code == 401
