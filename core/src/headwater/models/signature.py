"""Model signatures: the input, output and params schemas stored in MLmodel.

The JSON forms are MLflow's (spec/model-format.md §5), so signatures written
by either tool read back identically:

- a column schema is a list of ``{"type": T, "name"?: ..., "required": bool}``
  where T is a scalar name or a composite (``array``, ``object``, ``map``,
  ``any``);
- a tensor schema is a list of ``{"type": "tensor", "tensor-spec": {dtype, shape}}``;
- params are ``{"name", "type", "default", "shape"}``.

In MLmodel each of ``inputs``, ``outputs`` and ``params`` is JSON text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Union

from headwater.exceptions import HeadwaterError

SCALAR_TYPES = ("boolean", "integer", "long", "float", "double", "string", "binary", "datetime")


@dataclass(frozen=True)
class Array:
    items: "ValueType"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "array", "items": type_to_dict(self.items)}


@dataclass(frozen=True)
class Property:
    name: str
    type: "ValueType"
    required: bool = True


@dataclass(frozen=True)
class Object:
    properties: tuple[Property, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {p.name: {**type_to_dict(p.type), "required": p.required} for p in self.properties},
        }


@dataclass(frozen=True)
class Map:
    values: "ValueType"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "map", "values": type_to_dict(self.values)}


@dataclass(frozen=True)
class AnyType:
    def to_dict(self) -> dict[str, Any]:
        return {"type": "any"}


# A scalar type is its name ("double", ...); composites are the classes above.
ValueType = Union[str, Array, Object, Map, AnyType]


def type_to_dict(value_type: ValueType) -> dict[str, Any]:
    return {"type": value_type} if isinstance(value_type, str) else value_type.to_dict()


def type_from_dict(data: dict[str, Any]) -> ValueType:
    kind = data.get("type")
    if kind in SCALAR_TYPES:
        return kind  # type: ignore[return-value]
    if kind == "array":
        return Array(type_from_dict(_as_type_dict(data.get("items"))))
    if kind == "object":
        props = data.get("properties")
        if not isinstance(props, dict):
            raise _bad_schema(f"an object type needs 'properties': {data!r}")
        return Object(
            tuple(
                Property(name, type_from_dict(spec), bool(spec.get("required", True)))
                for name, spec in sorted(props.items())
            )
        )
    if kind == "map":
        return Map(type_from_dict(_as_type_dict(data.get("values"))))
    if kind == "any":
        return AnyType()
    raise _bad_schema(f"unknown type {kind!r}; expected one of {list(SCALAR_TYPES)} or array/object/map/any")


def _as_type_dict(value: Any) -> dict[str, Any]:
    # MLflow's docs show {"type": "array", "items": "string"}; accept the short form too.
    return {"type": value} if isinstance(value, str) else (value or {})


def _bad_schema(message: str) -> HeadwaterError:
    return HeadwaterError.invalid(f"Invalid model signature: {message}")


@dataclass(frozen=True)
class ColSpec:
    """One column: a name (None for positional inputs), a type, and whether it is required."""

    type: ValueType
    name: str | None = None
    required: bool = True

    def to_dict(self) -> dict[str, Any]:
        out = type_to_dict(self.type)
        if self.name is not None:
            out["name"] = self.name
        out["required"] = self.required
        return out


@dataclass(frozen=True)
class TensorSpec:
    """A tensor: a numpy dtype name and a shape where -1 is a variable dimension."""

    dtype: str
    shape: tuple[int, ...]
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        spec = {"type": "tensor", "tensor-spec": {"dtype": self.dtype, "shape": list(self.shape)}}
        return {"name": self.name, **spec} if self.name is not None else spec


@dataclass(frozen=True)
class Schema:
    """A list of column specs or of tensor specs (never mixed)."""

    specs: tuple[Union[ColSpec, TensorSpec], ...]

    def __post_init__(self) -> None:
        kinds = {type(s) for s in self.specs}
        if len(kinds) > 1:
            raise _bad_schema("column and tensor specs cannot be mixed in one schema")
        names = [s.name for s in self.specs]
        if any(n is None for n in names) and any(n is not None for n in names):
            raise _bad_schema("either every input is named or none is")

    @property
    def is_tensor(self) -> bool:
        return bool(self.specs) and isinstance(self.specs[0], TensorSpec)

    @property
    def has_names(self) -> bool:
        return bool(self.specs) and self.specs[0].name is not None

    def names(self) -> list[str]:
        return [s.name for s in self.specs if s.name is not None]

    def required_names(self) -> list[str]:
        return [s.name for s in self.specs if s.name is not None and getattr(s, "required", True)]

    def to_dict(self) -> list[dict[str, Any]]:
        return [s.to_dict() for s in self.specs]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, items: list[dict[str, Any]]) -> "Schema":
        if not isinstance(items, list):
            raise _bad_schema(f"a schema is a JSON list, got {type(items).__name__}")
        specs: list[Union[ColSpec, TensorSpec]] = []
        for item in items:
            if not isinstance(item, dict) or "type" not in item:
                raise _bad_schema(f"each schema entry needs a 'type': {item!r}")
            if item["type"] == "tensor":
                tensor = item.get("tensor-spec") or {}
                if "dtype" not in tensor or "shape" not in tensor:
                    raise _bad_schema(f"a tensor spec needs 'dtype' and 'shape': {item!r}")
                specs.append(TensorSpec(str(tensor["dtype"]), tuple(int(d) for d in tensor["shape"]), item.get("name")))
            else:
                specs.append(ColSpec(type_from_dict(item), item.get("name"), bool(item.get("required", True))))
        return cls(tuple(specs))

    @classmethod
    def from_json(cls, text: str) -> "Schema":
        return cls.from_dict(json.loads(text))


@dataclass(frozen=True)
class ParamSpec:
    """An inference parameter with its type, default and shape (None: scalar, (-1,): a list)."""

    name: str
    type: str
    default: Any
    shape: tuple[int, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "default": self.default, "shape": list(self.shape) if self.shape else None,
                "type": self.type}


@dataclass(frozen=True)
class ParamSchema:
    params: tuple[ParamSpec, ...]

    def to_dict(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self.params]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, items: list[dict[str, Any]]) -> "ParamSchema":
        out = []
        for item in items:
            if not isinstance(item, dict) or not {"name", "type"} <= set(item):
                raise _bad_schema(f"a param spec needs 'name' and 'type': {item!r}")
            shape = item.get("shape")
            out.append(ParamSpec(item["name"], item["type"], item.get("default"), tuple(shape) if shape else None))
        return cls(tuple(out))


@dataclass(frozen=True)
class ModelSignature:
    """What a model takes and returns, and the params its predict accepts."""

    inputs: Schema | None = None
    outputs: Schema | None = None
    params: ParamSchema | None = None

    def to_dict(self) -> dict[str, str | None]:
        """The MLmodel form: each part as JSON text, or None."""
        return {
            "inputs": self.inputs.to_json() if self.inputs is not None else None,
            "outputs": self.outputs.to_json() if self.outputs is not None else None,
            "params": self.params.to_json() if self.params is not None else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelSignature":
        def part(key: str, reader: Any) -> Any:
            value = data.get(key)
            if value in (None, ""):
                return None
            try:
                parsed = json.loads(value) if isinstance(value, str) else value
            except ValueError as exc:
                raise _bad_schema(f"'{key}' is not valid JSON: {exc}") from None
            return reader(parsed)

        return cls(part("inputs", Schema.from_dict), part("outputs", Schema.from_dict), part("params", ParamSchema.from_dict))


# -- inference ------------------------------------------------------------------------
_NUMPY_TO_TYPE = {
    "bool": "boolean",
    "int8": "integer",
    "int16": "integer",
    "int32": "integer",
    "uint8": "integer",
    "uint16": "integer",
    "int64": "long",
    "uint32": "long",
    "float16": "float",
    "float32": "float",
    "float64": "double",
}


def _python_value_type(value: Any) -> ValueType:
    import numpy as np

    if isinstance(value, (bool, np.bool_)):
        return "boolean"
    if isinstance(value, (int, np.integer)):
        return "long"
    if isinstance(value, np.floating):
        return _NUMPY_TO_TYPE.get(np.dtype(type(value)).name, "double")
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (bytes, bytearray)):
        return "binary"
    import datetime

    if isinstance(value, (datetime.date, np.datetime64)):
        return "datetime"
    if isinstance(value, (list, tuple, np.ndarray)):
        items = [v for v in value if v is not None]
        return Array(_python_value_type(items[0]) if items else AnyType())
    if isinstance(value, dict):
        return Object(tuple(Property(str(k), _python_value_type(v)) for k, v in sorted(value.items())))
    if value is None:
        return AnyType()
    raise HeadwaterError.invalid(f"Cannot infer a schema type for a value of type {type(value).__name__}")


def _series_type(series: Any) -> ValueType:
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    name = getattr(dtype, "numpy_dtype", dtype).name if hasattr(dtype, "numpy_dtype") else dtype.name
    if name in _NUMPY_TO_TYPE:
        return _NUMPY_TO_TYPE[name]
    values = [v for v in series.tolist() if v is not None and not (isinstance(v, float) and v != v)]
    if not values:
        return "string" if pd.api.types.is_string_dtype(dtype) else AnyType()
    return _python_value_type(values[0])


def _frame_schema(frame: Any) -> Schema:
    specs = []
    for column in frame.columns:
        series = frame[column]
        required = not bool(series.isna().any())
        specs.append(ColSpec(_series_type(series), str(column), required))
    return Schema(tuple(specs))


def infer_schema(data: Any) -> Schema:
    """A schema from example data: DataFrame, Series, ndarray, dict, list or scalar.

    - DataFrame → named columns (a column with missing values is optional);
    - ndarray → one tensor with the first dimension variable;
    - dict of ndarrays → named tensors; other dicts → named columns;
    - list of dicts → the columns of those records; list of scalars → one unnamed column.
    """
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        if all(isinstance(c, int) for c in data.columns):  # default RangeIndex: positional
            return Schema(tuple(ColSpec(_series_type(data[c])) for c in data.columns))
        return _frame_schema(data)
    if isinstance(data, pd.Series):
        return Schema((ColSpec(_series_type(data), str(data.name) if data.name is not None else None),))
    if isinstance(data, np.ndarray):
        return Schema((TensorSpec(data.dtype.name, (-1, *data.shape[1:])),))
    if isinstance(data, dict):
        if data and all(isinstance(v, np.ndarray) for v in data.values()):
            return Schema(tuple(TensorSpec(v.dtype.name, (-1, *v.shape[1:]), str(k)) for k, v in data.items()))
        return Schema(tuple(ColSpec(_python_value_type(v), str(k)) for k, v in data.items()))
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        return _frame_schema(pd.DataFrame.from_records(data))
    if isinstance(data, list) and data and not any(isinstance(v, (dict, list)) for v in data):
        return Schema((ColSpec(_python_value_type(data[0])),))
    if isinstance(data, (str, bytes, bool, int, float)):
        return Schema((ColSpec(_python_value_type(data)),))
    if isinstance(data, list) and data:
        return Schema((ColSpec(_python_value_type(data)),))
    raise HeadwaterError.invalid(
        f"Cannot infer a signature from an input example of type {type(data).__name__}; pass a"
        " pandas DataFrame, a numpy array, a dict or a list, or give the signature explicitly."
    )


def infer_output_schema(output: Any, input_schema: Schema | None) -> Schema | None:
    """The output schema ``save_model`` infers from a prediction on the input example.

    As MLflow's savers do, a 1-D result of a column-based model is one unnamed column.
    """
    import numpy as np
    import pandas as pd

    if output is None:
        return None
    if isinstance(output, np.ndarray) and output.ndim == 1 and input_schema is not None and not input_schema.is_tensor:
        return Schema((ColSpec(_NUMPY_TO_TYPE.get(output.dtype.name, "double") if output.dtype.kind != "O"
                               else _python_value_type(output[0]) if len(output) else AnyType()),))
    if isinstance(output, (list, tuple)) and not isinstance(output, str):
        output = np.asarray(output)
        if output.dtype.kind in "OUS":
            return Schema((ColSpec("string" if output.dtype.kind in "US" else AnyType()),))
    if isinstance(output, (pd.DataFrame, pd.Series, np.ndarray, dict)):
        return infer_schema(output)
    return infer_schema(output) if isinstance(output, (str, bytes, bool, int, float)) else None


def _param_type(value: Any) -> tuple[str, tuple[int, ...] | None]:
    if isinstance(value, (list, tuple)):
        if not value:
            raise HeadwaterError.invalid("Cannot infer the type of an empty list param; give a non-empty default.")
        kind, _ = _param_type(value[0])
        return kind, (-1,)
    kind = _python_value_type(value)
    if not isinstance(kind, str):
        raise HeadwaterError.invalid(f"Params must be scalars or lists of scalars, got {type(value).__name__}")
    return kind, None


def infer_params_schema(params: dict[str, Any] | None) -> ParamSchema | None:
    if not params:
        return None
    specs = []
    for name, value in params.items():
        kind, shape = _param_type(value)
        specs.append(ParamSpec(str(name), kind, list(value) if shape else value, shape))
    return ParamSchema(tuple(specs))


def infer_signature(model_input: Any = None, model_output: Any = None, params: dict[str, Any] | None = None) -> ModelSignature:
    """A signature from example input, output and params (any may be None), as MLflow infers one."""
    inputs = infer_schema(model_input) if model_input is not None else None
    outputs = infer_schema(model_output) if model_output is not None else None
    return ModelSignature(inputs, outputs, infer_params_schema(params))
