"""The third-party flavor of docs/models.md, run as written: a plugin the core knows nothing about."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest

import headwater
from headwater.plugins.manager import make_plugin_manager, reset_plugin_manager

DOC = Path(__file__).resolve().parents[3] / "docs" / "models.md"


def _block_after(text: str, caption: str) -> str:
    match = re.search(re.escape(caption) + r"\s*```python\n(.*?)```", text, re.DOTALL)
    assert match, f"no code block after {caption!r} in {DOC}"
    return match.group(1)


@pytest.fixture
def poly_plugin(tmp_path, monkeypatch):
    text = DOC.read_text()
    package = tmp_path / "src" / "headwater_flavor_poly"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(_block_after(text, "`src/headwater_flavor_poly/__init__.py`:"))
    (package / "plugin.py").write_text(_block_after(text, "`src/headwater_flavor_poly/plugin.py`:"))
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    plugin = importlib.import_module("headwater_flavor_poly.plugin")
    manager = make_plugin_manager()
    manager.register(plugin, "flavor_poly", "headwater-flavor-poly", "0.1.0")
    reset_plugin_manager(manager)
    yield importlib.import_module("headwater_flavor_poly")
    reset_plugin_manager()
    for name in [m for m in sys.modules if m.startswith("headwater_flavor_poly")]:
        del sys.modules[name]


def test_the_documented_flavor_saves_loads_and_predicts(poly_plugin, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    headwater.save_model(poly_plugin.Polynomial([1, 0, 2]), "poly-model", input_example=[1.0, 2.0])
    assert headwater.load_model("poly-model").predict([3.0]) == [19.0]
    assert headwater.load_flavor("poly", "poly-model").coefficients == [1, 0, 2]
    provided = {r.name: r.provides for r in headwater.models.flavor._manager().describe()}
    assert provided["flavor_poly"] == ["flavor poly"]


def test_mlflow_loads_the_documented_flavor_through_its_loader_module(poly_plugin, tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.chdir(tmp_path)
    headwater.save_model(poly_plugin.Polynomial([0, 1]), "poly-model", signature=False)
    assert list(mlflow.pyfunc.load_model("poly-model").predict([4.0])) == [4.0]
