"""Headwater's tracking server: MLflow's REST API served by FastAPI under uvicorn.

``create_app(...)`` builds the ASGI application; ``headwater server`` runs it.
Imports are lazy so that the CLI starts fast.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app", "ServerConfig"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from headwater_server.app import create_app

        return create_app
    if name == "ServerConfig":
        from headwater_server.config import ServerConfig

        return ServerConfig
    raise AttributeError(f"module 'headwater_server' has no attribute {name!r}")
