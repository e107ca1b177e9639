"""``save_model``, ``log_model``, ``load_model``, ``load_flavor`` and ``predict``.

Saving picks the flavor plugin for the object (or the one named), lets it
write its files, then adds what every model has: the signature (given, or
inferred from the input example and the model's prediction on it), the
input example, environment files pinned to installed versions, and the
MLmodel file.

``log_model`` stores the model as an MLflow 3 logged model of the active
run's experiment (``models:/<model_id>``, linked to the run as an output);
against a store without logged models it falls back to the run's artifacts
and the ``mlflow.log-model.history`` tag, as MLflow 2 and the R client do.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from headwater.entities import LoggedModelOutput, LoggedModelStatus
from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.models.environment import resolve_requirements, write_environment
from headwater.models.examples import save_input_example, split_example
from headwater.models.flavor import flavor_for_model, get_flavor
from headwater.models.mlmodel import PYFUNC_FLAVOR, Model, directory_size
from headwater.models.pyfunc import PyFuncModel, load_pyfunc
from headwater.models.signature import ModelSignature, infer_output_schema, infer_params_schema, infer_schema

log = logging.getLogger(__name__)

LOG_MODEL_HISTORY_TAG = "mlflow.log-model.history"
_TAG_VALUE_LIMIT = 8000
CODE_DIR = "code"


@dataclass
class ModelInfo:
    """What ``log_model`` returns: where the model went and what it holds."""

    model_uri: str
    run_id: str | None
    artifact_path: str
    flavors: dict[str, Any]
    model_id: str | None = None
    signature: ModelSignature | None = None
    utc_time_created: str | None = None
    metadata: dict[str, Any] | None = field(default=None)


def _check_target(path: str) -> None:
    if os.path.exists(path) and (not os.path.isdir(path) or os.listdir(path)):
        raise HeadwaterError(f"Path '{path}' already exists and is not empty", ErrorCode.RESOURCE_ALREADY_EXISTS)


def _copy_code(code_paths: Sequence[str] | None, path: str) -> str | None:
    if not code_paths:
        return None
    target = os.path.join(path, CODE_DIR)
    os.makedirs(target, exist_ok=True)
    for source in code_paths:
        name = os.path.basename(os.path.normpath(source))
        if os.path.isdir(source):
            shutil.copytree(source, os.path.join(target, name))
        else:
            shutil.copy2(source, os.path.join(target, name))
    return CODE_DIR


def _as_signature(signature: Any) -> ModelSignature | None | bool:
    if signature is None or signature is False or isinstance(signature, ModelSignature):
        return signature
    if isinstance(signature, Mapping):
        return ModelSignature.from_dict(dict(signature))
    raise HeadwaterError.invalid(f"signature must be a ModelSignature or a dict, got {type(signature).__name__}")


def _infer_from_example(path: str, mlmodel: Model, example: Any) -> ModelSignature | None:
    """Inputs from the example; outputs from the saved model's prediction on it (best effort)."""
    data, params = split_example(example)
    try:
        inputs = infer_schema(data)
    except HeadwaterError as err:
        log.warning("No signature inferred from the input example: %s", err.message)
        return None
    outputs = None
    if PYFUNC_FLAVOR in mlmodel.flavors:
        try:
            mlmodel.save(path)  # the loader reads the MLmodel file
            prediction = load_pyfunc(path).predict(data, params)
            outputs = infer_output_schema(prediction, inputs)
        except Exception as exc:  # a model that cannot predict its own example still saves
            log.warning("Could not infer the output schema from the input example: %s", exc)
    return ModelSignature(inputs, outputs, infer_params_schema(params))


def save_model(
    model: Any,
    path: str | os.PathLike[str],
    flavor: str | None = None,
    signature: ModelSignature | Mapping[str, Any] | bool | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    code_paths: Sequence[str] | None = None,
    mlmodel: Model | None = None,
    plugin_manager: Any = None,
    **flavor_options: Any,
) -> Model:
    """Save ``model`` as an MLflow-format model directory at ``path`` and return its MLmodel.

    ``flavor`` names the flavor plugin to use; by default the most specific
    installed flavor that accepts the object. ``signature=False`` saves no
    signature; ``None`` infers one from ``input_example`` if given.
    Other keyword arguments go to the flavor (e.g. ``serialization_format``
    for sklearn, ``artifacts`` for a PythonModel).
    """
    path = os.path.abspath(os.fspath(path))
    _check_target(path)
    chosen = get_flavor(flavor, plugin_manager) if flavor else flavor_for_model(model, plugin_manager)
    os.makedirs(path, exist_ok=True)
    try:
        mlmodel = mlmodel or Model()
        code = _copy_code(code_paths, path)
        requirements_of_flavor = chosen.save(model, path, mlmodel, code=code, **flavor_options)
        if input_example is not None:
            mlmodel.saved_input_example_info = save_input_example(path, input_example)
        sig = _as_signature(signature)
        if sig is None and input_example is not None:
            sig = _infer_from_example(path, mlmodel, input_example)
        mlmodel.signature = sig or None
        if metadata is not None:
            mlmodel.metadata = dict(metadata)
        if requirements_of_flavor is None:
            requirements_of_flavor = chosen.default_requirements()
        requirements = resolve_requirements(requirements_of_flavor, pip_requirements, extra_pip_requirements)
        env = write_environment(path, requirements)
        if PYFUNC_FLAVOR in mlmodel.flavors:
            mlmodel.flavors[PYFUNC_FLAVOR]["env"] = env
        from headwater import __version__

        setattr(mlmodel, "headwater_version", __version__)
        mlmodel.model_size_bytes = directory_size(path)
        mlmodel.save(path)
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    return mlmodel


def load_model(
    model_uri: str | os.PathLike[str],
    flavor: str | None = None,
    dst_path: str | None = None,
    model_config: Mapping[str, Any] | None = None,
) -> Any:
    """Load a model from any model URI.

    With no ``flavor``: a :class:`PyFuncModel` (``predict`` on DataFrames,
    arrays, dicts, lists). With a flavor name: that flavor's native object
    (an sklearn estimator, an xgboost Booster, ...).

    Loading deserialises the model's files, which for pickle-based flavors
    runs code they contain: load only models you trust.
    """
    from headwater.models.uri import download_model

    local = download_model(os.fspath(model_uri), dst_path)
    if flavor is None:
        return load_pyfunc(local, dict(model_config) if model_config else None)
    return load_flavor(flavor, local)


def load_flavor(flavor: str, model_path: str | os.PathLike[str]) -> Any:
    """The native model of ``flavor`` from a local model directory (the R API's ``mlflow_load_flavor``)."""
    model_path = os.path.abspath(os.fspath(model_path))
    mlmodel = Model.load(model_path)
    implementation = get_flavor(flavor)
    conf = mlmodel.flavor_conf(flavor)
    from headwater.models.pyfunc import add_code_to_path

    add_code_to_path(model_path, conf)
    return implementation.load(model_path, conf)


def predict(model: Any, data: Any, params: Mapping[str, Any] | None = None) -> Any:
    """Predict with a loaded model, a native model with ``predict``, or a model URI (loaded first)."""
    if isinstance(model, (str, os.PathLike)):
        model = load_model(model)
    if isinstance(model, PyFuncModel):
        return model.predict(data, dict(params) if params else None)
    fn = getattr(model, "predict", None)
    if fn is None:
        raise HeadwaterError.invalid(f"{type(model).__name__} has no predict method.")
    return fn(data)


# -- logging to a run ----------------------------------------------------------------------
def _history_entry(mlmodel: Model) -> dict[str, Any]:
    flavors = {name: {k: v for k, v in conf.items() if k != "config"} for name, conf in mlmodel.flavors.items()}
    return {"run_id": mlmodel.run_id, "artifact_path": mlmodel.artifact_path,
            "utc_time_created": mlmodel.utc_time_created, "model_uuid": mlmodel.model_uuid, "flavors": flavors}


def _append_history(client: Any, run_id: str, mlmodel: Model) -> None:
    current = client.get_run(run_id).data.tags.get(LOG_MODEL_HISTORY_TAG)
    history = json.loads(current) if current else []
    history.append(_history_entry(mlmodel))
    client.set_tag(run_id, LOG_MODEL_HISTORY_TAG, json.dumps(history)[:_TAG_VALUE_LIMIT])


def log_model(
    model: Any,
    name: str | None = None,
    artifact_path: str | None = None,
    flavor: str | None = None,
    signature: ModelSignature | Mapping[str, Any] | bool | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    code_paths: Sequence[str] | None = None,
    registered_model_name: str | None = None,
    run_id: str | None = None,
    model_type: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    step: int = 0,
    client: Any = None,
    **flavor_options: Any,
) -> ModelInfo:
    """Save ``model`` and log it to the active run (started on demand) or ``run_id``.

    ``name`` (or the older ``artifact_path``) names the model within the run:
    ``runs:/<run_id>/<name>`` loads it back, as does the returned ``model_uri``.
    """
    if client is None:
        from headwater.tracking.fluent import _target

        client, run_id = _target(run_id)
    elif run_id is None:
        raise HeadwaterError.invalid("log_model through a Client needs a run_id.")
    name = name or artifact_path or "model"
    run = client.get_run(run_id)
    save_options = dict(flavor=flavor, signature=signature, input_example=input_example,
                        pip_requirements=pip_requirements, extra_pip_requirements=extra_pip_requirements,
                        metadata=metadata, code_paths=code_paths, **flavor_options)
    try:
        logged = client.create_logged_model(
            run.info.experiment_id, name=name, source_run_id=run_id, model_type=model_type,
            params={k: str(v) for k, v in (params or {}).items()}, tags={k: str(v) for k, v in (tags or {}).items()},
        )
    except HeadwaterError as err:
        if err.error_code != ErrorCode.NOT_IMPLEMENTED:
            raise
        logged = None
    with tempfile.TemporaryDirectory(prefix="headwater-log-model-") as tmp:
        local = os.path.join(tmp, "model")
        if logged is None:
            mlmodel = Model(run_id=run_id, artifact_path=name)
            mlmodel = save_model(model, local, mlmodel=mlmodel, **save_options)
            client.log_artifacts(run_id, local, name)
            _append_history(client, run_id, mlmodel)
            info = ModelInfo(f"runs:/{run_id}/{name}", run_id, name, mlmodel.flavors, None, mlmodel.signature,
                             mlmodel.utc_time_created, mlmodel.metadata)
        else:
            mlmodel = Model(run_id=run_id, artifact_path=logged.artifact_uri, model_id=logged.model_id,
                            model_uuid=logged.model_id)
            try:
                mlmodel = save_model(model, local, mlmodel=mlmodel, **save_options)
                client.repository_for_uri(logged.artifact_uri).log_artifacts(local, None)
            except BaseException:
                client.finalize_logged_model(logged.model_id, LoggedModelStatus.UPLOAD_FAILED)
                raise
            client.finalize_logged_model(logged.model_id, LoggedModelStatus.READY)
            client.log_outputs(run_id, [LoggedModelOutput(model_id=logged.model_id, step=step)])
            info = ModelInfo(logged.model_uri, run_id, name, mlmodel.flavors, logged.model_id, mlmodel.signature,
                             mlmodel.utc_time_created, mlmodel.metadata)
    if registered_model_name:
        _register(client, info, registered_model_name)
    return info


def _register(client: Any, info: ModelInfo, registered_model_name: str) -> None:
    register = getattr(client, "register_model", None)
    if register is None:
        try:
            from headwater.tracking import fluent

            register = getattr(fluent, "register_model")
        except AttributeError:
            raise HeadwaterError(
                "registered_model_name needs the model registry, which this installation lacks.",
                ErrorCode.NOT_IMPLEMENTED,
            ) from None
    register(info.model_uri, registered_model_name)
