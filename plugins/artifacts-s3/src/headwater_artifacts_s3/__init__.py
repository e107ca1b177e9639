"""Headwater artifact repository for S3 and S3-compatible object storage (``s3://bucket/prefix``)."""

from headwater_artifacts_s3.repository import S3ArtifactRepository, parse_s3_uri
from headwater_artifacts_s3.settings import S3Settings

__all__ = ["S3ArtifactRepository", "S3Settings", "parse_s3_uri"]
