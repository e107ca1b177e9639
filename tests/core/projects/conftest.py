"""Fixtures for project tests: a tracking store, a project cache and real git repositories."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # projects_helpers, shared with the test modules

from projects_helpers import commit, git, write_files  # noqa: E402


@pytest.fixture
def tracking_uri(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'tracking.db'}"
    monkeypatch.setenv("HEADWATER_TRACKING_URI", uri)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    for name in ("HEADWATER_RUN_ID", "MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME",
                 "HEADWATER_EXPERIMENT_ID", "HEADWATER_EXPERIMENT_NAME"):
        monkeypatch.delenv(name, raising=False)
    return uri


@pytest.fixture
def client(tracking_uri):
    from headwater.tracking.client import Client

    return Client(tracking_uri)


@pytest.fixture(autouse=True)
def projects_cache(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("HEADWATER_PROJECTS_CACHE", str(cache))
    return cache


@pytest.fixture
def make_project(tmp_path):
    """``make_project({"MLproject": ..., "train.py": ...})`` -> a folder holding those files."""
    counter = iter(range(1000))

    def make(files: dict[str, str], name: str | None = None) -> Path:
        root = tmp_path / (name or f"project{next(counter)}")
        root.mkdir()
        return write_files(root, files)

    return make


@pytest.fixture
def make_git_repo(tmp_path):
    """A real git repository: ``repo = make_git_repo(files)``; ``commit(repo, files, msg)`` adds a commit."""

    def make(files: dict[str, str], name: str = "repo") -> Path:
        root = tmp_path / name
        root.mkdir()
        git("init", "-q", "-b", "main", cwd=root)
        commit(root, files, "first")
        return root

    return make
