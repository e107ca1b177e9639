"""Saving and loading ``PythonModel`` instances (and callables) in MLflow's pyfunc layout.

Layout (spec/model-format.md §4, PythonModel):

- ``python_model.pkl``: the instance, written with cloudpickle (MLflow's
  ``.gz``/``.bz2``/``.xz`` variants are read too);
- ``artifacts/<name>/<file>``: copies of the artifacts given at save time;
- the ``python_function`` flavor: ``loader_module``, ``python_model``,
  ``cloudpickle_version``, ``artifacts: {name: {path, uri}}``, ``config``.

Models saved by MLflow (``loader_module: mlflow.pyfunc.model``) load the same
way; their class refers to MLflow's ``PythonModel``, so unpickling them needs
the ``mlflow`` package installed.
"""

from __future__ import annotations

import bz2
import gzip
import inspect
import lzma
import os
import pickle
import shutil
from typing import Any

from headwater.exceptions import HeadwaterError
from headwater.models.flavor import Flavor
from headwater.models.mlmodel import add_pyfunc

from headwater_flavor_python_function.model import FunctionModel, PythonModel, PythonModelContext

LOADER_MODULE = "headwater_flavor_python_function"
MLFLOW_LOADER_MODULE = "mlflow.pyfunc.model"
PICKLE_FILE = "python_model.pkl"
ARTIFACTS_DIR = "artifacts"
_DECOMPRESS = {"gzip": gzip.open, "bzip2": bz2.open, "lzma": lzma.open}


def _looks_like_python_model(model: Any) -> bool:
    """A PythonModel of ours, or one of another library with the same protocol (MLflow's)."""
    if isinstance(model, PythonModel):
        return True
    return callable(getattr(model, "predict", None)) and callable(getattr(model, "load_context", None))


def _copy_artifacts(artifacts: dict[str, str] | None, path: str) -> dict[str, dict[str, str]]:
    from headwater.models.uri import download_model

    out: dict[str, dict[str, str]] = {}
    for name, uri in (artifacts or {}).items():
        if not name or "/" in name or name in (".", ".."):
            raise HeadwaterError.invalid(f"Invalid artifact name {name!r}")
        source = download_model(os.fspath(uri))
        target_dir = os.path.join(path, ARTIFACTS_DIR, name)
        os.makedirs(target_dir, exist_ok=True)
        base = os.path.basename(os.path.normpath(source))
        target = os.path.join(target_dir, base)
        if os.path.isdir(source):
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
        out[name] = {"path": f"{ARTIFACTS_DIR}/{name}/{base}", "uri": os.fspath(uri)}
    return out


class PythonFunctionFlavor(Flavor):
    name = "python_function"
    loader_modules = (LOADER_MODULE, MLFLOW_LOADER_MODULE)
    specificity = 0
    distribution = "headwater-flavor-python-function"

    def can_save(self, model: Any) -> bool:
        return _looks_like_python_model(model) or callable(model)

    def default_requirements(self) -> list[str]:
        return ["cloudpickle", self.distribution]  # type: ignore[list-item]

    def save(
        self,
        model: Any,
        path: str,
        mlmodel: Any,
        code: str | None = None,
        artifacts: dict[str, str] | None = None,
        model_config: dict[str, Any] | None = None,
        **options: Any,
    ) -> list[str] | None:
        if options:
            raise HeadwaterError.invalid(f"Unknown options for the python_function flavor: {sorted(options)}")
        import cloudpickle

        python_model = model if _looks_like_python_model(model) else FunctionModel(model)
        saved_artifacts = _copy_artifacts(artifacts, path)
        with open(os.path.join(path, PICKLE_FILE), "wb") as out:
            cloudpickle.dump(python_model, out, protocol=pickle.DEFAULT_PROTOCOL)
        extra: dict[str, Any] = {"python_model": PICKLE_FILE, "cloudpickle_version": cloudpickle.__version__}
        if saved_artifacts:
            extra["artifacts"] = saved_artifacts
        if model_config:
            extra["config"] = dict(model_config)
        add_pyfunc(mlmodel, loader_module=LOADER_MODULE, code=code, **extra)
        return None

    def load(self, model_path: str, flavor_conf: dict[str, Any]) -> Any:
        """The PythonModel instance itself, with its context loaded."""
        python_model, _ = load_python_model(model_path, flavor_conf, None)
        return python_model

    def load_pyfunc(self, model_path: str, pyfunc_conf: dict[str, Any], model_config: dict[str, Any] | None = None) -> Any:
        return load_python_model_wrapper(model_path, pyfunc_conf, model_config)


def load_python_model(model_path: str, conf: dict[str, Any], model_config: dict[str, Any] | None) -> tuple[Any, PythonModelContext]:
    """Unpickle the instance, build its context and call ``load_context``."""
    import cloudpickle

    pickle_file = os.path.join(model_path, conf.get("python_model", PICKLE_FILE))
    opener = _DECOMPRESS.get(conf.get("python_model_compression") or "", open)
    try:
        with opener(pickle_file, "rb") as src:
            python_model = cloudpickle.load(src)
    except ModuleNotFoundError as exc:
        raise HeadwaterError.invalid(
            f"The model's pickled class needs the Python module {exc.name!r}, which is not installed"
            " (a model saved by MLflow needs the mlflow package)."
        ) from None
    artifacts = {
        name: os.path.join(model_path, spec["path"] if isinstance(spec, dict) else spec)
        for name, spec in (conf.get("artifacts") or {}).items()
    }
    config = {**(conf.get("config") or {}), **(model_config or {})}
    context = PythonModelContext(artifacts, config)
    load_context = getattr(python_model, "load_context", None)
    if load_context is not None:
        load_context(context)
    return python_model, context


def load_python_model_wrapper(model_path: str, conf: dict[str, Any], model_config: dict[str, Any] | None) -> Any:
    python_model, context = load_python_model(model_path, conf, model_config)
    return PythonModelWrapper(python_model, context)


class PythonModelWrapper:
    """``predict(data, params=None)`` over a PythonModel, passing the context where it is wanted."""

    def __init__(self, python_model: Any, context: PythonModelContext):
        self.python_model = python_model
        self.context = context
        predict = python_model.predict
        try:
            parameters = inspect.signature(predict).parameters
        except (TypeError, ValueError):
            parameters = {}  # type: ignore[assignment]
        self._wants_context = "context" in parameters or len(
            [p for p in parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        ) >= 3
        self._takes_params = "params" in parameters or any(p.kind == p.VAR_KEYWORD for p in parameters.values())

    def get_raw_model(self) -> Any:
        return self.python_model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        args = (self.context, data) if self._wants_context else (data,)
        if self._takes_params:
            return self.python_model.predict(*args, params=params)
        return self.python_model.predict(*args)
