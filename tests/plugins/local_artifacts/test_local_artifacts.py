"""Behaviour of the local artifact repository: logging, listing, downloading, deleting, streaming."""

from __future__ import annotations

import io
import os
import stat

import pytest

from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.plugins.manager import make_plugin_manager
from headwater_artifacts_local import LocalArtifactRepository, local_path_from_uri


@pytest.fixture
def repo(tmp_path):
    return LocalArtifactRepository(str(tmp_path / "root"))


@pytest.fixture
def source(tmp_path):
    """A local folder to log: a.txt, sub/b.txt, sub/deeper/c.bin, empty/."""
    src = tmp_path / "src"
    (src / "sub" / "deeper").mkdir(parents=True)
    (src / "empty").mkdir()
    (src / "a.txt").write_text("alpha")
    (src / "sub" / "b.txt").write_text("bravo!")
    (src / "sub" / "deeper" / "c.bin").write_bytes(bytes(range(256)))
    return src


def test_plugin_is_found_through_its_entry_point(tmp_path):
    manager = make_plugin_manager(environ={"HEADWATER_LOAD_PLUGINS": "local_artifacts"})
    for uri in (tmp_path.as_uri(), str(tmp_path)):
        repository = manager.artifact_repository(uri)
        assert isinstance(repository, LocalArtifactRepository)
        assert repository.root == str(tmp_path)


def test_file_uris_map_to_local_paths():
    assert local_path_from_uri("file:///tmp/a%20b/c") == "/tmp/a b/c"
    assert local_path_from_uri("file://localhost/tmp/x") == "/tmp/x"
    assert local_path_from_uri("file:relative/dir") == "relative/dir"
    assert local_path_from_uri("/plain/path#not-a-fragment") == "/plain/path#not-a-fragment"


def test_log_artifact_copies_a_file_into_a_subdirectory(repo, source):
    repo.log_artifact(str(source / "a.txt"), "x/y")
    with open(os.path.join(repo.root, "x", "y", "a.txt")) as fh:
        assert fh.read() == "alpha"
    assert [f.path for f in repo.list_artifacts()] == ["x"]
    [info] = repo.list_artifacts("x/y")
    assert (info.path, info.is_dir, info.file_size) == ("x/y/a.txt", False, 5)


def test_log_artifacts_copies_a_tree_and_lists_it_level_by_level(repo, source):
    repo.log_artifacts(str(source), "model")
    top = repo.list_artifacts("model")
    assert [(f.path, f.is_dir, f.file_size) for f in top] == [
        ("model/a.txt", False, 5),
        ("model/empty", True, None),
        ("model/sub", True, None),
    ]
    nested = repo.list_artifacts("model/sub/deeper")
    assert [(f.path, f.file_size) for f in nested] == [("model/sub/deeper/c.bin", 256)]
    # a file path or a missing path lists nothing
    assert repo.list_artifacts("model/a.txt") == []
    assert repo.list_artifacts("nope") == []


def test_log_artifacts_at_the_root(repo, source):
    repo.log_artifacts(str(source))
    assert [f.path for f in repo.list_artifacts()] == ["a.txt", "empty", "sub"]


def test_log_artifacts_copies_symlinked_source_folders_without_looping(repo, source):
    (source / "sub" / "loop").symlink_to(source, target_is_directory=True)
    repo.log_artifacts(str(source))
    assert os.path.isfile(os.path.join(repo.root, "sub", "deeper", "c.bin"))
    assert not os.path.exists(os.path.join(repo.root, "sub", "loop", "sub", "loop"))


def test_download_a_file_and_a_tree(repo, source, tmp_path):
    repo.log_artifacts(str(source), "m")
    local = repo.download_artifacts("m/sub/b.txt", str(tmp_path / "dl1"))
    assert local == str(tmp_path / "dl1" / "m" / "sub" / "b.txt")
    assert open(local).read() == "bravo!"
    tree = repo.download_artifacts("m", str(tmp_path / "dl2"))
    assert open(os.path.join(tree, "sub", "deeper", "c.bin"), "rb").read() == bytes(range(256))
    assert os.path.isdir(os.path.join(tree, "empty"))


def test_download_into_a_fresh_temporary_directory_is_private(repo, source):
    repo.log_artifact(str(source / "a.txt"))
    local = repo.download_artifacts("a.txt")
    assert stat.S_IMODE(os.stat(os.path.dirname(local)).st_mode) == 0o700


def test_download_of_a_missing_artifact_is_not_found(repo, tmp_path):
    with pytest.raises(HeadwaterError) as err:
        repo.download_artifacts("missing.txt", str(tmp_path / "dl"))
    assert err.value.error_code == ErrorCode.RESOURCE_DOES_NOT_EXIST
    with pytest.raises(HeadwaterError) as err:
        repo.download_file("missing.txt", str(tmp_path / "x"))
    assert err.value.error_code == ErrorCode.RESOURCE_DOES_NOT_EXIST


def test_delete_a_file_a_tree_and_nothing(repo, source):
    repo.log_artifacts(str(source))
    repo.delete_artifacts("a.txt")
    repo.delete_artifacts("sub")
    repo.delete_artifacts("never-existed")
    assert [f.path for f in repo.list_artifacts()] == ["empty"]
    repo.delete_artifacts()
    assert not os.path.exists(repo.root)


def test_streams_round_trip_natively(repo):
    payload = os.urandom(3 * 1024 * 1024 + 17)
    repo.write_stream("big/blob.bin", io.BytesIO(payload))
    assert b"".join(repo.open_stream("big/blob.bin", chunk_size=1 << 20)) == payload
    chunks = list(repo.open_stream("big/blob.bin", chunk_size=1 << 20))
    assert len(chunks) == 4
    # stored files are private and no temporary files are left beside them
    assert stat.S_IMODE(os.stat(os.path.join(repo.root, "big", "blob.bin")).st_mode) == 0o600
    assert os.listdir(os.path.join(repo.root, "big")) == ["blob.bin"]


def test_write_stream_replaces_an_existing_file(repo):
    repo.write_stream("f.txt", io.BytesIO(b"one"))
    repo.write_stream("f.txt", io.BytesIO(b"two"))
    assert b"".join(repo.open_stream("f.txt")) == b"two"


def test_failed_upload_leaves_nothing_behind(repo):
    class Broken(io.RawIOBase):
        calls = 0

        def readinto(self, buffer):
            self.calls += 1
            if self.calls > 1:
                raise OSError("connection reset")
            buffer[:4] = b"half"
            return 4

    with pytest.raises(OSError):
        repo.write_stream("d/partial.bin", Broken())
    assert os.listdir(os.path.join(repo.root, "d")) == []


def test_open_stream_checks_the_path_before_streaming(repo):
    # the error comes from the call itself, not from the first chunk
    with pytest.raises(HeadwaterError) as err:
        repo.open_stream("missing.bin")
    assert err.value.error_code == ErrorCode.RESOURCE_DOES_NOT_EXIST


def test_directories_are_not_files(repo, source):
    repo.log_artifacts(str(source))
    for call in (lambda: repo.open_stream("sub"), lambda: repo.write_stream("sub", io.BytesIO(b"x"))):
        with pytest.raises(HeadwaterError) as err:
            call()
        assert err.value.error_code == ErrorCode.INVALID_PARAMETER_VALUE
