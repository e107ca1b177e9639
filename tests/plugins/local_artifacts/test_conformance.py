"""The local artifact repository passes the artifact-repository conformance kit."""

from __future__ import annotations

import pytest

from headwater.testing import ArtifactRepositoryConformance
from headwater_artifacts_local import LocalArtifactRepository


class TestLocalRepositoryConformance(ArtifactRepositoryConformance):
    @pytest.fixture
    def artifact_repository(self, tmp_path):
        return LocalArtifactRepository(str(tmp_path / "outer" / "root"))

    @pytest.fixture
    def outside_root_repository(self, tmp_path):
        return LocalArtifactRepository(str(tmp_path / "outer"))
