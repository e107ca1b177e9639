"""Headwater over HTTP: a tracking store for ``http(s)://`` tracking URIs and an
artifact repository for ``mlflow-artifacts:`` URIs, both talking to a server
that speaks MLflow's REST API (``headwater server`` or ``mlflow server``)."""

from headwater_store_rest.artifacts import ProxyArtifactRepository
from headwater_store_rest.store import RestStore
from headwater_store_rest.transport import HttpConfig, RestClient

__all__ = ["HttpConfig", "ProxyArtifactRepository", "RestClient", "RestStore"]
