"""Reading requests the way MLflow's clients send them.

GET parameters come from the query string (repeated keys for lists); other
methods carry a JSON body, which may be a JSON string holding JSON (legacy
clients) or empty (``{}``). camelCase keys are accepted, unknown keys ignored.

Every scalar may also arrive as a string, because MLflow's R client turns each
JSON leaf into one (``"0.5"``, ``"1795709502511"``, ``"1e+05"``, ``"Inf"``,
``"FALSE"``). The coercions below accept those and refuse everything else with
MLflow's INVALID_PARAMETER_VALUE messages. They are plain functions rather
than pydantic models: this runs on every request.
"""

from __future__ import annotations

import math
import re
from typing import Any, Iterable

import orjson
from starlette.requests import Request

from headwater.exceptions import HeadwaterError

_API_DOCS = " See the API docs for more information about request parameters."
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_CAMEL_RE = re.compile(r"(?<!^)(?=[A-Z])")


def missing(name: str) -> HeadwaterError:
    return HeadwaterError.invalid(f"Missing value for required parameter '{name}'.{_API_DOCS}")


def invalid(name: str, value: Any, hint: str | None = None) -> HeadwaterError:
    try:
        shown = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        shown = repr(value)
    hint = hint or f"Hint: Value was of type '{type(value).__name__}'."
    return HeadwaterError.invalid(f"Invalid value {shown} for parameter '{name}' supplied: {hint}{_API_DOCS}")


# -- reading the request ---------------------------------------------------------------
class BodyTooLarge(HeadwaterError):
    """A JSON request body over the configured cap (answered with 413)."""

    def __init__(self, message: str):
        super().__init__(message, "INVALID_PARAMETER_VALUE")


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing one over ``limit`` bytes before reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(_too_large(int(declared), limit))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(_too_large(size, limit))
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, limit: int) -> str:
    return (
        f"Request body of {size} bytes or more exceeds the limit of {limit} bytes"
        " (HEADWATER_MAX_REQUEST_BYTES)."
    )


def check_content_type(request: Request) -> None:
    """POST and PUT must say they carry JSON, with MLflow's messages when they do not."""
    content_type = request.headers.get("content-type")
    if content_type is None:
        raise HeadwaterError.invalid("Bad Request. Content-Type header is missing.")
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise HeadwaterError.invalid("Bad Request. Content-Type must be one of ['application/json'].")


def decode_json(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        data = orjson.loads(body)
        if isinstance(data, str):  # a JSON string holding the JSON request
            data = orjson.loads(data) if data.strip() else None
    except orjson.JSONDecodeError as exc:
        raise HeadwaterError.invalid(f"Malformed JSON in the request body: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise HeadwaterError.invalid(
            f"The request body must be a JSON object, not {type(data).__name__}."
        )
    return data


def query_dict(request: Request, repeated: Iterable[str]) -> dict[str, Any]:
    """Query parameters as a dict: lists for ``repeated`` fields, else the last value."""
    params = request.query_params
    out: dict[str, Any] = dict(params)
    for name in repeated:
        if name in params:
            out[name] = params.getlist(name)
    return out


async def read_params(request: Request, repeated: Iterable[str], limit: int) -> "Params":
    """The request's parameters, from the query string (GET) or the JSON body."""
    method = request.method
    if method == "GET" and request.scope.get("query_string"):
        return Params(snake_keys(query_dict(request, repeated)))
    if method in ("POST", "PUT"):
        check_content_type(request)
    return Params(snake_keys(decode_json(await read_body(request, limit))))


def snake_keys(data: dict[str, Any]) -> dict[str, Any]:
    """Accept camelCase field names; the same field spelt both ways is refused."""
    for key in [k for k in data if not k.islower() and not k.isdigit()]:
        snake = _CAMEL_RE.sub("_", key).lower()
        if snake == key:
            continue
        if snake in data:
            raise HeadwaterError.invalid(
                f"Request specifies both '{snake}' and '{key}'; provide only one of them."
            )
        data[snake] = data.pop(key)
    return data


# -- coercing values ------------------------------------------------------------------
def as_text(value: Any, name: str, numbers_ok: bool = False) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if numbers_ok and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise invalid(name, value)


def as_int(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise invalid(name, value)
    if isinstance(value, int):
        number = value
    elif isinstance(value, (float, str)):
        try:
            number = int(value) if isinstance(value, str) else _integral(value)
        except ValueError:
            try:
                number = _integral(float(value))
            except (ValueError, OverflowError):
                raise invalid(name, value) from None
    else:
        raise invalid(name, value)
    if not _INT64_MIN <= number <= _INT64_MAX:
        raise invalid(name, value, "Value does not fit a 64-bit integer.")
    return number


def _integral(number: float) -> int:
    if not math.isfinite(number) or not number.is_integer():
        raise ValueError(number)
    return int(number)


def as_float(value: Any, name: str) -> float | None:
    """A double: a number, or a string such as ``"0.5"``, ``"1e+05"``, ``"NaN"``, ``"-Inf"``."""
    if value is None:
        return None
    if isinstance(value, float):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            raise invalid(name, value) from None
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise invalid(name, value) from None
    raise invalid(name, value)


def as_bool(value: Any, name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid(name, value, f"Invalid boolean value: {value}, must be 'true' or 'false'.")


def as_list(value: Any, name: str) -> list[Any]:
    """A repeated field; a lone scalar counts as a list of one (R unboxes length-1 vectors)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        raise invalid(name, value)
    return [value]


def as_object(item: Any, path: str) -> "Params":
    """One item of a repeated message field: a JSON object (GET may send it as JSON text)."""
    if isinstance(item, str):
        try:
            item = orjson.loads(item)
        except orjson.JSONDecodeError:
            raise invalid(path, item) from None
    if not isinstance(item, dict):
        raise invalid(path, item)
    return Params(snake_keys(item), f"{path}.")


class Params:
    """Typed access to one request's parameters (a dict with snake_case keys)."""

    __slots__ = ("data", "prefix")

    def __init__(self, data: dict[str, Any], prefix: str = ""):
        self.data = data
        self.prefix = prefix  # where a nested message sits, for error messages: "metrics[3]."

    def _get(self, name: str, alias: str | None, required: bool) -> Any:
        value = self.data.get(name)
        if (value is None or value == "") and alias is not None:
            value = self.data.get(alias, value)
        if required and (value is None or value == ""):
            raise missing(self.prefix + name)
        return value

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def text(self, name: str, required: bool = False, alias: str | None = None, numbers_ok: bool = False) -> str | None:
        return as_text(self._get(name, alias, required), self.prefix + name, numbers_ok)

    def integer(self, name: str, required: bool = False, default: int | None = None) -> int | None:
        value = as_int(self._get(name, None, required), self.prefix + name)
        return default if value is None else value

    def number(self, name: str, required: bool = False) -> float | None:
        return as_float(self._get(name, None, required), self.prefix + name)

    def flag(self, name: str, default: bool | None = None) -> bool | None:
        value = as_bool(self.data.get(name), self.prefix + name)
        return default if value is None else value

    def texts(self, name: str, required: bool = False, numbers_ok: bool = False) -> list[str]:
        path = self.prefix + name
        items = as_list(self._get(name, None, required), path)
        return [as_text(item, f"{path}[{i}]", numbers_ok) or "" for i, item in enumerate(items)]

    def objects(self, name: str, required: bool = False) -> list["Params"]:
        """A repeated message field: each item a JSON object (GET may send it as JSON text)."""
        path = self.prefix + name
        return [as_object(item, f"{path}[{i}]") for i, item in enumerate(as_list(self._get(name, None, required), path))]

    def object(self, name: str) -> "Params":
        value = self.data.get(name)
        if value is None:
            return Params({}, f"{self.prefix}{name}.")
        if not isinstance(value, dict):
            raise invalid(self.prefix + name, value)
        return Params(snake_keys(value), f"{self.prefix}{name}.")
