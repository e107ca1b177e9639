"""Which permission each route needs: the one table the enforcement point consults.

A request is matched to a :class:`Rule` by its path (static prefix removed)
and method. The levels follow MLflow's basic auth: reading needs READ,
changing needs EDIT, deleting or restoring needs MANAGE (EDIT cannot delete),
and managing others' permissions needs MANAGE. Runs and logged models take
their experiment's permission; model versions and aliases their registered
model's.

Anything not in the table fails closed: an unknown ``/api/`` or ``/ajax-api/``
route (a plugin's, say) is for admins only until a rule names it, and only
reading web pages (GET) is open to any signed-in user. A handful of routes are
open to every signed-in user by design (:data:`ANY_USER_RPCS`): creating an
experiment or model (the creator then MANAGEs it), and searches, whose
results are filtered to what the caller may read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """What a route needs.

    ``kind``: ``public``, ``user`` (any signed-in user), ``admin``, ``experiment``,
    ``experiment_name``, ``run``, ``runs`` (every id in a list), ``experiments``
    (every id in a list), ``logged_model``, ``model`` (a registered model by
    name), ``artifact`` (the proxy: the experiment id leads the path), or
    ``account`` (the auth endpoints; they check the caller themselves).
    ``param`` names the request field holding the resource; ``action`` is
    ``read``, ``update``, ``delete`` or ``manage``; ``after`` names work done
    on the answer (granting the creator, filtering a search).
    """

    kind: str
    action: str = "read"
    param: str | None = None
    after: str | None = None


PUBLIC = Rule("public")
USER = Rule("user")
ADMIN = Rule("admin")
ACCOUNT = Rule("account")


def _exp(action: str, param: str = "experiment_id") -> Rule:
    return Rule("experiment", action, param)


def _run(action: str) -> Rule:
    return Rule("run", action, "run_id")


def _model(action: str, after: str | None = None) -> Rule:
    return Rule("model", action, "name", after)


# RPC path (after /api/<v>/mlflow/) -> rule, or method -> rule where methods differ.
RPC_RULES: dict[str, Rule | dict[str, Rule]] = {
    # experiments
    "experiments/create": Rule("user", after="grant_experiment"),
    "experiments/search": Rule("user", after="filter_experiments"),
    "experiments/get": _exp("read"),
    "experiments/get-by-name": Rule("experiment_name", "read", "experiment_name"),
    "experiments/update": _exp("update"),
    "experiments/set-experiment-tag": _exp("update"),
    "experiments/delete-experiment-tag": _exp("update"),
    "experiments/delete": _exp("delete"),
    "experiments/restore": _exp("delete"),
    # runs
    "runs/create": _exp("update"),
    "runs/search": Rule("user", after="readable_experiment_ids"),
    "runs/get": _run("read"),
    "runs/update": _run("update"),
    "runs/log-metric": _run("update"),
    "runs/log-parameter": _run("update"),
    "runs/log-batch": _run("update"),
    "runs/log-model": _run("update"),
    "runs/log-inputs": _run("update"),
    "runs/outputs": _run("update"),
    "runs/set-tag": _run("update"),
    "runs/delete-tag": _run("update"),
    "runs/delete": _run("delete"),
    "runs/restore": _run("delete"),
    "metrics/get-history": _run("read"),
    "metrics/get-history-bulk": Rule("runs", "read", "run_id"),
    "metrics/get-history-bulk-interval": Rule("runs", "read", "run_ids"),
    "artifacts/list": _run("read"),
    # logged models (paths with ids are matched by LOGGED_MODEL_RULES below)
    "logged-models": _exp("update"),
    "logged-models/search": Rule("user", after="readable_experiment_ids"),
    # model registry
    "registered-models/create": Rule("user", after="grant_model"),
    "registered-models/search": Rule("user", after="filter_models"),
    "registered-models/get": _model("read"),
    "registered-models/get-latest-versions": _model("read"),
    "registered-models/update": _model("update"),
    "registered-models/rename": _model("update", after="rename_model"),
    "registered-models/set-tag": _model("update"),
    "registered-models/delete-tag": _model("update"),
    "registered-models/delete": _model("delete", after="forget_model"),
    "registered-models/alias": {"GET": _model("read"), "HEAD": _model("read"), "POST": _model("update"),
                                "DELETE": _model("delete")},
    # EDIT on the model and READ on the version's source (else a version could expose a run's files).
    "model-versions/create": Rule("model_version_create", "update", "name"),
    "model-versions/search": Rule("user", after="filter_versions"),
    "model-versions/get": _model("read"),
    "model-versions/get-download-uri": _model("read"),
    "model-versions/update": _model("update"),
    "model-versions/transition-stage": _model("update"),
    "model-versions/set-tag": _model("update"),
    "model-versions/delete-tag": _model("delete"),
    "model-versions/delete": _model("delete"),
    # about the server
    "server-info": PUBLIC,
    # accounts and permissions: the endpoints check the caller themselves
    **{f"users/{name}": ACCOUNT for name in (
        "create", "get", "current", "list", "update-password", "update-admin", "delete",
        "tokens/create", "tokens/list", "tokens/delete",
        "permissions/grant", "permissions/revoke", "permissions/get")},
    **{f"{kind}/permissions/{verb}": ACCOUNT
       for kind in ("experiments", "registered-models") for verb in ("create", "get", "update", "delete")},
}

# Routes any signed-in user may call whatever their grants (results filtered or creator-owned).
ANY_USER_RPCS = frozenset(name for name, rule in RPC_RULES.items() if isinstance(rule, Rule) and rule.kind == "user")

_LOGGED_MODEL = re.compile(r"^logged-models/(?P<id>[^/]+)(?P<rest>/.*)?$")
_LOGGED_MODEL_RULES = {
    ("", "GET"): "read", ("", "HEAD"): "read", ("", "PATCH"): "update", ("", "DELETE"): "delete",
    ("/tags", "PATCH"): "update", ("/params", "POST"): "update",
    ("/artifacts/directories", "GET"): "read", ("/artifacts/files", "GET"): "read",
}

# Headwater's own browsing endpoints (/api/2.0/headwater/...).
HEADWATER_RULES: dict[str, Rule] = {
    "metrics/downsampled": _run("read"),
    "runs/keys": Rule("experiments", "read", "experiment_ids"),
    # a run's files, or with model_id (and no run_id) a logged model's
    "artifacts/get": Rule("run_or_logged_model", "read", "run_id"),
    "artifacts/preview": Rule("run_or_logged_model", "read", "run_id"),
}

_API = re.compile(r"^/(?:ajax-)?api/(?P<version>\d+)\.0/(?P<family>[^/]+)(?:/(?P<rest>.*))?$")
_ARTIFACT_ACTIONS = {"GET": "read", "HEAD": "read", "PUT": "update", "POST": "update", "DELETE": "delete"}


def rule_for(method: str, path: str) -> Rule:
    """The rule for one request; ``path`` has the static prefix removed."""
    method = method.upper()
    if path in ("/health", "/favicon.ico"):
        return PUBLIC
    if path == "/get-artifact":
        return _run("read")
    if path == "/model-versions/get-artifact":
        return _model("read")
    match = _API.match(path)
    if match is None:
        # The web UI's pages and assets (any plugin's): reading needs a signed-in user.
        return USER if method in ("GET", "HEAD") else ADMIN
    family, rest = match["family"], match["rest"] or ""
    if family == "mlflow-artifacts":
        return Rule("artifact", _ARTIFACT_ACTIONS.get(method, "manage"), "path")
    if family == "headwater":
        return HEADWATER_RULES.get(rest, ADMIN)
    if family != "mlflow":
        return ADMIN
    rule = RPC_RULES.get(rest)
    if isinstance(rule, dict):
        return rule.get(method, ADMIN)
    if rule is not None:
        return rule
    logged = _LOGGED_MODEL.match(rest)
    if logged is not None and logged["id"] != "search":
        tail = logged["rest"] or ""
        if tail.startswith("/tags/") and method == "DELETE":
            return Rule("logged_model", "delete", "model_id")
        action = _LOGGED_MODEL_RULES.get((tail, method))
        if action is not None:
            return Rule("logged_model", action, "model_id")
    return ADMIN
