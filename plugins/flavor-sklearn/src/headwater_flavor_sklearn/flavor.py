"""Saving and loading scikit-learn estimators (spec/model-format.md §4, sklearn).

Files: ``model.pkl`` (pickle or cloudpickle) or ``model.skops``. The
``sklearn`` flavor records ``pickled_model``, ``sklearn_version``,
``serialization_format``, ``code`` and ``skops_trusted_types``; the
``python_function`` flavor records ``model_path`` and ``predict_fn``. Older
models give the file as ``data`` instead, and a missing
``serialization_format`` means pickle.
"""

from __future__ import annotations

import os
import pickle
import sys
from typing import Any

from headwater.exceptions import HeadwaterError
from headwater.models.flavor import Flavor
from headwater.models.mlmodel import PYFUNC_FLAVOR, Model, add_pyfunc

FLAVOR_NAME = "sklearn"
MLFLOW_LOADER_MODULE = "mlflow.sklearn"
FORMATS = ("cloudpickle", "pickle", "skops")
_FILES = {"cloudpickle": "model.pkl", "pickle": "model.pkl", "skops": "model.skops"}


def _require_sklearn() -> Any:
    try:
        import sklearn
    except ImportError:
        raise HeadwaterError.invalid(
            "The sklearn flavor needs scikit-learn: pip install 'headwater-flavor-sklearn[sklearn]'"
        ) from None
    return sklearn


def read_estimator(file_path: str, serialization_format: str, trusted_types: Any = None) -> Any:
    if serialization_format not in FORMATS:
        raise HeadwaterError.invalid(
            f"Unrecognized serialization format {serialization_format!r}; expected one of {list(FORMATS)}."
        )
    _require_sklearn()
    if serialization_format == "skops":
        try:
            import skops.io
        except ImportError:
            raise HeadwaterError.invalid(
                "This model was saved in the skops format: pip install 'headwater-flavor-sklearn[skops]'"
            ) from None
        return skops.io.load(file_path, trusted=trusted_types)
    with open(file_path, "rb") as src:
        if serialization_format == "pickle":
            return pickle.load(src)
        import cloudpickle

        return cloudpickle.load(src)


class SklearnFlavor(Flavor):
    name = FLAVOR_NAME
    loader_modules = (MLFLOW_LOADER_MODULE, "headwater_flavor_sklearn")
    specificity = 10
    distribution = "headwater-flavor-sklearn"

    def can_save(self, model: Any) -> bool:
        if "sklearn.base" not in sys.modules:  # no estimator can exist without it; skip the import
            return False
        from sklearn.base import BaseEstimator

        return isinstance(model, BaseEstimator)

    def default_requirements(self) -> list[str]:
        return ["scikit-learn", "cloudpickle"]

    def save(
        self,
        model: Any,
        path: str,
        mlmodel: Model,
        code: str | None = None,
        serialization_format: str = "cloudpickle",
        pyfunc_predict_fn: str = "predict",
        skops_trusted_types: list[str] | None = None,
        **options: Any,
    ) -> list[str]:
        if options:
            raise HeadwaterError.invalid(f"Unknown options for the sklearn flavor: {sorted(options)}")
        if serialization_format not in FORMATS:
            raise HeadwaterError.invalid(
                f"Unrecognized serialization format {serialization_format!r}; expected one of {list(FORMATS)}."
            )
        sklearn = _require_sklearn()
        file_name = _FILES[serialization_format]
        target = os.path.join(path, file_name)
        if serialization_format == "skops":
            import skops.io

            skops.io.dump(model, target)
        else:
            import cloudpickle

            dumper = pickle if serialization_format == "pickle" else cloudpickle
            with open(target, "wb") as out:
                dumper.dump(model, out, protocol=pickle.DEFAULT_PROTOCOL)
        if hasattr(model, pyfunc_predict_fn):
            add_pyfunc(mlmodel, loader_module=MLFLOW_LOADER_MODULE, code=code, model_path=file_name,
                       predict_fn=pyfunc_predict_fn)
        mlmodel.add_flavor(
            FLAVOR_NAME,
            pickled_model=file_name,
            sklearn_version=sklearn.__version__,
            serialization_format=serialization_format,
            code=code,
            skops_trusted_types=skops_trusted_types,
        )
        return ["scikit-learn", "skops" if serialization_format == "skops" else "cloudpickle"]

    def load(self, model_path: str, flavor_conf: dict[str, Any]) -> Any:
        file_path = os.path.join(model_path, flavor_conf["pickled_model"])
        return read_estimator(file_path, flavor_conf.get("serialization_format") or "pickle",
                              flavor_conf.get("skops_trusted_types"))

    def load_pyfunc(self, model_path: str, pyfunc_conf: dict[str, Any], model_config: dict[str, Any] | None = None) -> Any:
        relative = pyfunc_conf.get("model_path") or pyfunc_conf.get("data")
        file_path = os.path.join(model_path, relative) if relative else model_path
        return load_pyfunc_from_path(file_path, pyfunc_conf.get("predict_fn") or "predict")


def load_pyfunc_from_path(path: str, predict_fn: str | None = None) -> "SklearnModelWrapper":
    """The estimator at ``path`` (its file, or the model directory) behind ``predict``."""
    model_dir = os.path.dirname(path) if os.path.isfile(path) else path
    mlmodel = Model.load(model_dir)
    conf = mlmodel.flavors.get(FLAVOR_NAME, {})
    if not os.path.isfile(path):
        pyfunc = mlmodel.flavors.get(PYFUNC_FLAVOR, {})
        relative = pyfunc.get("model_path") or pyfunc.get("data") or conf.get("pickled_model")
        predict_fn = predict_fn or pyfunc.get("predict_fn")
        path = os.path.join(model_dir, relative)
    estimator = read_estimator(path, conf.get("serialization_format") or "pickle", conf.get("skops_trusted_types"))
    return SklearnModelWrapper(estimator, predict_fn or "predict")


class SklearnModelWrapper:
    def __init__(self, estimator: Any, predict_fn: str = "predict"):
        self.estimator = estimator
        self._predict = getattr(estimator, predict_fn, None)
        if self._predict is None:
            raise HeadwaterError.invalid(f"The estimator has no method {predict_fn!r}.")

    def get_raw_model(self) -> Any:
        return self.estimator

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self._predict(data)
