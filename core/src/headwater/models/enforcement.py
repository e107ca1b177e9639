"""Checking and converting predict inputs and params against a model's signature.

``PyFuncModel.predict`` runs every input through :func:`enforce_inputs` and
every params dict through :func:`enforce_params`. A missing column, a value
that cannot be converted safely, or a tensor of the wrong shape raises
:class:`SchemaEnforcementError` (INVALID_PARAMETER_VALUE, error class
``SCHEMA_ENFORCEMENT_FAILED``), which the scoring server answers with 400.

Conversions are the safe ones only: integers widen to longs and floats,
floats never become integers, strings are never parsed as numbers; binary
columns accept base64 text (how JSON carries bytes), datetime columns accept
ISO text.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any

from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.models.signature import Array, ColSpec, ParamSchema, Schema, TensorSpec

log = logging.getLogger(__name__)

SCHEMA_ENFORCEMENT_FAILED = "SCHEMA_ENFORCEMENT_FAILED"


class SchemaEnforcementError(HeadwaterError):
    """Input or params do not fit the model's signature (a caller's error: 400)."""

    error_class = SCHEMA_ENFORCEMENT_FAILED
    sqlstate = "KAM01"

    def __init__(self, message: str):
        super().__init__(message, ErrorCode.INVALID_PARAMETER_VALUE)

    def to_dict(self) -> dict[str, str]:
        return {**super().to_dict(), "error_class": self.error_class, "sqlstate": self.sqlstate}


_INT_RANGES = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
_NUMPY_DTYPE = {"integer": "int32", "long": "int64", "float": "float32", "double": "float64", "boolean": "bool"}


# -- columns -----------------------------------------------------------------------------
def _is_listlike(value: Any) -> bool:
    import numpy as np

    return isinstance(value, (list, tuple, np.ndarray))


def _to_frame(data: Any, schema: Schema) -> Any:
    """Any supported input as a DataFrame whose columns can be matched to the schema."""
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame()
    specs = {s.name: s for s in schema.specs}
    if isinstance(data, dict):
        # {col: [values]} is columns, {col: value} is one row; an array-typed column keeps its list.
        columnar = [
            _is_listlike(v) and not isinstance(getattr(specs.get(k), "type", None), Array) for k, v in data.items()
        ]
        if data and all(columnar):
            try:
                return pd.DataFrame({k: list(v) for k, v in data.items()})
            except ValueError as exc:
                raise SchemaEnforcementError(f"The input columns have different lengths: {exc}") from None
        return pd.DataFrame([data])
    if isinstance(data, (list, tuple)) and data and all(isinstance(r, dict) for r in data):
        return pd.DataFrame.from_records(list(data))
    if isinstance(data, (str, bytes, int, float, bool)):
        data = [data]
    if isinstance(data, (list, tuple, np.ndarray)):
        array = np.asarray(data, dtype=object) if not isinstance(data, np.ndarray) else data
        if array.ndim == 1:
            array = array.reshape(-1, 1) if len(schema.specs) == 1 else array.reshape(1, -1)
        if array.ndim != 2:
            raise SchemaEnforcementError(
                f"The model expects columns {_column_names(schema)}, but the input is an array of"
                f" {array.ndim} dimensions."
            )
        names = schema.names() if schema.has_names else list(range(len(schema.specs)))
        if array.shape[1] != len(names):
            raise SchemaEnforcementError(
                f"The model expects {len(names)} columns {_column_names(schema)}, but the input rows have"
                f" {array.shape[1]} values."
            )
        return pd.DataFrame({name: array[:, i].tolist() for i, name in enumerate(names)})
    raise SchemaEnforcementError(f"Unsupported input type {type(data).__name__} for a column-based signature")


def _column_names(schema: Schema) -> list[Any]:
    return schema.names() if schema.has_names else [f"<{i}>" for i in range(len(schema.specs))]


def _incompatible(column: Any, series: Any, target: str) -> SchemaEnforcementError:
    return SchemaEnforcementError(
        f"Incompatible input types for column {column}. Can not safely convert {series.dtype} to {target}."
    )


def _cast_column(column: Any, series: Any, spec: ColSpec) -> Any:
    import numpy as np
    import pandas as pd

    kind = spec.type
    if not isinstance(kind, str):
        return series  # composite types travel as Python objects
    if not spec.required:
        present = series.dropna()
        if len(present) < len(series):
            if kind in ("integer", "long", "boolean"):  # missing values cannot live in int/bool arrays
                return series
    dtype = series.dtype
    if kind in ("integer", "long"):
        integral = pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        if not integral and not (dtype == object and len(series) and all(
                isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in series)):
            raise _incompatible(column, series, _NUMPY_DTYPE[kind])
        low, high = _INT_RANGES[kind]
        if len(series) and (series.min() < low or series.max() > high):
            raise SchemaEnforcementError(f"Values of column {column} do not fit the type {kind}.")
        return series.astype(_NUMPY_DTYPE[kind])
    if kind in ("float", "double"):
        if pd.api.types.is_bool_dtype(dtype):
            raise _incompatible(column, series, _NUMPY_DTYPE[kind])
        if not pd.api.types.is_numeric_dtype(dtype):
            try:
                if not all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in series):
                    raise TypeError
                return series.astype(_NUMPY_DTYPE[kind])
            except (TypeError, ValueError):
                raise _incompatible(column, series, _NUMPY_DTYPE[kind]) from None
        return series.astype(_NUMPY_DTYPE[kind])
    if kind == "boolean":
        if pd.api.types.is_bool_dtype(dtype):
            return series
        if all(isinstance(v, (bool, np.bool_)) for v in series):
            return series.astype(bool)
        raise _incompatible(column, series, "bool")
    if kind == "string":
        values = series.dropna() if not spec.required else series
        if pd.api.types.is_string_dtype(dtype) and all(isinstance(v, str) for v in values):
            return series
        raise _incompatible(column, series, "str")
    if kind == "binary":
        return series.map(lambda v: _binary(column, v))
    if kind == "datetime":
        try:
            return pd.to_datetime(series)
        except (ValueError, TypeError) as exc:
            raise SchemaEnforcementError(f"Column {column} cannot be read as datetime: {exc}") from None
    return series


def _binary(column: Any, value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)) or value is None:
        return value
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error:
            raise SchemaEnforcementError(f"Column {column} holds binary data: send it base64-encoded.") from None
    raise SchemaEnforcementError(f"Column {column} holds binary data, got {type(value).__name__}.")


def _enforce_columns(data: Any, schema: Schema) -> Any:
    frame = _to_frame(data, schema)
    if schema.has_names:
        given = [str(c) for c in frame.columns]
        if len(set(given)) != len(given):
            raise SchemaEnforcementError(f"The input has duplicate columns: {given}")
        frame = frame.rename(columns=str) if any(not isinstance(c, str) for c in frame.columns) else frame
        missing = [n for n in schema.required_names() if n not in frame.columns]
        if missing:
            extra = [c for c in given if c not in schema.names()]
            note = f" Note that there were extra inputs: {extra}." if extra else ""
            raise SchemaEnforcementError(f"Model is missing inputs {missing}.{note}")
        present = [spec for spec in schema.specs if spec.name in frame.columns]
        dtypes = frame.dtypes
        # The hot path of a scoring server: columns that already have their dtype are not touched.
        to_cast = [spec for spec in present if _NUMPY_DTYPE.get(spec.type) != dtypes[spec.name].name]  # type: ignore[call-overload]
        names = [spec.name for spec in present]
        out = frame if list(frame.columns) == names else frame[names]
        if to_cast:
            out = out.copy() if out is frame else out
            for spec in to_cast:
                out[spec.name] = _cast_column(spec.name, out[spec.name], spec)
        return out
    if frame.shape[1] < len(schema.specs):
        raise SchemaEnforcementError(
            f"Model inference is missing inputs. The model signature declares {len(schema.specs)} inputs"
            f" but the provided value only has {frame.shape[1]} inputs."
        )
    import pandas as pd

    frame = frame.iloc[:, : len(schema.specs)]
    columns = {c: _cast_column(c, frame[c], spec) for c, spec in zip(frame.columns, schema.specs)}  # type: ignore[arg-type]
    return pd.DataFrame(columns, index=frame.index)


# -- tensors ----------------------------------------------------------------------------
def _enforce_tensor(name: str | None, value: Any, spec: TensorSpec) -> Any:
    import numpy as np
    import pandas as pd

    label = f"tensor {name!r}" if name else "the input tensor"
    if isinstance(value, (pd.DataFrame, pd.Series)):
        value = value.to_numpy()
    try:
        array = np.asarray(value)
    except ValueError as exc:  # ragged lists
        raise SchemaEnforcementError(f"Cannot read {label} as an array: {exc}") from None
    target = np.dtype(spec.dtype)
    if array.dtype != target:
        same_family = array.dtype.kind in "iuf" and target.kind == "f"  # JSON numbers into any float
        if not (np.can_cast(array.dtype, target, "safe") or same_family):
            raise SchemaEnforcementError(
                f"dtype of {label} is {array.dtype}, which cannot be converted safely to the expected {target}."
            )
        array = array.astype(target)
    expected = spec.shape
    if array.ndim != len(expected) or any(e != -1 and e != got for e, got in zip(expected, array.shape)):
        raise SchemaEnforcementError(
            f"Shape of {label} {array.shape} does not match the expected shape {tuple(expected)}."
        )
    return array


def _enforce_tensors(data: Any, schema: Schema) -> Any:
    specs: list[TensorSpec] = list(schema.specs)  # type: ignore[arg-type]
    if not schema.has_names:
        return _enforce_tensor(None, data, specs[0])
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        data = {c: data[c].to_numpy() for c in data.columns}
    if not isinstance(data, dict):
        if len(specs) == 1:
            return {specs[0].name: _enforce_tensor(specs[0].name, data, specs[0])}
        raise SchemaEnforcementError(
            f"The model expects named tensors {schema.names()}; send a dict of arrays."
        )
    missing = [s.name for s in specs if s.name not in data]
    if missing:
        raise SchemaEnforcementError(f"Model is missing inputs {missing}.")
    return {s.name: _enforce_tensor(s.name, data[s.name], s) for s in specs}


def enforce_inputs(data: Any, schema: Schema | None) -> Any:
    """``data`` checked against ``schema`` and converted to what the model expects."""
    if schema is None or not schema.specs:
        return data
    if schema.is_tensor:
        return _enforce_tensors(data, schema)
    return _enforce_columns(data, schema)


# -- params ------------------------------------------------------------------------------
def _param_value(name: str, kind: str, value: Any) -> Any:
    import numpy as np

    if kind in ("integer", "long"):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"expected an integer, got {value!r}")
        return int(value)
    if kind in ("float", "double"):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
            raise TypeError(f"expected a number, got {value!r}")
        return float(value)
    if kind == "boolean":
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"expected a boolean, got {value!r}")
        return bool(value)
    if kind == "string":
        if not isinstance(value, str):
            raise TypeError(f"expected a string, got {value!r}")
        return value
    if kind == "datetime":
        import pandas as pd

        return pd.Timestamp(value).to_pydatetime()
    return value


def enforce_params(params: dict[str, Any] | None, schema: ParamSchema | None) -> dict[str, Any] | None:
    """Params converted to their declared types, defaults filled in; unknown names ignored."""
    if schema is None:
        if params:
            log.warning("The model has no params schema; ignoring params %s", sorted(params))
        return None
    given = dict(params or {})
    out: dict[str, Any] = {}
    for spec in schema.params:
        if spec.name not in given:
            out[spec.name] = spec.default
            continue
        value = given.pop(spec.name)
        try:
            if spec.shape:
                if not isinstance(value, (list, tuple)):
                    raise TypeError(f"expected a list, got {value!r}")
                out[spec.name] = [_param_value(spec.name, spec.type, v) for v in value]
            else:
                out[spec.name] = _param_value(spec.name, spec.type, value)
        except (TypeError, ValueError) as exc:
            raise SchemaEnforcementError(f"Failed to validate type and shape for '{spec.name}', error: {exc}") from None
    if given:
        log.warning("Unrecognized params %s are ignored; the model accepts %s", sorted(given),
                    [p.name for p in schema.params])
    return out
