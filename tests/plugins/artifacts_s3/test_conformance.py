"""The S3 repository passes the artifact-repository conformance kit against a real S3 server."""

from __future__ import annotations

import pytest

from headwater.testing import ArtifactRepositoryConformance
from headwater_artifacts_s3 import S3ArtifactRepository, S3Settings


class TestS3RepositoryConformance(ArtifactRepositoryConformance):
    # Above the 5 MiB multipart threshold set below, so the big round trip goes in parts.
    large_file_bytes = 12 * 1024 * 1024

    @pytest.fixture
    def artifact_repository(self, s3_bucket, monkeypatch):
        monkeypatch.setenv("HEADWATER_S3_MULTIPART_THRESHOLD", str(5 * 1024 * 1024))
        monkeypatch.setenv("HEADWATER_S3_MULTIPART_CHUNKSIZE", str(5 * 1024 * 1024))
        return S3ArtifactRepository(f"s3://{s3_bucket}/outer/root")

    @pytest.fixture
    def outside_root_repository(self, s3_bucket):
        return S3ArtifactRepository(f"s3://{s3_bucket}/outer")


class TestS3RepositoryAtBucketRoot(ArtifactRepositoryConformance):
    """A repository whose root is the bucket itself (empty prefix)."""

    large_file_bytes = 6 * 1024 * 1024

    @pytest.fixture
    def artifact_repository(self, s3_bucket):
        return S3ArtifactRepository(f"s3://{s3_bucket}", S3Settings.from_env())
