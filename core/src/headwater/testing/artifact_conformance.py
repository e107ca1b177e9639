"""The artifact-repository conformance kit.

Subclass :class:`ArtifactRepositoryConformance` in a test module and override
the ``artifact_repository`` fixture with one returning a repository rooted at
a fresh, empty location::

    from headwater.testing import ArtifactRepositoryConformance

    class TestMyRepository(ArtifactRepositoryConformance):
        @pytest.fixture
        def artifact_repository(self, tmp_path):
            return MyRepository(f"my://{tmp_path.name}/root")

        @pytest.fixture
        def outside_root_repository(self, artifact_repository):
            return MyRepository(...the parent of that root...)

``outside_root_repository`` is optional but strongly advised: a repository
rooted one level *above* the tested root, through which the attack tests
(spec: security §3) check that nothing outside the root was written, read or
deleted. Without it they only check that the attacks are refused.

``large_file_bytes`` (class attribute) sets the size of the big-file round
trip; make it exceed your repository's multipart threshold.
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
from pathlib import Path
from typing import Any, Callable

import pytest

from headwater.exceptions import ErrorCode, HeadwaterError

# Paths every repository must refuse: traversal, absolute paths, backslashes,
# fragments, NUL, and the same hidden behind one or two rounds of percent-encoding.
ATTACK_PATHS = (
    "../escape.txt",
    "a/../../escape.txt",
    "/escape.txt",
    "//escape.txt",
    "C:/escape.txt",
    "C:\\escape.txt",
    "..\\escape.txt",
    "a\\..\\..\\escape.txt",
    "%2e%2e/escape.txt",
    "%2E%2E%2Fescape.txt",
    "..%2fescape.txt",
    "a/%2e%2e/%2e%2e/escape.txt",
    "%252e%252e/escape.txt",
    "..%252fescape.txt",
    "%2fescape.txt",
    "a%5c..%5c..%5cescape.txt",
    "escape.txt#fragment",
    "escape\x00.txt",
)


def _raises_code(code: ErrorCode, call: Callable[[], Any]) -> HeadwaterError:
    with pytest.raises(HeadwaterError) as info:
        call()
    assert info.value.error_code == code, f"expected {code.value}, got {info.value.error_code}: {info.value}"
    return info.value


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def all_files(repository: Any, path: str = "") -> dict[str, int | None]:
    """Every file under ``path`` of a repository, with its size (recursive listing)."""
    found: dict[str, int | None] = {}
    for info in repository.list_artifacts(path or None):
        if info.is_dir:
            found.update(all_files(repository, info.path))
        else:
            found[info.path] = info.file_size
    return found


class _NonSeekable(io.RawIOBase):
    """A stream that can only be read forward, like an HTTP request body."""

    def __init__(self, data: bytes, piece: int = 7_000):
        self._data, self._offset, self._piece = data, 0, piece

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data[self._offset:self._offset + min(len(buffer), self._piece)]
        buffer[:len(chunk)] = chunk
        self._offset += len(chunk)
        return len(chunk)


class ArtifactRepositoryConformance:
    """Behaviour every :class:`~headwater.store.ArtifactRepository` must show."""

    large_file_bytes: int = 12 * 1024 * 1024

    @pytest.fixture
    def artifact_repository(self) -> Any:
        pytest.fail("override the artifact_repository fixture with a repository at a fresh, empty root")

    @pytest.fixture
    def outside_root_repository(self) -> Any:
        return None

    # -- writing and reading ---------------------------------------------------------
    def test_a_new_root_lists_nothing(self, artifact_repository):
        assert artifact_repository.list_artifacts() == []
        assert artifact_repository.list_artifacts("missing/folder") == []

    def test_log_artifact_at_the_root_and_in_a_folder(self, artifact_repository, tmp_path):
        local = _write(tmp_path / "model.txt", b"weights\n")
        artifact_repository.log_artifact(str(local))
        artifact_repository.log_artifact(str(local), "nested/deeper")
        assert all_files(artifact_repository) == {"model.txt": 8, "nested/deeper/model.txt": 8}
        top = artifact_repository.list_artifacts()
        assert [(i.path, i.is_dir) for i in top] == [("model.txt", False), ("nested", True)]
        assert [i.file_size for i in top if not i.is_dir] == [8]
        assert [i.path for i in artifact_repository.list_artifacts("nested")] == ["nested/deeper"]

    def test_log_artifacts_copies_a_tree(self, artifact_repository, tmp_path):
        source = tmp_path / "source"
        _write(source / "a.txt", b"a")
        _write(source / "sub" / "b.bin", bytes(range(256)))
        _write(source / "sub" / "deeper" / "c.json", b"{}")
        artifact_repository.log_artifacts(str(source), "out")
        assert all_files(artifact_repository) == {"out/a.txt": 1, "out/sub/b.bin": 256, "out/sub/deeper/c.json": 2}
        artifact_repository.log_artifacts(str(source))
        assert {"a.txt", "sub/b.bin", "sub/deeper/c.json"} <= set(all_files(artifact_repository))

    def test_listing_a_file_or_a_missing_path_is_empty(self, artifact_repository, tmp_path):
        artifact_repository.log_artifact(str(_write(tmp_path / "f.txt", b"x")))
        assert artifact_repository.list_artifacts("f.txt") == []
        assert artifact_repository.list_artifacts("nothing") == []

    def test_a_name_that_prefixes_another_is_a_different_entry(self, artifact_repository, tmp_path):
        artifact_repository.log_artifact(str(_write(tmp_path / "x" / "a", b"1")), "d")
        artifact_repository.log_artifact(str(_write(tmp_path / "y" / "a", b"22")), "d2")
        assert [i.path for i in artifact_repository.list_artifacts("d")] == ["d/a"]
        artifact_repository.delete_artifacts("d")
        assert all_files(artifact_repository) == {"d2/a": 2}

    def test_download_file_and_stream_give_the_same_bytes(self, artifact_repository, tmp_path):
        data = os.urandom(300_000)
        artifact_repository.log_artifact(str(_write(tmp_path / "blob.bin", data)), "bin")
        target = tmp_path / "copy.bin"
        artifact_repository.download_file("bin/blob.bin", str(target))
        assert target.read_bytes() == data
        chunks = list(artifact_repository.open_stream("bin/blob.bin", chunk_size=65_536))
        assert b"".join(chunks) == data
        assert len(chunks) > 1 and all(len(c) <= 65_536 for c in chunks)

    def test_unicode_and_spaces_in_names(self, artifact_repository, tmp_path):
        local = _write(tmp_path / "données été.txt", "ünïcødé".encode())
        artifact_repository.log_artifact(str(local), "dossier à part")
        assert all_files(artifact_repository) == {"dossier à part/données été.txt": len("ünïcødé".encode())}
        assert b"".join(artifact_repository.open_stream("dossier à part/données été.txt")) == "ünïcødé".encode()

    def test_write_stream_stores_a_forward_only_stream(self, artifact_repository):
        data = os.urandom(50_000)
        artifact_repository.write_stream("streams/one.bin", io.BufferedReader(_NonSeekable(data)))
        artifact_repository.write_stream("streams/one.bin", io.BytesIO(b"replaced"))
        artifact_repository.write_stream("streams/empty.bin", io.BytesIO(b""))
        assert all_files(artifact_repository) == {"streams/one.bin": 8, "streams/empty.bin": 0}
        assert b"".join(artifact_repository.open_stream("streams/one.bin")) == b"replaced"
        assert b"".join(artifact_repository.open_stream("streams/empty.bin")) == b""

    def test_write_stream_needs_a_file_name(self, artifact_repository):
        for path in ("", "/"):
            _raises_code(ErrorCode.INVALID_PARAMETER_VALUE,
                         lambda p=path: artifact_repository.write_stream(p, io.BytesIO(b"x")))

    def test_a_large_file_round_trips(self, artifact_repository, tmp_path):
        data = os.urandom(self.large_file_bytes)
        artifact_repository.log_artifact(str(_write(tmp_path / "large.bin", data)), "big")
        assert all_files(artifact_repository) == {"big/large.bin": len(data)}
        target = tmp_path / "large-copy.bin"
        artifact_repository.download_file("big/large.bin", str(target))
        assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(data).digest()
        streamed = hashlib.sha256()
        for chunk in artifact_repository.open_stream("big/large.bin"):
            streamed.update(chunk)
        assert streamed.digest() == hashlib.sha256(data).digest()
        artifact_repository.write_stream("big/streamed.bin", io.BufferedReader(_NonSeekable(data, 1 << 20)))
        assert all_files(artifact_repository)["big/streamed.bin"] == len(data)

    def test_many_small_files(self, artifact_repository, tmp_path):
        source = tmp_path / "many"
        for i in range(120):
            _write(source / f"part-{i // 40}" / f"f{i:03d}.txt", f"{i}".encode())
        artifact_repository.log_artifacts(str(source))
        files = all_files(artifact_repository)
        assert len(files) == 120 and files["part-2/f119.txt"] == 3
        out = Path(artifact_repository.download_artifacts("", str(tmp_path / "down")))
        assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == sorted(files)

    def test_download_artifacts_of_a_file_and_of_a_folder(self, artifact_repository, tmp_path):
        artifact_repository.log_artifact(str(_write(tmp_path / "src" / "m.txt", b"m")), "dir/sub")
        file_path = artifact_repository.download_artifacts("dir/sub/m.txt", str(tmp_path / "one"))
        assert Path(file_path).read_bytes() == b"m"
        folder = Path(artifact_repository.download_artifacts("dir", str(tmp_path / "tree")))
        assert (folder / "sub" / "m.txt").read_bytes() == b"m"

    # -- missing things --------------------------------------------------------------
    def test_reading_a_missing_file_is_not_found(self, artifact_repository, tmp_path):
        _raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST,
                     lambda: artifact_repository.download_file("nope.txt", str(tmp_path / "x")))
        _raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST, lambda: list(artifact_repository.open_stream("nope.txt")))
        _raises_code(ErrorCode.RESOURCE_DOES_NOT_EXIST,
                     lambda: artifact_repository.download_artifacts("nope.txt", str(tmp_path / "y")))

    def test_streaming_a_folder_is_refused(self, artifact_repository, tmp_path):
        artifact_repository.log_artifact(str(_write(tmp_path / "f.txt", b"x")), "folder")
        _raises_code(ErrorCode.INVALID_PARAMETER_VALUE, lambda: list(artifact_repository.open_stream("folder")))

    # -- deleting ----------------------------------------------------------------------
    def test_delete_a_file_a_tree_and_nothing(self, artifact_repository, tmp_path):
        source = tmp_path / "s"
        _write(source / "keep.txt", b"k")
        _write(source / "tree" / "a.txt", b"a")
        _write(source / "tree" / "sub" / "b.txt", b"b")
        artifact_repository.log_artifacts(str(source))
        artifact_repository.delete_artifacts("nothing/here")
        artifact_repository.delete_artifacts("tree/a.txt")
        assert set(all_files(artifact_repository)) == {"keep.txt", "tree/sub/b.txt"}
        artifact_repository.delete_artifacts("tree")
        assert set(all_files(artifact_repository)) == {"keep.txt"}
        artifact_repository.delete_artifacts()
        assert artifact_repository.list_artifacts() == []

    # -- attacks (security §3) -------------------------------------------------------
    @pytest.fixture
    def attack_scene(self, artifact_repository, outside_root_repository, tmp_path):
        """A root holding one file and, beside it, a victim file the attacks aim at."""
        local = _write(tmp_path / "escape.txt", b"attack")
        artifact_repository.log_artifact(str(_write(tmp_path / "inside" / "inside.txt", b"in")))
        if outside_root_repository is not None:
            outside_root_repository.write_stream("escape.txt", io.BytesIO(b"victim"))
        before = all_files(outside_root_repository) if outside_root_repository is not None else None
        return local, before

    def _assert_untouched(self, artifact_repository, outside_root_repository, before):
        assert all_files(artifact_repository) == {"inside.txt": 2}
        if outside_root_repository is not None:
            assert all_files(outside_root_repository) == before
            assert b"".join(outside_root_repository.open_stream("escape.txt")) == b"victim"

    @pytest.mark.parametrize("path", ATTACK_PATHS)
    def test_attack_paths_are_refused_by_every_operation(
        self, artifact_repository, outside_root_repository, attack_scene, tmp_path, path
    ):
        local, before = attack_scene
        directory = posixpath.dirname(path)
        operations: dict[str, Callable[[], Any]] = {
            "write_stream": lambda: artifact_repository.write_stream(path, io.BytesIO(b"attack")),
            "log_artifact": lambda: artifact_repository.log_artifact(str(local), path),
            "log_artifacts": lambda: artifact_repository.log_artifacts(str(local.parent / "inside"), path),
            "download_file": lambda: artifact_repository.download_file(path, str(tmp_path / "stolen")),
            "open_stream": lambda: list(artifact_repository.open_stream(path)),
            "list_artifacts": lambda: artifact_repository.list_artifacts(path),
            "delete_artifacts": lambda: artifact_repository.delete_artifacts(path),
            "download_artifacts": lambda: artifact_repository.download_artifacts(path, str(tmp_path / "dst")),
        }
        if directory.strip("/"):  # "/" alone names the root, a legal target
            operations["log_artifact into the folder"] = lambda: artifact_repository.log_artifact(str(local), directory)
        for name, operation in operations.items():
            with pytest.raises(HeadwaterError) as info:
                operation()
            assert info.value.error_code == ErrorCode.INVALID_PARAMETER_VALUE, f"{name}({path!r}): {info.value}"
        assert not (tmp_path / "stolen").exists()
        self._assert_untouched(artifact_repository, outside_root_repository, before)


__all__ = ["ATTACK_PATHS", "ArtifactRepositoryConformance", "all_files"]
