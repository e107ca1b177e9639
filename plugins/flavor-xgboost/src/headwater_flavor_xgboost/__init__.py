"""The ``xgboost`` flavor: ``xgboost.Booster`` and the scikit-learn-API models, in MLflow's layout.

The model is written by XGBoost itself (``model.ubj`` by default, or ``json``),
not pickled; loading it runs no code from the file.
"""

from __future__ import annotations

from typing import Any


def _load_pyfunc(path: str) -> Any:
    """MLflow's loader contract (for models naming this module as loader_module)."""
    from headwater_flavor_xgboost.flavor import load_pyfunc_from_path

    return load_pyfunc_from_path(path)
