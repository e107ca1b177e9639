"""Model-version sources (spec/security.md §1): one test per attack shape, and the sources that must pass."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.registry.sources import check_source

RUN = "a" * 32
OTHER_RUN = "b" * 32


@pytest.fixture
def roots(tmp_path):
    """A run with local artifacts, a proxied run, and another run's artifacts beside the first."""
    local_root = tmp_path / "mlruns" / "1" / RUN / "artifacts"
    (local_root / "model").mkdir(parents=True)
    other_root = tmp_path / "mlruns" / "1" / OTHER_RUN / "artifacts"
    (other_root / "model").mkdir(parents=True)
    return SimpleNamespace(tmp=tmp_path, local=local_root, other=other_root)


@pytest.fixture
def get_run(roots):
    uris = {
        RUN: str(roots.local),
        OTHER_RUN: roots.other.as_uri(),
        "proxied": "mlflow-artifacts:/1/proxied/artifacts",
        "on-s3": "s3://bucket/1/on-s3/artifacts",
    }

    def lookup(run_id):
        if run_id not in uris:
            raise HeadwaterError.not_found(f"Run with id={run_id} not found")
        return SimpleNamespace(info=SimpleNamespace(artifact_uri=uris[run_id]))

    return lookup


def refused(source, run_id=None, get_run=None, model_id=None):
    with pytest.raises(HeadwaterError) as info:
        check_source(source, run_id, model_id, get_run)
    assert info.value.error_code == ErrorCode.INVALID_PARAMETER_VALUE, info.value.message
    return info.value.message


# -- attack shapes -------------------------------------------------------------------------------
def test_plain_absolute_path_without_a_run(get_run):  # CVE-2023-1177
    assert "run_id" in refused("/etc", None, get_run)


def test_absolute_path_outside_the_runs_artifacts(get_run, roots):  # CVE-2023-1177
    refused("/etc/passwd", RUN, get_run)
    refused(str(roots.tmp), RUN, get_run)


def test_relative_path(get_run, roots, monkeypatch):
    monkeypatch.chdir(roots.tmp)
    refused("mlruns", RUN, get_run)


@pytest.mark.parametrize(
    "source",
    ["{root}\\..\\..\\..", "C:\\mlruns\\1\\run\\artifacts\\..\\..\\secrets", "s3://bucket/a\\..\\b"],
)
def test_backslash_dot_dot(get_run, roots, source):  # CVE-2023-2780
    refused(source.format(root=roots.local), RUN, get_run)


@pytest.mark.parametrize(
    "source",
    [
        "http://host:5000/api/2.0/mlflow-artifacts/artifacts/1/proxied/artifacts/../../../../etc",
        "mlflow-artifacts:/1/proxied/artifacts/../../../../etc",
        "mlflow-artifacts://host:5000/../../../../",
        "file://{root}/../../../..",
        "s3://bucket/models/path/../../other/path",
        "{root}/model/../../../",
    ],
)
def test_dot_dot_inside_uris(get_run, roots, source):  # CVE-2023-2356
    refused(source.format(root=roots.local), "proxied", get_run)
    refused(source.format(root=roots.local), RUN, get_run)


@pytest.mark.parametrize(
    "source",
    [
        "mlflow-artifacts:/1/proxied/artifacts/%2e%2e/%2e%2e/%2e%2e/etc",
        "mlflow-artifacts:/1/proxied/artifacts/..%2f..%2f..%2fetc",
        "mlflow-artifacts:/1/proxied/artifacts/%252e%252e/%252e%252e/etc",
        "http://host/api/2.0/mlflow-artifacts/artifacts/1/proxied/artifacts/%25252e%25252e/x",
        "{root}/%2e%2e/%2e%2e",
        "file://{root}/%2E%2E%2F%2E%2E",
    ],
)
def test_percent_encoded_traversal(get_run, roots, source):  # CVE-2024-1558
    refused(source.format(root=roots.local), "proxied", get_run)


@pytest.mark.parametrize(
    "source",
    ["file:///etc/passwd", "file:/etc", "file://localhost/etc/passwd", "file://evil-host/share/model",
     "//etc/passwd", "file%3A///etc/passwd"],
)
def test_empty_or_file_scheme_is_local(get_run, source):  # CVE-2024-3573
    refused(source, None, get_run)
    refused(source, RUN, get_run)


def test_another_runs_artifacts(get_run, roots):  # CVE-2025-11201: loading code the run does not own
    refused(str(roots.other / "model"), RUN, get_run)
    refused(f"mlflow-artifacts:/1/{OTHER_RUN}/artifacts/model", "proxied", get_run)
    refused("mlflow-artifacts:/1/proxied/artifacts-evil/model", "proxied", get_run)


def test_symlink_out_of_the_artifacts(get_run, roots):
    link = roots.local / "escape"
    os.symlink(roots.tmp, link)
    refused(str(link / "mlruns"), RUN, get_run)


def test_nul_character(get_run, roots):
    refused(f"{roots.local}/model\x00.txt", RUN, get_run)
    refused("s3://bucket/model%00", None, get_run)


def test_proxied_source_needs_its_run(get_run):
    refused("mlflow-artifacts:/1/proxied/artifacts/model", None, get_run)
    refused("mlflow-artifacts:/1/proxied/artifacts/model", "missing-run", get_run)
    refused("https://host/api/2.0/mlflow-artifacts/artifacts/1/proxied/artifacts/model", "proxied", get_run)


def test_runs_and_models_uris_must_name_their_ids(get_run):
    refused(f"runs:/{OTHER_RUN}/model", RUN, get_run)
    refused(f"runs://host/{RUN}/model", RUN, get_run)
    refused("models:/m-" + "c" * 32, None, get_run, model_id="m-" + "d" * 32)
    refused("models://host/m/1", None, get_run)
    refused("models:/m/Production", None, get_run)  # must be pinned to a number first


def test_pattern_from_the_environment(get_run, monkeypatch):
    monkeypatch.setenv("HEADWATER_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX", r"^s3://approved/")
    refused("s3://elsewhere/model", None, get_run)
    check_source("s3://approved/model", None, None, get_run)


# -- what must pass ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "source, run_id, model_id",
    [
        ("s3://bucket/model", None, None),
        ("gs://bucket/a/b", None, None),
        ("{root}/model", RUN, None),
        ("file://{root}/model", RUN, None),
        ("{root}", RUN, None),
        ("mlflow-artifacts:/1/proxied/artifacts/model", "proxied", None),
        ("mlflow-artifacts:/1/proxied/artifacts/my%20model", "proxied", None),
        (f"runs:/{RUN}/model", RUN, None),
        ("models:/m/3", None, None),
        ("models:/m-" + "c" * 32, None, "m-" + "c" * 32),
        ("http://models.example.com/model.tar.gz", None, None),
    ],
)
def test_allowed_sources(get_run, roots, source, run_id, model_id):
    check_source(source.format(root=roots.local), run_id, model_id, get_run)
