"""Entry point of the ``local_artifacts`` plugin: claims plain paths and ``file:`` URIs."""

from __future__ import annotations

from typing import Iterator

from headwater.plugins import hookimpl
from headwater.plugins.types import ArtifactRepositoryProvider


@hookimpl
def headwater_artifact_repositories() -> Iterator[ArtifactRepositoryProvider]:
    from headwater_artifacts_local.repository import LocalArtifactRepository

    yield ArtifactRepositoryProvider(name="local", schemes=("", "file"), factory=LocalArtifactRepository)
