"""boto3 clients, shared per process, and S3 errors turned into Headwater errors.

Building a boto3 client costs tens of milliseconds and a client is
thread-safe, so one is built per (settings, process, AWS identity variables)
and reused by every repository; a forked worker builds its own (clients must
not cross a fork), and changed credentials in the environment get a new one.
"""

from __future__ import annotations

import hashlib
import os
import threading
from typing import Any

from headwater.exceptions import ErrorCode, HeadwaterError

from headwater_artifacts_s3.settings import S3Settings

_clients: dict[tuple[S3Settings, int, str], Any] = {}
_lock = threading.Lock()

# S3 error codes meaning the credentials are wrong or lack the right to the bucket.
_REFUSED = frozenset({
    "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidClientTokenId",
    "ExpiredToken", "InvalidToken", "TokenRefreshRequired", "AllAccessDisabled", "403",
})
_MISSING_BUCKET = frozenset({"NoSuchBucket"})
_MISSING_KEY = frozenset({"NoSuchKey", "404", "NotFound"})


# Environment variables that change which credentials or region a new client picks up.
_IDENTITY_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                       "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")


def _identity() -> str:
    values = "\0".join(os.environ.get(name, "") for name in _IDENTITY_VARIABLES)
    return hashlib.sha256(values.encode()).hexdigest()


def s3_client(settings: S3Settings) -> Any:
    """The process's boto3 S3 client for ``settings`` and the current AWS identity variables."""
    key = (settings, os.getpid(), _identity())
    with _lock:
        client = _clients.get(key)
        if client is None:
            import boto3
            from botocore.config import Config

            pool = max(10, settings.max_concurrency * 2)  # transfers of several files at once share it
            config = Config(
                s3={"addressing_style": settings.addressing_style},
                max_pool_connections=pool,
                retries={"mode": "standard"},
            )
            session = boto3.session.Session()
            client = session.client(
                "s3", endpoint_url=settings.endpoint_url, verify=settings.verify_tls, config=config
            )
            _clients[key] = client
        return client


def endpoint_of(client: Any) -> str:
    return str(getattr(client.meta, "endpoint_url", "") or "the default AWS endpoint")


def translate(exc: BaseException, *, bucket: str, key: str | None, client: Any) -> HeadwaterError:
    """A Headwater error naming the bucket and endpoint for a boto error.

    Missing keys are RESOURCE_DOES_NOT_EXIST; a missing bucket and refused
    credentials are deterministic 4xx answers (a 5xx would send clients into
    minutes of retries); an unreachable endpoint is TEMPORARILY_UNAVAILABLE.
    """
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

    endpoint = endpoint_of(client)
    where = f"S3 bucket {bucket!r} at endpoint {endpoint}"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = error.get("Message") or code
        if code in _MISSING_BUCKET:
            return HeadwaterError(f"The {where} does not exist. Create it or fix the artifact location.",
                                  ErrorCode.RESOURCE_DOES_NOT_EXIST)
        if code in _REFUSED:
            return HeadwaterError(
                f"The {where} refused the request ({code}: {message}). Check the AWS credentials"
                " (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE) and the bucket's policy.",
                ErrorCode.PERMISSION_DENIED,
            )
        if code in _MISSING_KEY:
            return HeadwaterError.not_found(f"No artifact found at '{key}' in the {where}")
        return HeadwaterError(f"The {where} failed the request ({code}: {message})", ErrorCode.INTERNAL_ERROR)
    if isinstance(exc, NoCredentialsError):
        return HeadwaterError(
            f"No AWS credentials were found for the {where}. Set AWS_ACCESS_KEY_ID and"
            " AWS_SECRET_ACCESS_KEY, or AWS_PROFILE.",
            ErrorCode.PERMISSION_DENIED,
        )
    if isinstance(exc, EndpointConnectionError):
        return HeadwaterError(f"Could not connect to the {where}: {exc}", ErrorCode.TEMPORARILY_UNAVAILABLE)
    if isinstance(exc, BotoCoreError):
        return HeadwaterError(f"The {where} could not be used: {exc}", ErrorCode.INTERNAL_ERROR)
    return HeadwaterError(f"The {where} could not be used: {type(exc).__name__}: {exc}")


def boto_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError)
