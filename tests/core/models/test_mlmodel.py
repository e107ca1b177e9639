"""The MLmodel file: round trips, unknown keys kept, MLflow's spellings, bad files."""

from __future__ import annotations

import json

import pytest
import yaml

from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.models.mlmodel import Model, add_pyfunc
from headwater.models.signature import ColSpec, ModelSignature, Schema, TensorSpec


def test_round_trip_keeps_unknown_keys_and_writes_signature_as_json_text(tmp_path):
    model = Model(run_id="r1", model_id="m-" + "0" * 32, metadata={"team": "x"})
    add_pyfunc(model, loader_module="some.module", data="model.bin")
    model.signature = ModelSignature(Schema((ColSpec("double", "a"),)), Schema((TensorSpec("float32", (-1,)),)))
    model.prompts = ["p1"]  # a key this version does not know
    model.save(str(tmp_path))
    raw = yaml.safe_load((tmp_path / "MLmodel").read_text())
    assert json.loads(raw["signature"]["inputs"]) == [{"type": "double", "name": "a", "required": True}]
    assert json.loads(raw["signature"]["outputs"]) == [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1]}}]
    assert raw["signature"]["params"] is None
    assert raw["is_signature_from_type_hint"] is False
    assert raw["prompts"] == ["p1"]
    back = Model.load(str(tmp_path))
    assert back.signature == model.signature
    assert back.prompts == ["p1"]
    assert back.flavors["python_function"]["loader_module"] == "some.module"
    assert (back.run_id, back.model_id, back.metadata) == ("r1", model.model_id, {"team": "x"})


def test_unset_optional_keys_are_left_out_but_model_id_stays_null(tmp_path):
    Model().save(str(tmp_path))
    raw = yaml.safe_load((tmp_path / "MLmodel").read_text())
    assert "run_id" not in raw and "artifact_path" not in raw and "signature" not in raw
    assert raw["model_id"] is None
    assert len(raw["model_uuid"]) == 32


def test_keys_are_sorted_in_block_style(tmp_path):
    model = Model()
    model.add_flavor("zeta", a=1)
    model.save(str(tmp_path))
    text = (tmp_path / "MLmodel").read_text()
    top_keys = [line.split(":")[0] for line in text.splitlines() if line and not line.startswith(" ")]
    assert top_keys == sorted(top_keys)
    assert "{" not in text


def test_a_directory_without_mlmodel_is_a_clear_error(tmp_path):
    with pytest.raises(HeadwaterError) as info:
        Model.load(str(tmp_path))
    assert info.value.error_code == ErrorCode.RESOURCE_DOES_NOT_EXIST
    assert "MLmodel" in info.value.message and str(tmp_path) in info.value.message


@pytest.mark.parametrize("text", ["flavors: [unclosed", "- a list\n- not a mapping\n", "flavors: 3\n"])
def test_malformed_files_are_invalid_parameter_errors(tmp_path, text):
    (tmp_path / "MLmodel").write_text(text)
    with pytest.raises(HeadwaterError) as info:
        Model.load(str(tmp_path))
    assert info.value.error_code == ErrorCode.INVALID_PARAMETER_VALUE


def test_yaml_tags_that_build_objects_are_refused(tmp_path):
    (tmp_path / "MLmodel").write_text("flavors: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(HeadwaterError):
        Model.load(str(tmp_path))


def test_reads_a_file_written_by_mlflow(tmp_path):
    (tmp_path / "MLmodel").write_text(
        "artifact_path: mlflow-artifacts:/1/models/m-870b/artifacts\n"
        "flavors:\n  python_function:\n    env: conda.yaml\n    loader_module: mlflow.sklearn\n"
        "mlflow_version: 3.18.0\nmodel_id: m-870b\nmodel_uuid: m-870b\nrun_id: b4ba\n"
        "signature:\n  inputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float64\", \"shape\": [-1, 1]}}]'\n"
        "  outputs: null\n  params: null\nutc_time_created: '2026-11-26 16:11:42.849079'\n"
    )
    model = Model.load(str(tmp_path))
    assert model.mlflow_version == "3.18.0"
    assert model.signature.inputs.is_tensor and model.signature.inputs.specs[0].shape == (-1, 1)
    assert model.signature.outputs is None
    assert model.flavors["python_function"]["env"] == "conda.yaml"  # MLflow < 2 wrote a bare string
