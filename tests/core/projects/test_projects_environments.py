"""Environments: chosen from the project, built from python_env.yaml, cached by content hash."""

from __future__ import annotations

import json
import sys

import pytest

import headwater.projects as projects
from headwater.entities import RunStatus
from headwater.projects.envfiles import python_env_from_conda, read_python_env
from headwater.projects.environments import plan_environment
from headwater.projects.spec import ProjectError, load_project

PY = f"{sys.version_info.major}.{sys.version_info.minor}"

# Runs inside the built environment: reports which interpreter it got and whether `six` imports.
PROBE_PY = """
import json, os, sys
try:
    import six
    six_version = six.__version__
except ImportError:
    six_version = None
with open(os.environ["RESULT_FILE"], "w") as out:
    json.dump({"prefix": sys.prefix, "six": six_version, "argv": sys.argv[1:]}, out)
"""


def project_with_env(make_project, python_env: str, manager_line: str = "") -> object:
    return make_project({
        "MLproject": "python_env: python_env.yaml\nentry_points:\n  main:\n"
                     "    parameters: {n: {type: int, default: 1}}\n    command: python probe.py --n {n}\n",
        "python_env.yaml": python_env,
        "probe.py": PROBE_PY,
    })


def test_default_managers(make_project):
    assert plan_environment(load_project(make_project({"a.py": ""})), None).manager == "local"
    root = make_project({"python_env.yaml": f"python: '{PY}'\n"})
    assert plan_environment(load_project(root), None).manager == "virtualenv"
    with pytest.raises(ProjectError, match="Unknown environment manager 'pipenv'"):
        plan_environment(load_project(root), "pipenv")


def test_python_env_file_errors_name_file_and_field(make_project):
    root = make_project({"python_env.yaml": "python: 3.10\n"})
    with pytest.raises(ProjectError, match=r"python_env.yaml: python: .*quoted string"):
        read_python_env(root / "python_env.yaml")
    (root / "python_env.yaml").write_text("dependencies: [six]\n")
    with pytest.raises(ProjectError, match="python: Field required"):
        read_python_env(root / "python_env.yaml")
    (root / "python_env.yaml").write_text(f"python: '{PY}'\ndependencies: six\n")
    with pytest.raises(ProjectError, match="dependencies"):
        read_python_env(root / "python_env.yaml")


def test_conda_file_read_for_virtualenv(make_project):
    root = make_project({"conda.yaml": "name: x\ndependencies:\n  - python=3.11.4\n  - pip\n  - pip:\n    - six==1.17.0\n"})
    env = python_env_from_conda(root / "conda.yaml")
    assert env.python == "3.11.4" and env.dependencies == ["six==1.17.0"]


def test_unavailable_python_version_is_a_clear_error(make_project):
    root = project_with_env(make_project, "python: '2.6'\n")
    with pytest.raises(ProjectError, match="asks for Python 2.6"):
        plan_environment(load_project(root), "virtualenv")


def test_missing_requirements_file_is_named(make_project):
    root = project_with_env(make_project, f"python: '{PY}'\ndependencies: ['-r requirements.txt']\n")
    with pytest.raises(ProjectError, match="requirements.txt, which does not exist"):
        plan_environment(load_project(root), "virtualenv")


def test_cache_key_follows_content(make_project):
    root = project_with_env(make_project, f"python: '{PY}'\ndependencies: ['-r requirements.txt']\n")
    (root / "requirements.txt").write_text("six\n")
    key = plan_environment(load_project(root), "virtualenv").key
    assert plan_environment(load_project(root), "virtualenv").key == key
    (root / "requirements.txt").write_text("six==1.17.0\n")
    assert plan_environment(load_project(root), "virtualenv").key != key


@pytest.mark.slow
def test_virtualenv_is_built_once_and_reused(make_project, client, tmp_path, monkeypatch, capfd):
    result = tmp_path / "result.json"
    monkeypatch.setenv("RESULT_FILE", str(result))
    root = project_with_env(make_project, f"python: '{PY}'\ndependencies: [six]\n")
    first = projects.run(str(root), parameters={"n": "2"})
    got = json.loads(result.read_text())
    assert got["six"] is not None and got["argv"] == ["--n", "2"]
    env_prefix = got["prefix"]
    assert env_prefix.startswith(str(tmp_path / "cache" / "envs"))
    assert "Built the virtualenv environment" in capfd.readouterr().err
    run = client.get_run(first.run_id)
    assert run.info.status == RunStatus.FINISHED and run.data.tags["mlflow.project.env"] == "virtualenv"

    projects.run(str(root), parameters={"n": "3"})
    assert json.loads(result.read_text())["prefix"] == env_prefix
    assert "Using the cached virtualenv environment" in capfd.readouterr().err


@pytest.mark.slow
def test_uv_environment(make_project, client, tmp_path, monkeypatch):
    from headwater.projects.environments import _uv_exe

    if _uv_exe() is None:
        pytest.skip("uv is not installed (it is in requirements-dev.txt)")
    result = tmp_path / "result.json"
    monkeypatch.setenv("RESULT_FILE", str(result))
    root = project_with_env(make_project, f"python: '{PY}'\n")
    submitted = projects.run(str(root), env_manager="uv")
    got = json.loads(result.read_text())
    assert got["prefix"].startswith(str(tmp_path / "cache" / "envs" / "uv-"))
    assert got["six"] is None  # a fresh environment, not this one
    assert client.get_run(submitted.run_id).data.tags["mlflow.project.env"] == "uv"


@pytest.mark.slow
def test_failed_environment_build_fails_the_run(make_project, client):
    root = project_with_env(make_project, f"python: '{PY}'\ndependencies: ['no-such-package-headwater-test==0.0.1']\n")
    with pytest.raises(ProjectError, match="Building the virtualenv environment failed"):
        projects.run(str(root))
    (run,) = client.search_runs(["0"]).items
    assert run.info.status == RunStatus.FAILED
    assert "no-such-package-headwater-test" in run.data.tags["headwater.project.failureReason"]
