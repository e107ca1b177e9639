"""``headwater.models.serve`` from Python, several workers, and models saved with their own code."""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pytest
import requests

import headwater
from headwater.models import serve


def _wait(url: str, process, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the scoring server exited"
        try:
            if requests.get(f"{url}/ping", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise AssertionError("the scoring server did not come up")


@pytest.mark.slow  # two worker processes each load the model
def test_daemonized_serve_with_two_workers(tmp_path, linear, frame):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    headwater.save_model(linear, tmp_path / "m", input_example=frame)
    process = serve(str(tmp_path / "m"), port=port, workers=2, daemonized=True)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait(url, process)
        body = json.dumps({"dataframe_records": frame.to_dict("records")})
        for _ in range(4):  # answered by whichever worker takes the connection
            answer = requests.post(f"{url}/invocations", data=body, headers={"Content-Type": "application/json"},
                                   timeout=30)
            np.testing.assert_allclose(answer.json()["predictions"], linear.predict(frame))
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_code_paths_are_importable_when_the_model_loads(tmp_path, frame):
    helper = tmp_path / "src" / "hw_test_scaler_helper.py"
    helper.parent.mkdir()
    helper.write_text("def scale(values):\n    return values * 10\n")
    sys.path.insert(0, str(helper.parent))
    try:
        import hw_test_scaler_helper

        def model(df):
            return hw_test_scaler_helper.scale(df["a"])

        headwater.save_model(model, tmp_path / "m", code_paths=[str(helper)])
    finally:
        sys.path.remove(str(helper.parent))
        del sys.modules["hw_test_scaler_helper"]
    assert (tmp_path / "m" / "code" / "hw_test_scaler_helper.py").is_file()
    assert headwater.load_model(str(tmp_path / "m")).predict(frame).tolist() == [10.0, 20.0, 30.0, 40.0]
