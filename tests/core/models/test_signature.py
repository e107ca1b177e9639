"""Signatures: inference from examples, and JSON identical to MLflow's."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from headwater.exceptions import HeadwaterError
from headwater.models.signature import (
    Array,
    ColSpec,
    ModelSignature,
    Object,
    ParamSchema,
    Schema,
    TensorSpec,
    infer_output_schema,
    infer_signature,
)

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


def test_frame_columns_get_their_types_and_missing_values_make_them_optional():
    data = pd.DataFrame({"d": [1.5, None], "i": [1, 2], "s": ["x", "y"], "f": np.array([1, 2], dtype="float32"),
                         "b": [True, False], "t": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    schema = infer_signature(data).inputs
    assert [(s.name, s.type, s.required) for s in schema.specs] == [
        ("d", "double", False), ("i", "long", True), ("s", "string", True), ("f", "float", True),
        ("b", "boolean", True), ("t", "datetime", True),
    ]


def test_arrays_become_tensors_with_a_variable_first_dimension():
    schema = infer_signature(np.zeros((5, 28, 28), dtype="float32")).inputs
    assert schema.specs == (TensorSpec("float32", (-1, 28, 28)),)
    named = infer_signature({"img": np.zeros((2, 3), dtype="int64"), "mask": np.ones(2, dtype=bool)}).inputs
    assert named.specs == (TensorSpec("int64", (-1, 3), "img"), TensorSpec("bool", (-1,), "mask"))


def test_dicts_and_records_become_columns():
    assert infer_signature({"q": "hi", "k": 3, "tags": ["a", "b"]}).inputs.specs == (
        ColSpec("string", "q"), ColSpec("long", "k"), ColSpec(Array("string"), "tags"),
    )
    records = infer_signature([{"a": 1.0, "b": "x"}, {"a": 2.0, "b": "y"}]).inputs
    assert [(s.name, s.type) for s in records.specs] == [("a", "double"), ("b", "string")]
    assert infer_signature(["one", "two"]).inputs.specs == (ColSpec("string"),)
    nested = infer_signature({"o": {"x": 1, "y": "z"}}).inputs.specs[0].type
    assert isinstance(nested, Object) and [p.name for p in nested.properties] == ["x", "y"]


def test_params_schema_from_values():
    params = infer_signature(params={"k": 3, "t": 0.5, "stops": ["a"], "flag": True}).params
    assert params.to_dict() == [
        {"name": "k", "default": 3, "shape": None, "type": "long"},
        {"name": "t", "default": 0.5, "shape": None, "type": "double"},
        {"name": "stops", "default": ["a"], "shape": [-1], "type": "string"},
        {"name": "flag", "default": True, "shape": None, "type": "boolean"},
    ]


def test_saving_makes_a_one_dimensional_output_of_a_column_model_one_unnamed_column():
    columns = infer_signature(pd.DataFrame({"a": [1.0]})).inputs
    assert infer_output_schema(np.array([2.0]), columns).specs == (ColSpec("double"),)
    tensors = infer_signature(np.array([[1.0]])).inputs
    assert infer_output_schema(np.array([2.0]), tensors).specs == (TensorSpec("float64", (-1,)),)
    assert infer_signature(pd.DataFrame({"a": [1.0]}), np.array([2.0])).outputs.specs == (TensorSpec("float64", (-1,)),)


def test_mixing_columns_and_tensors_is_refused():
    with pytest.raises(HeadwaterError):
        Schema((ColSpec("double", "a"), TensorSpec("float32", (-1,), "b")))
    with pytest.raises(HeadwaterError):
        Schema.from_dict([{"type": "no-such-type", "name": "x"}])


def test_the_json_is_what_mlflow_writes_and_reads():
    mlflow_signature = pytest.importorskip("mlflow.models.signature")
    data = pd.DataFrame({"a": [1.0, 2.0], "b": [0, 1], "s": ["x", "y"]})
    params = {"k": 3, "t": 0.5, "stops": ["a"]}
    ours = infer_signature(data, np.array([1.0, 2.0]), params).to_dict()
    theirs = mlflow_signature.infer_signature(data, np.array([1.0, 2.0]), params).to_dict()
    assert {k: json.loads(v) for k, v in ours.items()} == {k: json.loads(v) for k, v in theirs.items()}
    # And back: each side reads the other's text.
    assert ModelSignature.from_dict(theirs).to_dict() == ours
    assert mlflow_signature.ModelSignature.from_dict(ours).to_dict() == theirs


def test_composite_types_round_trip_through_json():
    items = [{"type": "array", "items": {"type": "object", "properties": {"p": {"type": "string", "required": True}}},
              "name": "x", "required": True},
             {"type": "map", "values": {"type": "double"}, "name": "m", "required": False},
             {"type": "any", "name": "z", "required": True}]
    assert Schema.from_dict(items).to_dict() == items
    assert ParamSchema.from_dict([{"name": "p", "type": "long", "default": 1, "shape": None}]).to_dict() == [
        {"name": "p", "default": 1, "shape": None, "type": "long"}
    ]
