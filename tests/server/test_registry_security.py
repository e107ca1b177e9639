"""Model-version sources through a live server (spec/security.md §1): one test per attack shape.

Each attack is a ``model-versions/create`` whose source names files the
registering run does not own. The server must answer 400
INVALID_PARAMETER_VALUE, write no version, and so have nothing to serve from
``model-versions/get-artifact`` or ``get-download-uri`` afterwards. Two servers:
the shared one (artifacts proxied, ``mlflow-artifacts:/`` roots) and one whose
runs keep their artifacts in a local folder, next to a file that must stay
unreadable.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

SECRET = b"server-side secret"


@dataclass
class Target:
    api: object
    url: str
    run_id: str
    artifact_uri: str
    other_run_id: str
    other_artifact_uri: str
    secret: Path | None = None


def _runs(api) -> tuple[dict, dict]:
    experiment_id = api.create_experiment()
    return api.create_run(experiment_id)["info"], api.create_run(experiment_id)["info"]


@pytest.fixture(scope="module")
def local_server(start_server, tmp_path_factory):
    root = tmp_path_factory.mktemp("local-root")
    (root / "secret.txt").write_bytes(SECRET)
    server = start_server("--backend-store-uri", f"sqlite:///{root / 'tracking.db'}",
                          "--default-artifact-root", str(root / "mlruns"), "--no-serve-artifacts", cwd=root)
    server.options["root"] = root
    return server


@pytest.fixture
def local(local_server, make_api) -> Target:
    api = make_api(local_server.api)
    run, other = _runs(api)
    model_dir = Path(run["artifact_uri"]) / "model"
    model_dir.mkdir(parents=True)
    (model_dir / "MLmodel").write_text("flavors: {}\n")
    return Target(api, local_server.url, run["run_id"], run["artifact_uri"], other["run_id"], other["artifact_uri"],
                  local_server.options["root"] / "secret.txt")


@pytest.fixture
def proxied(tracking_server, api) -> Target:
    run, other = _runs(api)
    return Target(api, tracking_server.url, run["run_id"], run["artifact_uri"], other["run_id"], other["artifact_uri"])


def assert_refused(target: Target, source: str, run_id: str | None = None, **extra) -> None:
    """The source is refused, nothing is written, and nothing can be read back."""
    api = target.api
    name = f"attack-{uuid.uuid4().hex[:8]}"
    api.ok(api.post("registered-models/create", {"name": name}))
    body = {"name": name, "source": source, **extra}
    if run_id:
        body["run_id"] = run_id
    status, code, message = api.error(api.post("model-versions/create", body))
    assert (status, code) == (400, "INVALID_PARAMETER_VALUE"), message
    assert api.ok(api.get("model-versions/search", {"filter": f"name = '{name}'"})) == {}
    assert api.error(api.get("model-versions/get-download-uri", {"name": name, "version": "1"}))[0] == 404
    read_back = api.http.get(f"{target.url}/model-versions/get-artifact",
                             params={"name": name, "version": "1", "path": "secret.txt"}, timeout=30)
    assert read_back.status_code == 404 and SECRET not in read_back.content


# -- CVE-2023-1177: a plain absolute path ---------------------------------------------------------
def test_plain_absolute_path(local):
    assert_refused(local, str(local.secret.parent))
    assert_refused(local, str(local.secret.parent), local.run_id)
    assert_refused(local, "/etc", local.run_id)


# -- CVE-2023-2780: backslash traversal -------------------------------------------------------------
def test_backslash_dot_dot(local):
    assert_refused(local, local.artifact_uri + "\\..\\..\\..\\..", local.run_id)
    assert_refused(local, local.artifact_uri + "/model\\..\\..\\..\\..\\..", local.run_id)


# -- CVE-2023-2356: ../ inside http, mlflow-artifacts, file and s3 URIs ----------------------------
@pytest.mark.parametrize(
    "template",
    [
        "{url}/api/2.0/mlflow-artifacts/artifacts/{path}/../../../../../etc",
        "{root}/../../../../etc",
        "mlflow-artifacts://127.0.0.1:5000/../../../../",
        "file://{local}/../../..",
        "s3://bucket/models/../../../../etc",
    ],
)
def test_dot_dot_inside_uris(proxied, template):
    path = proxied.artifact_uri.removeprefix("mlflow-artifacts:/")
    source = template.format(url=proxied.url, path=path, root=proxied.artifact_uri, local="/tmp/mlruns")
    assert_refused(proxied, source, proxied.run_id)


# -- CVE-2024-1558: percent-encoded and double-encoded traversal ------------------------------------
@pytest.mark.parametrize("dots", ["%2e%2e", "%2E%2E", "%252e%252e", "%25252e%25252e", "..%2f..%2f.."])
def test_percent_encoded_traversal(proxied, local, dots):
    assert_refused(proxied, f"{proxied.artifact_uri}/{dots}/{dots}/{dots}/etc", proxied.run_id)
    assert_refused(local, f"{local.artifact_uri}/{dots}/{dots}/{dots}/secret.txt", local.run_id)
    assert_refused(local, f"file://{local.artifact_uri}/{dots}/{dots}/{dots}", local.run_id)


# -- CVE-2024-3573: empty or file scheme taken for a remote one -------------------------------------
@pytest.mark.parametrize(
    "source", ["file:///etc/passwd", "file:/etc", "file://localhost/etc", "file://attacker.example/share/model",
               "//etc/passwd", "file%3A///etc/passwd"],
)
def test_empty_or_file_scheme(local, proxied, source):
    assert_refused(local, source, local.run_id)
    assert_refused(proxied, source, proxied.run_id)


# -- CVE-2025-11201: a source naming files the run does not own (loading code from them) -----------
def test_another_runs_artifacts(proxied, local):
    assert_refused(proxied, f"{proxied.other_artifact_uri}/model", proxied.run_id)
    assert_refused(local, f"{local.other_artifact_uri}/model", local.run_id)
    assert_refused(proxied, f"runs:/{proxied.other_run_id}/model", proxied.run_id)
    assert_refused(proxied, f"{proxied.artifact_uri}/model", "no-such-run")


def test_symlink_out_of_the_runs_artifacts(local):
    os.symlink(local.secret.parent, Path(local.artifact_uri) / "escape")
    assert_refused(local, f"{local.artifact_uri}/escape", local.run_id)


def test_nul_character(proxied):
    assert_refused(proxied, f"{proxied.artifact_uri}/model%00", proxied.run_id)


def test_registry_uri_with_a_host(proxied):
    assert_refused(proxied, "models://other-registry/m/1")


# -- what must keep working ---------------------------------------------------------------------------
def test_sources_inside_the_run_are_accepted_and_readable(local, proxied):
    api = local.api
    name = f"ok-{uuid.uuid4().hex[:8]}"
    api.ok(api.post("registered-models/create", {"name": name}))
    for source in (f"{local.artifact_uri}/model", f"file://{local.artifact_uri}/model", f"runs:/{local.run_id}/model"):
        api.ok(api.post("model-versions/create", {"name": name, "source": source, "run_id": local.run_id}))
    served = api.http.get(f"{local.url}/model-versions/get-artifact",
                          params={"name": name, "version": "1", "path": "MLmodel"}, timeout=30)
    assert served.status_code == 200 and served.content == b"flavors: {}\n"
    assert served.headers["x-content-type-options"] == "nosniff"
    escaped = api.http.get(f"{local.url}/model-versions/get-artifact",
                           params={"name": name, "version": "1", "path": "../../../../secret.txt"}, timeout=30)
    assert escaped.status_code == 400 and SECRET not in escaped.content
    papi = proxied.api
    api_name = f"ok-{uuid.uuid4().hex[:8]}"
    papi.ok(papi.post("registered-models/create", {"name": api_name}))
    papi.ok(papi.post("model-versions/create", {"name": api_name, "source": f"{proxied.artifact_uri}/model",
                                                "run_id": proxied.run_id}))
    papi.ok(papi.post("model-versions/create", {"name": api_name, "source": "s3://bucket/any/model"}))
