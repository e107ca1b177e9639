"""What users subclass or hand over: ``PythonModel``, its context, and the wrapper for callables."""

from __future__ import annotations

import inspect
from typing import Any, Callable


class PythonModelContext:
    """What ``load_context`` receives: local paths of the model's artifacts, and its config."""

    def __init__(self, artifacts: dict[str, str] | None = None, model_config: dict[str, Any] | None = None):
        self._artifacts = dict(artifacts or {})
        self._model_config = dict(model_config or {})

    @property
    def artifacts(self) -> dict[str, str]:
        """Artifact name → absolute local path, inside the loaded model's directory."""
        return self._artifacts

    @property
    def model_config(self) -> dict[str, Any]:
        return self._model_config

    def __repr__(self) -> str:
        return f"PythonModelContext(artifacts={self._artifacts!r}, model_config={self._model_config!r})"


class PythonModel:
    """A custom model: override ``predict`` (and ``load_context`` to read artifacts once).

    ``predict(self, context, model_input, params=None)`` is MLflow's form;
    ``predict(self, model_input, params=None)`` (no context) works too.
    """

    def load_context(self, context: PythonModelContext) -> None:
        """Called once after loading, before any predict; read artifacts here."""

    def predict(self, context: PythonModelContext, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        raise NotImplementedError("A PythonModel subclass must implement predict().")


def _takes_params(fn: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "params" in parameters or any(p.kind == p.VAR_KEYWORD for p in parameters.values())


class FunctionModel(PythonModel):
    """A plain callable saved as a model: ``fn(model_input)`` or ``fn(model_input, params=...)``."""

    def __init__(self, fn: Callable[..., Any]):
        self.fn = fn

    def predict(self, context: PythonModelContext, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        if _takes_params(self.fn):
            return self.fn(model_input, params=params)
        return self.fn(model_input)
