"""Signature enforcement at predict time: safe conversions pass, the rest fail clearly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from headwater.exceptions import ErrorCode
from headwater.models.enforcement import SchemaEnforcementError, enforce_inputs, enforce_params
from headwater.models.signature import ColSpec, ParamSchema, ParamSpec, Schema, TensorSpec

COLUMNS = Schema((ColSpec("double", "a"), ColSpec("long", "b"), ColSpec("string", "c", required=False)))


def test_frames_dicts_records_and_rows_all_become_the_schema_columns():
    expected = pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4]})
    for given in (
        pd.DataFrame({"b": [3, 4], "a": [1, 2], "extra": ["x", "y"]}),
        {"a": [1.0, 2.0], "b": [3, 4]},
        [{"a": 1.0, "b": 3}, {"a": 2.0, "b": 4}],
    ):
        got = enforce_inputs(given, COLUMNS)
        pd.testing.assert_frame_equal(got.reset_index(drop=True), expected)
    one_row = enforce_inputs({"a": 1.5, "b": 2, "c": "z"}, COLUMNS)
    assert one_row.to_dict("records") == [{"a": 1.5, "b": 2, "c": "z"}]
    rows = enforce_inputs([[1.0, 3, "p"], [2.0, 4, "q"]], COLUMNS)
    assert list(rows.columns) == ["a", "b", "c"] and rows["b"].dtype == np.int64


def test_integers_widen_to_doubles_but_doubles_never_narrow_to_integers():
    assert enforce_inputs(pd.DataFrame({"a": [1, 2], "b": [1, 2]}), COLUMNS)["a"].dtype == np.float64
    with pytest.raises(SchemaEnforcementError) as info:
        enforce_inputs(pd.DataFrame({"a": [1.0], "b": [1.5]}), COLUMNS)
    assert "column b" in info.value.message and "float64" in info.value.message


def test_a_missing_column_names_it_and_the_extra_ones():
    with pytest.raises(SchemaEnforcementError) as info:
        enforce_inputs(pd.DataFrame({"a": [1.0], "bb": [1]}), COLUMNS)
    err = info.value
    assert err.message == "Model is missing inputs ['b']. Note that there were extra inputs: ['bb']."
    assert err.error_code == ErrorCode.INVALID_PARAMETER_VALUE and err.http_status == 400
    assert err.to_dict()["error_class"] == "SCHEMA_ENFORCEMENT_FAILED"


def test_strings_are_not_numbers_and_numbers_are_not_strings():
    with pytest.raises(SchemaEnforcementError, match="column a"):
        enforce_inputs(pd.DataFrame({"a": ["1.0"], "b": [1]}), COLUMNS)
    with pytest.raises(SchemaEnforcementError, match="column c"):
        enforce_inputs(pd.DataFrame({"a": [1.0], "b": [1], "c": [5]}), COLUMNS)


def test_binary_columns_take_base64_and_datetimes_take_iso_text():
    schema = Schema((ColSpec("binary", "blob"), ColSpec("datetime", "when")))
    got = enforce_inputs({"blob": ["aGk="], "when": ["2024-05-01T10:00:00"]}, schema)
    assert got["blob"][0] == b"hi" and got["when"][0] == pd.Timestamp("2024-05-01 10:00:00")
    with pytest.raises(SchemaEnforcementError, match="base64"):
        enforce_inputs({"blob": ["not base64!"], "when": ["2024-05-01"]}, schema)


def test_unnamed_columns_are_positional():
    schema = Schema((ColSpec("double"), ColSpec("double")))
    assert enforce_inputs(pd.DataFrame({"x": [1], "y": [2], "z": [3]}), schema).shape == (1, 2)
    with pytest.raises(SchemaEnforcementError, match="declares 2 inputs"):
        enforce_inputs(pd.DataFrame({"x": [1.0]}), schema)


def test_tensors_check_dtype_and_shape():
    schema = Schema((TensorSpec("float32", (-1, 2)),))
    got = enforce_inputs([[1, 2], [3, 4]], schema)
    assert got.dtype == np.float32 and got.shape == (2, 2)
    with pytest.raises(SchemaEnforcementError, match="Shape"):
        enforce_inputs(np.zeros((2, 3)), schema)
    with pytest.raises(SchemaEnforcementError, match="dtype"):
        enforce_inputs(np.array([["a", "b"]]), schema)
    named = Schema((TensorSpec("int64", (-1,), "x"), TensorSpec("float64", (-1,), "y")))
    with pytest.raises(SchemaEnforcementError, match=r"missing inputs \['y'\]"):
        enforce_inputs({"x": np.array([1])}, named)
    assert enforce_inputs(pd.DataFrame({"x": [1], "y": [2.0]}), named)["y"].dtype == np.float64


def test_params_are_converted_defaulted_and_unknown_ones_dropped():
    schema = ParamSchema((ParamSpec("k", "long", 3), ParamSpec("t", "double", 0.5), ParamSpec("stops", "string", ["a"], (-1,))))
    assert enforce_params(None, schema) == {"k": 3, "t": 0.5, "stops": ["a"]}
    assert enforce_params({"k": 7, "t": 1, "stops": ["x", "y"], "other": 1}, schema) == {"k": 7, "t": 1.0, "stops": ["x", "y"]}
    with pytest.raises(SchemaEnforcementError, match="'k'"):
        enforce_params({"k": "seven"}, schema)
    with pytest.raises(SchemaEnforcementError, match="'stops'"):
        enforce_params({"stops": "x"}, schema)
    assert enforce_params({"k": 1}, None) is None
