"""Server settings, and how they travel to uvicorn worker processes.

``headwater server --workers N`` starts uvicorn with an app *factory*; each
worker process builds its own app from environment variables, so the settings
are written to ``HEADWATER_SERVER_*`` variables by the CLI and read back by
:func:`headwater_server.app.app_from_env`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Mapping

DEFAULT_BACKEND_STORE_URI = "sqlite:///headwater.db"
DEFAULT_ARTIFACTS_DESTINATION = "./mlartifacts"
DEFAULT_LOCAL_ARTIFACT_ROOT = "./mlruns"
PROXY_ARTIFACT_ROOT = "mlflow-artifacts:/"
DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024

MAX_REQUEST_BYTES_ENV = "HEADWATER_MAX_REQUEST_BYTES"
_ENV_PREFIX = "HEADWATER_SERVER_"


def _absolute_local(location: str) -> str:
    """Relative local paths are resolved against the working directory now, not later."""
    if "://" in location or location.startswith(("mlflow-artifacts:", "file:")):
        return location
    return str(Path(location).expanduser().absolute())


@dataclass(frozen=True)
class ServerConfig:
    backend_store_uri: str = DEFAULT_BACKEND_STORE_URI
    registry_store_uri: str | None = None
    default_artifact_root: str | None = None
    serve_artifacts: bool = True
    artifacts_destination: str | None = None
    static_prefix: str = ""
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES

    def resolved(self) -> "ServerConfig":
        """Fill in defaults the way ``mlflow server`` does.

        Serving artifacts with no root given makes new experiments store
        ``mlflow-artifacts:/<id>`` locations, which clients resolve to this
        server's proxy; the proxy writes under ``artifacts_destination``.
        """
        prefix = self.static_prefix.strip()
        if prefix:
            prefix = "/" + prefix.strip("/")
        root = self.default_artifact_root
        if not root:
            root = PROXY_ARTIFACT_ROOT if self.serve_artifacts else DEFAULT_LOCAL_ARTIFACT_ROOT
        destination = self.artifacts_destination or DEFAULT_ARTIFACTS_DESTINATION
        return ServerConfig(
            backend_store_uri=self.backend_store_uri or DEFAULT_BACKEND_STORE_URI,
            registry_store_uri=self.registry_store_uri or None,
            default_artifact_root=_absolute_local(root),
            serve_artifacts=self.serve_artifacts,
            artifacts_destination=_absolute_local(destination),
            static_prefix=prefix,
            max_request_bytes=self.max_request_bytes,
        )

    def to_env(self) -> dict[str, str]:
        """The settings as environment variables (unset optionals are left out)."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            key = MAX_REQUEST_BYTES_ENV if f.name == "max_request_bytes" else _ENV_PREFIX + f.name.upper()
            out[key] = ("1" if value else "0") if isinstance(value, bool) else str(value)
        return out

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "ServerConfig":
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            return env.get(_ENV_PREFIX + name.upper()) or None

        max_bytes = env.get(MAX_REQUEST_BYTES_ENV)
        return cls(
            backend_store_uri=get("backend_store_uri") or DEFAULT_BACKEND_STORE_URI,
            registry_store_uri=get("registry_store_uri"),
            default_artifact_root=get("default_artifact_root"),
            serve_artifacts=(get("serve_artifacts") or "1").lower() not in ("0", "false", "no"),
            artifacts_destination=get("artifacts_destination"),
            static_prefix=get("static_prefix") or "",
            max_request_bytes=int(max_bytes) if max_bytes else DEFAULT_MAX_REQUEST_BYTES,
        )
