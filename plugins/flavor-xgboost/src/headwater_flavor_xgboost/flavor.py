"""Saving and loading XGBoost models as MLflow does.

Files: ``model.<format>`` written by ``save_model`` of the booster or
estimator. The ``xgboost`` flavor records ``xgb_version``, ``data``,
``model_class`` (e.g. ``xgboost.core.Booster``), ``model_format`` and
``code``; the ``python_function`` flavor names ``mlflow.xgboost`` and the
same ``data``. ``model_class`` is only ever resolved inside the ``xgboost``
package.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from headwater.exceptions import HeadwaterError
from headwater.models.flavor import Flavor
from headwater.models.mlmodel import Model, add_pyfunc

FLAVOR_NAME = "xgboost"
MLFLOW_LOADER_MODULE = "mlflow.xgboost"
FORMATS = ("ubj", "json", "xgb")


def _require_xgboost() -> Any:
    try:
        import xgboost
    except ImportError:
        raise HeadwaterError.invalid(
            "The xgboost flavor needs XGBoost: pip install 'headwater-flavor-xgboost[xgboost]'"
            " (or xgboost-cpu)"
        ) from None
    return xgboost


def _model_class(qualified: str) -> type:
    module_name, _, class_name = qualified.rpartition(".")
    if module_name != "xgboost" and not module_name.startswith("xgboost."):
        raise HeadwaterError.invalid(f"Refusing model_class {qualified!r}: it is not an XGBoost class.")
    _require_xgboost()
    cls = getattr(importlib.import_module(module_name), class_name, None)
    if not isinstance(cls, type):
        raise HeadwaterError.invalid(f"Unknown XGBoost model class {qualified!r}.")
    return cls


def read_model(model_dir: str, conf: dict[str, Any]) -> Any:
    model = _model_class(conf.get("model_class") or "xgboost.core.Booster")()
    model.load_model(os.path.join(model_dir, conf["data"]))
    return model


class XGBoostFlavor(Flavor):
    name = FLAVOR_NAME
    loader_modules = (MLFLOW_LOADER_MODULE, "headwater_flavor_xgboost")
    specificity = 20  # an XGBRegressor is also an sklearn estimator; this flavor is the better fit
    distribution = "headwater-flavor-xgboost"

    def can_save(self, model: Any) -> bool:
        if "xgboost" not in sys.modules:
            return False
        import xgboost

        return isinstance(model, (xgboost.Booster, xgboost.XGBModel))

    def default_requirements(self) -> list[str]:
        return ["xgboost"] if _installed("xgboost") or not _installed("xgboost-cpu") else ["xgboost-cpu"]

    def save(self, model: Any, path: str, mlmodel: Model, code: str | None = None,
             model_format: str = "ubj", **options: Any) -> list[str] | None:
        if options:
            raise HeadwaterError.invalid(f"Unknown options for the xgboost flavor: {sorted(options)}")
        if model_format not in FORMATS:
            raise HeadwaterError.invalid(f"Unknown model_format {model_format!r}; expected one of {list(FORMATS)}.")
        xgboost = _require_xgboost()
        file_name = f"model.{model_format}"
        model.save_model(os.path.join(path, file_name))
        add_pyfunc(mlmodel, loader_module=MLFLOW_LOADER_MODULE, data=file_name, code=code)
        mlmodel.add_flavor(
            FLAVOR_NAME,
            xgb_version=xgboost.__version__,
            data=file_name,
            model_class=f"{type(model).__module__}.{type(model).__qualname__}",
            model_format=model_format,
            code=code,
        )
        return None

    def load(self, model_path: str, flavor_conf: dict[str, Any]) -> Any:
        return read_model(model_path, flavor_conf)

    def load_pyfunc(self, model_path: str, pyfunc_conf: dict[str, Any], model_config: dict[str, Any] | None = None) -> Any:
        return load_pyfunc_from_path(model_path)


def _installed(distribution: str) -> bool:
    from headwater.models.environment import installed_version

    return installed_version(distribution) is not None


def load_pyfunc_from_path(path: str) -> "XGBoostModelWrapper":
    model_dir = os.path.dirname(path) if os.path.isfile(path) else path
    conf = Model.load(model_dir).flavor_conf(FLAVOR_NAME)
    return XGBoostModelWrapper(read_model(model_dir, conf))


class XGBoostModelWrapper:
    def __init__(self, model: Any):
        self.model = model

    def get_raw_model(self) -> Any:
        return self.model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import xgboost

        if isinstance(self.model, xgboost.Booster):
            return self.model.predict(xgboost.DMatrix(data), **(params or {}))
        return self.model.predict(data)
