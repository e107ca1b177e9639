"""Fixtures for the model tests: real scikit-learn models, and a tracking store per test."""

from __future__ import annotations

import pytest

from headwater.plugins.manager import reset_plugin_manager
from headwater.tracking import uri as uri_module

pd = pytest.importorskip("pandas")
np = pytest.importorskip("numpy")
sklearn_linear = pytest.importorskip("sklearn.linear_model")

TRACKING_ENV = ("HEADWATER_TRACKING_URI", "MLFLOW_TRACKING_URI", "HEADWATER_ARTIFACT_ROOT", "MLFLOW_ARTIFACT_ROOT",
                "HEADWATER_RUN_ID", "MLFLOW_RUN_ID", "HEADWATER_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_ID",
                "HEADWATER_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_NAME")


@pytest.fixture
def frame():
    return pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [0, 1, 1, 0]})


@pytest.fixture
def linear(frame):
    """LinearRegression on y = 2a + 3b + 1."""
    target = 2 * frame["a"] + 3 * frame["b"] + 1
    return sklearn_linear.LinearRegression().fit(frame, target)


@pytest.fixture
def tracking(tmp_path, monkeypatch):
    """A SQLite tracking store and artifact root of this test's own; no run left active."""
    import headwater

    for name in TRACKING_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'tracking.db'}"
    monkeypatch.setenv("HEADWATER_TRACKING_URI", uri)
    monkeypatch.setenv("HEADWATER_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    uri_module.set_tracking_uri(None)
    reset_plugin_manager()
    yield uri
    while headwater.active_run() is not None:
        headwater.end_run()
    reset_plugin_manager()
