"""``headwater models predict`` and the options ``headwater models serve`` shares with ``mlflow models serve``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import headwater
from headwater.cli import main


@pytest.fixture
def model_dir(tmp_path, linear, frame):
    headwater.save_model(linear, tmp_path / "model", input_example=frame)
    return tmp_path / "model"


def test_predict_json_file_to_output_file(tmp_path, model_dir, linear, frame):
    source = tmp_path / "in.json"
    source.write_text(json.dumps({"dataframe_split": {"columns": ["a", "b"], "data": frame.to_numpy(dtype=object).tolist()}}))
    result = CliRunner().invoke(main, ["models", "predict", "-m", str(model_dir), "-i", str(source),
                                       "-o", str(tmp_path / "out.json"), "-t", "json"])
    assert result.exit_code == 0, result.output
    got = json.loads((tmp_path / "out.json").read_text())["predictions"]
    np.testing.assert_allclose(got, linear.predict(frame))


def test_predict_csv_from_stdin_to_stdout(model_dir, linear, frame):
    result = CliRunner().invoke(main, ["models", "predict", "-m", str(model_dir), "-t", "csv", "--env-manager", "local"],
                                input=frame.to_csv(index=False))
    assert result.exit_code == 0, result.output
    np.testing.assert_allclose(json.loads(result.output)["predictions"], linear.predict(frame))


def test_predict_reports_bad_input_and_unsupported_environments(tmp_path, model_dir):
    bad = CliRunner().invoke(main, ["models", "predict", "-m", str(model_dir)], input="[1, 2]")
    assert bad.exit_code != 0 and "Received a list" in bad.output
    venv = CliRunner().invoke(main, ["models", "predict", "-m", str(model_dir), "--env-manager", "virtualenv"], input="{}")
    assert venv.exit_code != 0 and "--env-manager local" in venv.output
    missing = CliRunner().invoke(main, ["models", "predict", "-m", str(tmp_path / "nowhere")], input="{}")
    assert missing.exit_code != 0


def test_serve_takes_mlflows_options():
    result = CliRunner().invoke(main, ["models", "serve", "--help"])
    assert result.exit_code == 0
    for option in ("--model-uri", "-m", "--port", "-p", "--host", "-h", "--timeout", "-t", "--workers", "-w",
                   "--env-manager", "--no-conda", "--install-mlflow"):
        assert option in result.output
    refused = CliRunner().invoke(main, ["models", "serve", "-m", "x", "--env-manager", "conda"])
    assert refused.exit_code != 0 and "--env-manager local" in refused.output


def test_artifacts_download_resolves_model_uris(tracking, tmp_path, linear, frame):
    """What the R package's mlflow_load_model runs when MLFLOW_BIN=headwater."""
    with headwater.start_run() as run:
        info = headwater.log_model(linear, name="model")
    for uri in (info.model_uri, f"runs:/{run.run_id}/model"):
        dst = tmp_path / uri.replace(":", "_").replace("/", "_")
        result = CliRunner().invoke(main, ["artifacts", "download", "-u", uri, "-d", str(dst)])
        assert result.exit_code == 0, result.output
        local = result.output.strip().splitlines()[-1]
        np.testing.assert_allclose(headwater.load_model(local).predict(frame), linear.predict(frame))
        assert local.startswith(str(dst))
