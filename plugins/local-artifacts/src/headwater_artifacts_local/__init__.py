"""Headwater artifact repository for local folders (``file:`` URIs and plain paths)."""

from headwater_artifacts_local.repository import LocalArtifactRepository, local_path_from_uri

__all__ = ["LocalArtifactRepository", "local_path_from_uri"]
