"""How the S3 repository reaches its storage, read from the environment.

Credentials, region and profiles come from boto3's standard chain
(``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN``,
``AWS_PROFILE``, ``~/.aws/config``, instance roles, ``AWS_REGION``…), and
botocore itself honours ``AWS_ENDPOINT_URL_S3``/``AWS_ENDPOINT_URL`` and
``AWS_CA_BUNDLE``. On top of those, the settings MLflow's S3 repository reads
are honoured, each with a ``HEADWATER_`` twin that wins over it:

=========================================  ====================================================
``HEADWATER_S3_ENDPOINT_URL``              endpoint of an S3-compatible server (MinIO, Ceph…)
``MLFLOW_S3_ENDPOINT_URL``
``HEADWATER_S3_IGNORE_TLS``                ``true``: do not verify the endpoint's certificate
``MLFLOW_S3_IGNORE_TLS``
``HEADWATER_S3_ADDRESSING_STYLE``          ``auto`` (default), ``path`` or ``virtual``
``MLFLOW_BOTO_CLIENT_ADDRESSING_STYLE``
``HEADWATER_S3_UPLOAD_EXTRA_ARGS``         JSON object passed to every upload, e.g.
``MLFLOW_S3_UPLOAD_EXTRA_ARGS``            ``{"ServerSideEncryption": "aws:kms"}``
``HEADWATER_S3_EXPECTED_BUCKET_OWNER``     account id every call asserts owns the bucket
``MLFLOW_S3_EXPECTED_BUCKET_OWNER``
``HEADWATER_S3_MULTIPART_THRESHOLD``       files from this size (bytes) upload in parts (8 MiB)
``HEADWATER_S3_MULTIPART_CHUNKSIZE``       size of one part (8 MiB)
``HEADWATER_S3_MAX_CONCURRENCY``           parts or files transferred at once (10)
=========================================  ====================================================
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Mapping

from headwater.exceptions import HeadwaterError

_MIB = 1024 * 1024
_TRUE = ("1", "true", "yes", "on")
_ADDRESSING_STYLES = ("auto", "path", "virtual")


def _setting(env: Mapping[str, str], headwater_name: str, mlflow_name: str | None = None) -> str | None:
    for name in (headwater_name, mlflow_name):
        if name and env.get(name) not in (None, ""):
            return env[name]
    return None


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise HeadwaterError.invalid(f"{name} must be a positive whole number, got {value!r}")
    return number


@dataclass(frozen=True)
class S3Settings:
    """Connection and transfer settings; hashable, so clients can be cached per settings."""

    endpoint_url: str | None = None
    verify_tls: bool = True
    addressing_style: str = "auto"
    upload_extra_args: str = "{}"  # JSON text, kept as text so the settings stay hashable
    expected_bucket_owner: str | None = None
    multipart_threshold: int = 8 * _MIB
    multipart_chunksize: int = 8 * _MIB
    max_concurrency: int = 10

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "S3Settings":
        env = os.environ if environ is None else environ
        style = (_setting(env, "HEADWATER_S3_ADDRESSING_STYLE", "MLFLOW_BOTO_CLIENT_ADDRESSING_STYLE") or "auto").lower()
        if style not in _ADDRESSING_STYLES:
            raise HeadwaterError.invalid(f"S3 addressing style must be one of {_ADDRESSING_STYLES}, got {style!r}")
        extra = _setting(env, "HEADWATER_S3_UPLOAD_EXTRA_ARGS", "MLFLOW_S3_UPLOAD_EXTRA_ARGS") or "{}"
        try:
            parsed = json.loads(extra)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise HeadwaterError.invalid(f"S3 upload extra arguments must be a JSON object, got {extra!r}")
        return cls(
            endpoint_url=_setting(env, "HEADWATER_S3_ENDPOINT_URL", "MLFLOW_S3_ENDPOINT_URL"),
            verify_tls=(_setting(env, "HEADWATER_S3_IGNORE_TLS", "MLFLOW_S3_IGNORE_TLS") or "").lower() not in _TRUE,
            addressing_style=style,
            upload_extra_args=json.dumps(parsed, sort_keys=True),
            expected_bucket_owner=_setting(env, "HEADWATER_S3_EXPECTED_BUCKET_OWNER", "MLFLOW_S3_EXPECTED_BUCKET_OWNER"),
            multipart_threshold=_positive_int(env, "HEADWATER_S3_MULTIPART_THRESHOLD", 8 * _MIB),
            multipart_chunksize=_positive_int(env, "HEADWATER_S3_MULTIPART_CHUNKSIZE", 8 * _MIB),
            max_concurrency=_positive_int(env, "HEADWATER_S3_MAX_CONCURRENCY", 10),
        )

    def extra_args(self) -> dict[str, Any]:
        return json.loads(self.upload_extra_args)

    def owner_args(self) -> dict[str, str]:
        """``ExpectedBucketOwner`` for calls that accept it, if configured."""
        return {"ExpectedBucketOwner": self.expected_bucket_owner} if self.expected_bucket_owner else {}
