"""Reading ``/invocations`` requests and writing their answers (spec/scoring-protocol.md).

``parse_request(body, content_type, model)`` returns what to predict on and
the params, or raises :class:`RequestError` carrying the status and text the
protocol gives for that mistake (415 plain text for content types, 400 JSON
for malformed payloads).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import orjson

from headwater.exceptions import ErrorCode, HeadwaterError

CONTENT_TYPE_JSON = "application/json"
CONTENT_TYPE_CSV = "text/csv"
CONTENT_TYPE_PARQUET = "application/vnd.apache.parquet"
CONTENT_TYPES = [CONTENT_TYPE_CSV, CONTENT_TYPE_JSON, CONTENT_TYPE_PARQUET]

DF_SPLIT, DF_RECORDS, INSTANCES, INPUTS = "dataframe_split", "dataframe_records", "instances", "inputs"
SUPPORTED_FORMATS = (DF_RECORDS, DF_SPLIT, INSTANCES, INPUTS)
LLM_KEYS = ("messages", "prompt", "input")

REQUIRED_INPUT_FORMAT = (
    "The input must be a JSON dictionary with exactly one of the input fields"
    " {'dataframe_split', 'dataframe_records', 'instances', 'inputs'}"
)
SCORING_PROTOCOL_CHANGE_INFO = (
    "IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2.0. If you are seeing"
    " this error, you are likely using an outdated scoring request format: send one of the input"
    " fields above (for example {\"dataframe_split\": {\"columns\": [...], \"data\": [[...]]}})."
)


class RequestError(Exception):
    """A request the protocol refuses: ``status``, and a plain-text or JSON body."""

    def __init__(self, status: int, message: str, plain_text: bool = False):
        super().__init__(message)
        self.status = status
        self.message = message
        self.plain_text = plain_text


def bad_request(message: str) -> RequestError:
    return RequestError(400, message)


@dataclass
class ParsedRequest:
    data: Any
    params: dict[str, Any] | None = None
    unwrapped: bool = False  # the LLM shortcut: answer without the "predictions" wrapper


def check_content_type(content_type: str | None) -> str:
    """The media type, after refusing what the protocol refuses (415)."""
    if content_type is None:
        raise RequestError(415, "The request has no Content-Type header. Send application/json or text/csv.", True)
    parts = [part.strip() for part in content_type.split(";")]
    media = parts[0].lower()
    parameters = {}
    for pair in parts[1:]:
        if pair:
            key, _, value = pair.partition("=")
            parameters[key.strip().lower()] = value.strip().strip('"').lower()
    if parameters.get("charset", "utf-8") not in ("utf-8", "utf8"):
        raise RequestError(415, "The scoring server only supports UTF-8", True)
    unexpected = sorted(set(parameters) - {"charset"})
    if unexpected:
        raise RequestError(
            415, f"Unrecognized content type parameters: {', '.join(unexpected)}. {SCORING_PROTOCOL_CHANGE_INFO}", True
        )
    if media not in CONTENT_TYPES:
        raise RequestError(
            415,
            f"This predictor only supports the following content types: Types: {CONTENT_TYPES}. Got '{content_type}'.",
            True,
        )
    return media


def _frame_split(payload: Any, schema_all_double: bool = False) -> Any:
    import numpy as np
    import pandas as pd

    if not isinstance(payload, dict):
        kind = "list" if isinstance(payload, list) else f"type {type(payload).__name__}"
        raise bad_request(f"Dataframe split format must be a dictionary. Got {kind}.")
    keys = set(payload)
    if "data" not in keys or keys - {"columns", "data", "index"}:
        raise bad_request(
            f"Dataframe split format must have 'data' field and optionally 'columns' and 'index' fields."
            f" Got {sorted(keys)}."
        )
    try:
        if schema_all_double and payload.get("index") is None:
            # Every column is a double: one float block is much cheaper to build than mixed columns.
            try:
                array = np.asarray(payload["data"], dtype=np.float64)
            except (TypeError, ValueError):
                array = None
            if array is not None and array.ndim == 2:
                return pd.DataFrame(array, columns=payload.get("columns"), copy=False)
        return pd.DataFrame(data=payload["data"], columns=payload.get("columns"), index=payload.get("index"))
    except Exception as exc:
        raise bad_request(
            f"Provided dataframe_split field is not a valid dataframe representation in 'split' format. Error: '{exc}'"
        ) from None


def _frame_records(payload: Any) -> Any:
    import pandas as pd

    if not isinstance(payload, list):
        kind = "dictionary" if isinstance(payload, dict) else f"type {type(payload).__name__}"
        raise bad_request(f"Dataframe records format must be a list of records. Got {kind}.")
    try:
        return pd.DataFrame(data=payload)
    except Exception as exc:
        raise bad_request(
            f"Provided dataframe_records field is not a valid dataframe representation in 'records' format."
            f" Error: '{exc}'"
        ) from None


def _check_numeric_columns(frame: Any, schema: Any) -> Any:
    """Text in a column the signature makes numeric is a malformed payload (400), as MLflow parses it."""
    if schema is None or schema.is_tensor or not schema.has_names:
        return frame
    dtypes = frame.dtypes
    for spec in schema.specs:
        if spec.type in ("double", "float", "long", "integer") and spec.name in frame.columns:
            if dtypes[spec.name].kind in "iufb":
                continue
            bad = next((v for v in frame[spec.name] if isinstance(v, str)), None)
            if bad is not None:
                raise bad_request(
                    f"Data is not compatible with model signature. Failed to convert column {spec.name} to"
                    f" type '{spec.type}': {bad!r} is not a number."
                )
    return frame


def _array(values: Any, dtype: Any = None) -> Any:
    import numpy as np

    try:
        return np.asarray(values, dtype=dtype) if dtype is not None else np.asarray(values)
    except (ValueError, TypeError) as exc:
        raise bad_request(f"Ensure that the input is a valid JSON-formatted string.\nError: {exc!r}") from None


def _single_tensor_dtype(schema: Any) -> Any:
    if schema is not None and schema.is_tensor and not schema.has_names and len(schema.specs) == 1:
        return schema.specs[0].dtype
    return None


def _tf_serving(payload: dict[str, Any], key: str, schema: Any) -> Any:
    """``instances`` (rows) and ``inputs`` (columns), TF-serving style."""
    value = payload[key]
    names = schema.names() if schema is not None and schema.has_names else []
    columns_model = schema is not None and not schema.is_tensor
    as_array = (lambda v: v) if columns_model else _array  # column models convert per column later
    if key == INSTANCES and isinstance(value, list) and value and isinstance(value[0], dict):
        columns: dict[str, list[Any]] = {}
        for row in value:
            if not isinstance(row, dict):
                raise bad_request("Every instance must be a record when the first one is.")
            for column, item in row.items():
                columns.setdefault(column, []).append(item)
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise bad_request("The length of values for each input/column name are not the same")
        return {column: as_array(items) for column, items in columns.items()}
    if isinstance(value, dict):
        if schema is not None and schema.is_tensor:
            dtypes = {s.name: s.dtype for s in schema.specs}
            return {k: _array(v, dtypes.get(k)) for k, v in value.items()}
        return {k: (as_array(v) if isinstance(v, list) else v) for k, v in value.items()}
    if isinstance(value, list) and len(names) == 1 and not any(isinstance(v, dict) for v in value):
        return {names[0]: as_array(value)}
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return value  # records under "inputs": enforcement builds the frame
    if columns_model:
        if schema.has_names and not isinstance(value, list):
            raise bad_request(
                "Failed to parse input data. This model expects named columns; send a dict of columns or a list"
                " of records."
            )
        return value
    return _array(value, _single_tensor_dtype(schema))


def parse_json(body: bytes, model: Any) -> ParsedRequest:
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"Invalid input. Ensure that input is a valid JSON formatted string. Error: '{exc}'") from None
    if isinstance(decoded, list):
        raise bad_request(f"{REQUIRED_INPUT_FORMAT}. Received a list.")
    if not isinstance(decoded, dict):
        raise bad_request(f"{REQUIRED_INPUT_FORMAT}. Received unexpected input type '{type(decoded).__name__}'.")
    metadata = model.metadata
    if getattr(metadata, "is_signature_from_type_hint", False):
        if set(decoded) - {INPUTS, "params"} or INPUTS not in decoded:
            raise bad_request("This model's signature comes from type hints: send {\"inputs\": ...}.")
        return ParsedRequest(decoded[INPUTS], decoded.get("params"))
    formats = [key for key in decoded if key in SUPPORTED_FORMATS]
    if not formats and any(key in decoded for key in LLM_KEYS):
        params_schema = model.params_schema
        known = {p.name for p in params_schema.params} if params_schema is not None else set()
        data = {k: v for k, v in decoded.items() if k not in known}
        params = {k: v for k, v in decoded.items() if k in known}
        return ParsedRequest(data, params or None, unwrapped=True)
    if "signature_name" in decoded:
        raise bad_request('"signature_name" parameter is currently not supported')
    extra = set(decoded) - set(SUPPORTED_FORMATS) - {"params"}
    if len(formats) != 1 or extra:
        raise bad_request(
            f"{REQUIRED_INPUT_FORMAT}. Received dictionary with input fields: {list(decoded)}."
            f" {SCORING_PROTOCOL_CHANGE_INFO}"
        )
    params = decoded.get("params")
    if params is not None and not isinstance(params, dict):
        raise bad_request(f"'params' must be a JSON object, got {type(params).__name__}.")
    key = formats[0]
    schema = model.input_schema
    if key == DF_SPLIT:
        all_double = schema is not None and not schema.is_tensor and bool(schema.specs) and all(
            s.type == "double" for s in schema.specs)
        data = _check_numeric_columns(_frame_split(decoded[key], all_double), schema)
    elif key == DF_RECORDS:
        data = _check_numeric_columns(_frame_records(decoded[key]), schema)
    else:
        data = _tf_serving(decoded, key, schema)
    return ParsedRequest(data, params)


def parse_csv(body: bytes, model: Any) -> ParsedRequest:
    import pandas as pd

    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise bad_request(f"Ensure that input is a valid UTF-8 encoded string. Error: '{exc!r}'") from None
    dtypes = None
    schema = model.input_schema
    if schema is not None and schema.has_names and not schema.is_tensor:
        numpy_types = {"integer": "int32", "long": "int64", "float": "float32", "double": "float64", "boolean": "bool"}
        dtypes = {s.name: numpy_types[s.type] for s in schema.specs if isinstance(s.type, str) and s.type in numpy_types}
    try:
        return ParsedRequest(pd.read_csv(io.StringIO(text), dtype=dtypes))
    except Exception as exc:
        raise bad_request(f"Failed to parse the CSV input: {exc}") from None


def parse_parquet(body: bytes, model: Any) -> ParsedRequest:
    import pandas as pd

    try:
        return ParsedRequest(pd.read_parquet(io.BytesIO(body)))
    except Exception as exc:
        raise bad_request(f"Failed to parse the Parquet input: {exc}") from None


def parse_request(body: bytes, content_type: str | None, model: Any) -> ParsedRequest:
    media = check_content_type(content_type)
    if media == CONTENT_TYPE_JSON:
        return parse_json(body, model)
    if media == CONTENT_TYPE_CSV:
        return parse_csv(body, model)
    return parse_parquet(body, model)


# -- answers -------------------------------------------------------------------------------
def jsonable_predictions(predictions: Any) -> Any:
    """Predictions as JSON values: frames as records, arrays and series as lists."""
    import numpy as np
    import pandas as pd

    if isinstance(predictions, pd.DataFrame):
        return predictions.to_dict(orient="records")
    if isinstance(predictions, pd.Series):
        return predictions.tolist()
    if isinstance(predictions, np.ndarray):
        return predictions.tolist()
    if isinstance(predictions, dict):
        return {str(k): jsonable_predictions(v) for k, v in predictions.items()}
    if isinstance(predictions, (list, tuple)):
        return [jsonable_predictions(v) for v in predictions]
    if isinstance(predictions, np.generic):
        return predictions.item()
    return predictions


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS, default=_fallback)


def _fallback(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        import base64

        return base64.b64encode(value).decode("ascii")
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"Cannot serialise a {type(value).__name__} in predictions")


def error_body(err: HeadwaterError | RequestError, prefix: str = "") -> dict[str, Any]:
    if isinstance(err, RequestError):
        # As MLflow's scoring server words a malformed payload.
        message = err.message if err.message.startswith("Invalid input.") or err.status != 400 else (
            f"Invalid input. {err.message}")
        return {"error_code": ErrorCode.BAD_REQUEST.value, "message": message, "sqlstate": "KAM00",
                "error_class": ErrorCode.INVALID_PARAMETER_VALUE.value}
    body = err.to_dict()
    if prefix:
        body["message"] = prefix + body["message"]
    return body
