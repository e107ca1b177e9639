"""Input examples: saved beside the model, loadable, and ready as a scoring request.

``input_example.json`` holds the example (spec/model-format.md §6):
a DataFrame in split orient without the index, an ndarray as nested lists, a
dict of arrays as ``{name: list}``, any other JSON value as itself, and
``{"inputs": ..., "params": ...}`` when params were given.
``serving_input_example.json`` is the same example as an ``/invocations`` body.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from headwater.exceptions import HeadwaterError

INPUT_EXAMPLE_FILE = "input_example.json"
SERVING_INPUT_FILE = "serving_input_example.json"


def jsonable(value: Any) -> Any:
    """Plain JSON values from numpy/pandas values (NaN becomes null)."""
    import numpy as np
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return value.to_dict(orient="records")
    if isinstance(value, pd.Series):
        return jsonable(value.tolist())
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (bytes, bytearray)):
        import base64

        return base64.b64encode(value).decode("ascii")
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def split_example(example: Any) -> tuple[Any, dict[str, Any] | None]:
    """(data, params) from an example that may be a ``(data, params)`` tuple."""
    if isinstance(example, tuple) and len(example) == 2 and isinstance(example[1], dict):
        return example[0], example[1]
    return example, None


def save_input_example(path: str, example: Any) -> dict[str, Any]:
    """Write both example files into the model directory; returns ``saved_input_example_info``."""
    import numpy as np
    import pandas as pd

    data, params = split_example(example)
    info: dict[str, Any] = {"artifact_path": INPUT_EXAMPLE_FILE, "serving_input_path": SERVING_INPUT_FILE}
    if isinstance(data, (pd.Series,)):
        data = data.to_frame()
    if isinstance(data, pd.DataFrame):
        default_columns = list(data.columns) == list(range(len(data.columns)))
        stored: Any = {"data": jsonable(data.to_numpy(dtype=object))}
        if not default_columns:
            stored = {"columns": [str(c) for c in data.columns], **stored}
        info.update(type="dataframe", pandas_orient="values" if default_columns else "split")
        serving: dict[str, Any] = {"dataframe_split": stored}
    elif isinstance(data, np.ndarray) or (isinstance(data, dict) and data and
                                           all(isinstance(v, np.ndarray) for v in data.values())):
        stored = jsonable(data)
        info["type"] = "ndarray"
        serving = {"inputs": stored}
    else:
        try:
            json.dumps(jsonable(data))
        except TypeError:
            raise HeadwaterError.invalid(
                f"Cannot save an input example of type {type(data).__name__}: use a DataFrame, an array,"
                " a dict or a list."
            ) from None
        stored = jsonable(data)
        info["type"] = "json_object"
        serving = {"inputs": stored}
    if params:
        stored = {"inputs": stored, "params": jsonable(params)}
        serving["params"] = jsonable(params)
        info["params"] = "true"
    with open(os.path.join(path, INPUT_EXAMPLE_FILE), "w", encoding="utf-8") as out:
        json.dump(stored, out)
    with open(os.path.join(path, SERVING_INPUT_FILE), "w", encoding="utf-8") as out:
        json.dump(serving, out, indent=2)
    return info


def load_input_example(path: str, info: dict[str, Any] | None) -> Any:
    """The saved example, as the type it was saved from (DataFrame, ndarray or JSON)."""
    if not info:
        return None
    file_path = os.path.join(path, info.get("artifact_path", INPUT_EXAMPLE_FILE))
    if not os.path.isfile(file_path):
        return None
    with open(file_path, encoding="utf-8") as src:
        stored = json.load(src)
    if info.get("params") == "true" and isinstance(stored, dict):
        stored = stored.get("inputs")
    kind = info.get("type")
    if kind == "dataframe":
        import pandas as pd

        return pd.DataFrame(stored["data"], columns=stored.get("columns"))
    if kind == "ndarray":
        import numpy as np

        if isinstance(stored, dict):
            return {k: np.asarray(v) for k, v in stored.items()}
        return np.asarray(stored)
    return stored


def load_input_example_params(path: str, info: dict[str, Any] | None) -> dict[str, Any] | None:
    if not info or info.get("params") != "true":
        return None
    with open(os.path.join(path, info.get("artifact_path", INPUT_EXAMPLE_FILE)), encoding="utf-8") as src:
        return json.load(src).get("params")
