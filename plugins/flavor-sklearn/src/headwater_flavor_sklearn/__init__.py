"""The ``sklearn`` flavor: scikit-learn estimators saved in MLflow's layout.

Models are written with ``loader_module: mlflow.sklearn`` and the same keys
MLflow writes, so MLflow loads them natively and this plugin loads models
MLflow saved. The default serialization is cloudpickle; ``skops`` needs the
``skops`` extra. Loading a pickled (or cloudpickled) estimator runs code from
the file: load only models you trust.
"""

from __future__ import annotations

from typing import Any


def _load_pyfunc(path: str) -> Any:
    """MLflow's loader contract (for models naming this module as loader_module)."""
    from headwater_flavor_sklearn.flavor import load_pyfunc_from_path

    return load_pyfunc_from_path(path)
