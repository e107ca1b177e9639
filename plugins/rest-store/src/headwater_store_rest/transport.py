"""HTTP plumbing shared by the REST store and the artifact-proxy repository.

One :class:`requests.Session` per :class:`RestClient`, configured from the
environment as MLflow's clients are (``HEADWATER_*`` beats ``MLFLOW_*``):

==================================  ==========================================
``*_TRACKING_USERNAME``/``PASSWORD``  HTTP Basic auth
``*_TRACKING_TOKEN``                Bearer token (used when no username is set)
``*_TRACKING_INSECURE_TLS``         ``true`` skips certificate verification
``*_TRACKING_SERVER_CERT_PATH``     CA bundle to verify the server with
``*_TRACKING_CLIENT_CERT_PATH``     client certificate (mutual TLS)
``*_HTTP_REQUEST_TIMEOUT``          seconds to wait for an answer (120)
``*_HTTP_REQUEST_MAX_RETRIES``      retries of a failed call (5)
``*_HTTP_REQUEST_BACKOFF_FACTOR``   exponential backoff factor (1 s)
==================================  ==========================================

Retries are urllib3's :class:`~urllib3.util.retry.Retry` on the session's
adapters. Connection failures are retried for every call (nothing reached the
server); 429 likewise (the server refused the work). 503 and read failures
are retried only where repeating the call cannot change the outcome: GET,
PUT, PATCH, DELETE, and the POST endpoints listed in
:data:`RETRY_SAFE_POSTS`. Creating an experiment or a run is never repeated.
"""

from __future__ import annotations

import base64
import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Mapping

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from headwater import __version__
from headwater.exceptions import ErrorCode, HeadwaterError

API_PREFIX = "/api/2.0/mlflow"

# POST endpoints that may be sent twice with no other effect than sending them once.
RETRY_SAFE_POSTS = (
    "runs/log-metric",
    "runs/log-parameter",
    "runs/log-batch",
    "runs/set-tag",
    "runs/update",
    "runs/delete",
    "runs/restore",
    "runs/search",
    "experiments/search",
    "experiments/set-experiment-tag",
    "experiments/update",
)
# Longer paths that start with a retry-safe one but are not safe themselves.
NOT_RETRY_SAFE_POSTS = ("runs/delete-tag",)

_ERROR_BY_STATUS = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.UNAUTHENTICATED,
    403: ErrorCode.PERMISSION_DENIED,
    404: ErrorCode.ENDPOINT_NOT_FOUND,
    409: ErrorCode.RESOURCE_CONFLICT,
    429: ErrorCode.REQUEST_LIMIT_EXCEEDED,
    501: ErrorCode.NOT_IMPLEMENTED,
    503: ErrorCode.TEMPORARILY_UNAVAILABLE,
    504: ErrorCode.DEADLINE_EXCEEDED,
}
_TRUE = ("1", "true", "yes", "on")


def env_setting(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """``HEADWATER_<name>`` if set, else ``MLFLOW_<name>``, else None."""
    env = os.environ if environ is None else environ
    for prefix in ("HEADWATER_", "MLFLOW_"):
        value = env.get(prefix + name)
        if value not in (None, ""):
            return value
    return None


@dataclass(frozen=True)
class HttpConfig:
    """Everything that shapes the HTTP calls to one server."""

    username: str | None = None
    password: str | None = None
    token: str | None = None
    insecure_tls: bool = False
    server_cert_path: str | None = None
    client_cert_path: str | None = None
    timeout: float = 120.0
    connect_timeout: float = 10.0
    max_retries: int = 5
    backoff_factor: float = 1.0
    backoff_max: float = 60.0
    extra_headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "HttpConfig":
        def number(name: str, default: float) -> float:
            value = env_setting(name, environ)
            try:
                return float(value) if value is not None else default
            except ValueError:
                raise HeadwaterError.invalid(f"Environment variable {name} must be a number, got {value!r}")

        config = cls(
            username=env_setting("TRACKING_USERNAME", environ),
            password=env_setting("TRACKING_PASSWORD", environ),
            token=env_setting("TRACKING_TOKEN", environ),
            insecure_tls=(env_setting("TRACKING_INSECURE_TLS", environ) or "").lower() in _TRUE,
            server_cert_path=env_setting("TRACKING_SERVER_CERT_PATH", environ),
            client_cert_path=env_setting("TRACKING_CLIENT_CERT_PATH", environ),
            timeout=number("HTTP_REQUEST_TIMEOUT", 120.0),
            max_retries=int(number("HTTP_REQUEST_MAX_RETRIES", 5)),
            backoff_factor=number("HTTP_REQUEST_BACKOFF_FACTOR", 1.0),
        )
        if config.insecure_tls and config.server_cert_path:
            raise HeadwaterError.invalid(
                "TRACKING_INSECURE_TLS and TRACKING_SERVER_CERT_PATH cannot both be set:"
                " either verify the server with a certificate or do not verify it."
            )
        return config

    def authorization(self) -> str | None:
        """The ``Authorization`` header value, if credentials are configured."""
        if self.username is not None and self.password is not None:
            pair = f"{self.username}:{self.password}".encode()
            return "Basic " + base64.b64encode(pair).decode()
        if self.token:
            return f"Bearer {self.token}"
        return None


class _RetryPolicy(Retry):
    """urllib3's Retry, plus: a 429 is retried whatever the method (the server did no work)."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == 429 and self.total:
            return True
        return super().is_retry(method, status_code, has_retry_after)


def _retry(config: HttpConfig, methods: frozenset[str] | None) -> Retry:
    return _RetryPolicy(
        total=config.max_retries,
        connect=config.max_retries,
        read=config.max_retries,
        status=config.max_retries,
        other=0,
        backoff_factor=config.backoff_factor,
        backoff_max=config.backoff_max,
        status_forcelist=(429, 503),
        allowed_methods=methods,  # None: every method
        raise_on_status=False,  # the last answer is turned into a HeadwaterError below
        respect_retry_after_header=True,
    )


def build_session(base_url: str, config: HttpConfig) -> requests.Session:
    """A session for ``base_url`` with auth, TLS settings and the retry policy mounted."""
    session = requests.Session()
    session.headers["User-Agent"] = f"headwater-python-client/{__version__}"
    session.headers.update(config.extra_headers)
    if config.insecure_tls:
        session.verify = False
    elif config.server_cert_path:
        session.verify = config.server_cert_path
    if config.client_cert_path:
        session.cert = config.client_cert_path
    idempotent = HTTPAdapter(max_retries=_retry(config, frozenset(Retry.DEFAULT_ALLOWED_METHODS) | {"PATCH"}))
    any_method = HTTPAdapter(max_retries=_retry(config, None))
    base = base_url.rstrip("/")
    session.mount(base, idempotent)
    # requests picks the adapter with the longest matching prefix.
    for path in RETRY_SAFE_POSTS:
        session.mount(f"{base}{API_PREFIX}/{path}", any_method)
    for path in NOT_RETRY_SAFE_POSTS:
        session.mount(f"{base}{API_PREFIX}/{path}", idempotent)
    return session


def error_from_response(response: requests.Response) -> HeadwaterError:
    """The server's ``{error_code, message}`` as a HeadwaterError; status-based otherwise."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "error_code" in body:
        return HeadwaterError(str(body.get("message", "")), str(body["error_code"]))
    code = _ERROR_BY_STATUS.get(response.status_code, ErrorCode.INTERNAL_ERROR)
    text = response.text.strip()[:500]
    return HeadwaterError(
        f"{response.request.method} {response.url} failed with HTTP {response.status_code}: {text}", code
    )


def _json_number(value: Any) -> Any:
    """NaN and infinities as the strings MLflow's JSON uses; JSON has no literal for them."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _json_number(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_number(v) for v in value]
    return value


class RestClient:
    """Calls one server's REST API; every failure becomes a :class:`HeadwaterError`."""

    def __init__(self, base_url: str, config: HttpConfig | None = None):
        self.base_url = base_url.rstrip("/")
        self.config = config or HttpConfig.from_env()
        self.session = build_session(self.base_url, self.config)
        authorization = self.config.authorization()
        if authorization:
            self.session.headers["Authorization"] = authorization

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.config.connect_timeout, self.config.timeout)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send a request to ``base_url + path``; raises HeadwaterError on failure."""
        url = self.base_url + path
        kwargs.setdefault("timeout", self.timeout)
        try:
            response = self.session.request(method, url, **kwargs)
        except requests.exceptions.RetryError as exc:  # retries exhausted on a retried status
            raise HeadwaterError(f"{method} {url} failed after retries: {exc}", ErrorCode.TEMPORARILY_UNAVAILABLE)
        except requests.exceptions.ConnectionError as exc:
            raise HeadwaterError(
                f"Could not reach {self.base_url} ({method} {path}) after {self.config.max_retries}"
                f" retries: {exc}",
                ErrorCode.TEMPORARILY_UNAVAILABLE,
            )
        except requests.exceptions.Timeout as exc:
            raise HeadwaterError(f"{method} {url} timed out: {exc}", ErrorCode.DEADLINE_EXCEEDED)
        except requests.exceptions.RequestException as exc:
            raise HeadwaterError(f"{method} {url} failed: {exc}", ErrorCode.INTERNAL_ERROR)
        if response.status_code >= 400:
            try:
                raise error_from_response(response)
            finally:
                response.close()
        return response

    def call(self, method: str, endpoint: str, body: dict[str, Any] | None = None,
             params: Any = None) -> dict[str, Any]:
        """Call ``/api/2.0/mlflow/<endpoint>`` with a JSON body (or query params) and decode the answer."""
        kwargs: dict[str, Any] = {}
        if body is not None:
            kwargs["data"] = json.dumps(_json_number(body))
            kwargs["headers"] = {"Content-Type": "application/json"}
        if params is not None:
            kwargs["params"] = params
        response = self.request(method, f"{API_PREFIX}/{endpoint}", **kwargs)
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise HeadwaterError(
                f"{method} {endpoint}: the server answered with something that is not JSON:"
                f" {response.text[:200]!r}",
                ErrorCode.INTERNAL_ERROR,
            )

    def close(self) -> None:
        self.session.close()
