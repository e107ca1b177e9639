"""Entry point of the ``artifacts_s3`` plugin: claims ``s3://`` artifact URIs."""

from __future__ import annotations

from typing import Iterator

from headwater.plugins import hookimpl
from headwater.plugins.types import ArtifactRepositoryProvider


def _build(artifact_uri: str):  # type: ignore[no-untyped-def]
    from headwater_artifacts_s3.repository import S3ArtifactRepository  # boto3 is imported only when used

    return S3ArtifactRepository(artifact_uri)


@hookimpl
def headwater_artifact_repositories() -> Iterator[ArtifactRepositoryProvider]:
    yield ArtifactRepositoryProvider(name="s3", schemes=("s3",), factory=_build)
