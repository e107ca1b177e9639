"""The scoring server application: ``/ping``, ``/health``, ``/version``, ``/invocations``, ``/predict``.

One model per process, loaded when the app is built (``create_app``) or, for
uvicorn workers, by ``app_from_env`` from the environment that
``headwater models serve`` sets. The server never loads anything a request
names: it serves the model it was started with.

Errors are JSON ``{"error_code", "message"}`` (plus ``error_class`` and
``sqlstate`` for signature mismatches) with status 400 when the request is
at fault; content-type refusals are 415 plain text; a request that runs
longer than the timeout gets 504. An exception inside the model is logged
with its traceback here and answered without it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from headwater.exceptions import HeadwaterError
from headwater.models.serving import parsing

log = logging.getLogger("headwater.models.serving")

MODEL_PATH_ENV = "HEADWATER_SERVING_MODEL_PATH"
TIMEOUT_ENV = "HEADWATER_SERVING_TIMEOUT"
MAX_BYTES_ENV = "HEADWATER_SERVING_MAX_REQUEST_BYTES"
MODEL_CONFIG_ENV = "SERVING_MODEL_CONFIG"  # MLflow's name: JSON merged over the model's config
DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_REQUEST_BYTES = 100 * 1024 * 1024
# The MLflow release whose scoring protocol this server speaks (what /version reports, as MLflow's does).
PROTOCOL_VERSION = "3.18.0"

UNEXPECTED_ERROR = (
    "Encountered an unexpected error while evaluating the model. Verify that the serialized input"
    " Dataframe is compatible with the model for inference."
)


class JSONBytes(Response):
    media_type = "application/json"


def _json(body: Any, status: int = 200) -> Response:
    return JSONBytes(parsing.dumps(body), status_code=status)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise parsing.RequestError(413, f"Request body exceeds the limit of {limit} bytes ({MAX_BYTES_ENV}).")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise parsing.RequestError(413, f"Request body exceeds the limit of {limit} bytes ({MAX_BYTES_ENV}).")
        chunks.append(chunk)
    return b"".join(chunks)


def _short_repr(data: Any, limit: int = 2000) -> str:
    text = repr(data)
    return text if len(text) <= limit else text[:limit] + "..."


def create_app(model: Any, timeout: float = DEFAULT_TIMEOUT, max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES) -> Starlette:
    """The ASGI app serving ``model`` (a :class:`~headwater.models.pyfunc.PyFuncModel`)."""

    def predict(parsed: parsing.ParsedRequest) -> Any:
        try:
            return model.predict(parsed.data, parsed.params)
        except HeadwaterError as err:
            err.message = f"Failed to predict data '{_short_repr(parsed.data)}'. \nError: {err.message}"
            raise
        except Exception as exc:
            log.error("the model raised while predicting", exc_info=exc)
            raise HeadwaterError(UNEXPECTED_ERROR, "BAD_REQUEST") from None

    async def score(request: Request, wrap: bool) -> Response:
        try:
            body = await _read_body(request, max_request_bytes)
            parsed = parsing.parse_request(body, request.headers.get("content-type"), model)
            if not wrap and not hasattr(parsed.data, "columns"):
                raise parsing.bad_request("/predict takes dataframe_split, dataframe_records or text/csv input.")
            predictions = await asyncio.wait_for(run_in_threadpool(predict, parsed), timeout)
        except parsing.RequestError as err:
            if err.plain_text:
                return PlainTextResponse(err.message, status_code=err.status)
            return _json(parsing.error_body(err), err.status)
        except HeadwaterError as err:
            return _json(err.to_dict(), 400 if err.http_status >= 500 else err.http_status)
        except asyncio.TimeoutError:
            return PlainTextResponse("Request processing time exceeded limit", status_code=504)
        except Exception as exc:  # our own bug: never leak the trace
            log.error("unexpected error while scoring", exc_info=exc)
            return _json({"error_code": "INTERNAL_ERROR", "message": f"Internal error ({type(exc).__name__})"}, 500)
        result = parsing.jsonable_predictions(predictions)
        if parsed.unwrapped or not wrap:
            return _json(result)
        return _json({"predictions": result})

    async def invocations(request: Request) -> Response:
        return await score(request, wrap=True)

    async def predict_route(request: Request) -> Response:
        # The R package's older route: the same inputs, the predictions without a wrapper.
        return await score(request, wrap=False)

    async def ping(request: Request) -> Response:
        return JSONBytes(b"\n")

    async def version(request: Request) -> Response:
        return JSONBytes(PROTOCOL_VERSION.encode())

    routes = [
        Route("/ping", ping, methods=["GET"]),
        Route("/health", ping, methods=["GET"]),
        Route("/version", version, methods=["GET"]),
        Route("/invocations", invocations, methods=["POST"]),
        Route("/predict", predict_route, methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.model = model
    return app


def app_from_env() -> Starlette:
    """Factory for uvicorn workers: load the model named by the environment, then serve it."""
    import json

    from headwater.models.pyfunc import load_pyfunc

    path = os.environ.get(MODEL_PATH_ENV)
    if not path:
        raise RuntimeError(f"{MODEL_PATH_ENV} is not set: start the server with `headwater models serve`")
    config = os.environ.get(MODEL_CONFIG_ENV)
    model = load_pyfunc(path, json.loads(config) if config else None)
    return create_app(
        model,
        timeout=float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT)),
        max_request_bytes=int(os.environ.get(MAX_BYTES_ENV, DEFAULT_MAX_REQUEST_BYTES)),
    )
