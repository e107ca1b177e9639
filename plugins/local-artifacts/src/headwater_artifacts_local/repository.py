"""Artifacts in a local folder.

Every path a caller gives goes through two checks before the file system is
touched: :func:`~headwater.store.safe_relative_path` refuses absolute paths,
``..``, backslashes and their percent-encoded forms; then the joined path is
resolved with ``realpath`` and must still lie inside the resolved root, so a
symlink inside the root cannot lead reads, writes or deletes out of it.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from typing import BinaryIO, Iterator
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from headwater.entities import FileInfo
from headwater.exceptions import HeadwaterError
from headwater.plugins.manager import uri_scheme
from headwater.store.artifacts import ArtifactRepository, safe_relative_path

_CHUNK = 1 << 20


def local_path_from_uri(uri: str) -> str:
    """The local folder a ``file:`` URI or plain path names (not yet made absolute).

    Plain paths are taken literally. ``file:`` URIs are decoded once; queries,
    fragments, remote hosts and ``..`` segments (also when percent-encoded)
    are refused, since none of them has a meaning for a local root.
    """
    scheme = uri_scheme(uri)
    if scheme == "":
        return uri
    if scheme != "file":
        raise HeadwaterError.invalid(f"Not a local artifact URI: {uri!r}")
    parts = urlsplit(uri)
    if parts.query or parts.fragment or "#" in uri:
        raise HeadwaterError.invalid(f"Invalid artifact URI {uri!r}: queries and fragments are not allowed")
    if parts.netloc not in ("", "localhost"):
        raise HeadwaterError.invalid(f"Invalid artifact URI {uri!r}: remote hosts are not supported")
    fully_decoded = parts.path
    for _ in range(3):
        fully_decoded = unquote(fully_decoded)
    if ".." in fully_decoded.replace("\\", "/").split("/") or "\x00" in fully_decoded:
        raise HeadwaterError.invalid(f"Invalid artifact URI {uri!r}: '..' is not allowed")
    return url2pathname(parts.path)


def _inside(root: str, path: str) -> bool:
    return path == root or os.path.commonpath([root, path]) == root


class LocalArtifactRepository(ArtifactRepository):
    """An :class:`~headwater.store.ArtifactRepository` over a local folder.

    Files written by :meth:`write_stream` are created private (0o600) and moved
    into place only when complete, so a failed upload leaves nothing behind.
    """

    def __init__(self, artifact_uri: str):
        super().__init__(artifact_uri)
        self.root = os.path.abspath(local_path_from_uri(artifact_uri))

    # -- path checks -------------------------------------------------------------
    def _resolve(self, path: str | None) -> tuple[str, str]:
        """``(normalised relative path, resolved local path)``; refuses anything outside the root."""
        relative = safe_relative_path(path)
        root = os.path.realpath(self.root)
        joined = os.path.join(root, *relative.split("/")) if relative else root
        resolved = os.path.realpath(joined)
        if not _inside(root, resolved):
            raise HeadwaterError.invalid(f"Invalid path: {path!r} resolves outside the artifact root")
        return relative, resolved

    def _existing_file(self, path: str | None) -> str:
        relative, resolved = self._resolve(path)
        if not relative:
            raise HeadwaterError.invalid("Invalid path: the artifact path must name a file")
        if not os.path.exists(resolved):
            raise HeadwaterError.not_found(f"No artifact found at '{relative}' under {self.artifact_uri}")
        if os.path.isdir(resolved):
            raise HeadwaterError.invalid(f"Artifact path '{relative}' is a directory, not a file")
        return resolved

    # -- writing ---------------------------------------------------------------------
    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        if not os.path.isfile(local_file):
            raise HeadwaterError.invalid(f"Not a file: {local_file!r}")
        relative, _ = self._resolve(artifact_path)
        name = os.path.basename(local_file)
        _, destination = self._resolve(posixpath.join(relative, name) if relative else name)
        self._copy_into_place(local_file, destination)

    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        if not os.path.isdir(local_dir):
            raise HeadwaterError.invalid(f"Not a directory: {local_dir!r}")
        base, resolved_base = self._resolve(artifact_path)
        os.makedirs(resolved_base, exist_ok=True)
        seen: set[str] = set()
        # Symlinked folders in the source are copied as their contents (loops are cut).
        for dirpath, dirnames, filenames in os.walk(local_dir, followlinks=True):
            real = os.path.realpath(dirpath)
            if real in seen:
                dirnames.clear()
                continue
            seen.add(real)
            sub = os.path.relpath(dirpath, local_dir).replace(os.sep, "/")
            prefix = posixpath.normpath(posixpath.join(base, sub)) if base else posixpath.normpath(sub)
            prefix = "" if prefix == "." else prefix
            _, resolved_dir = self._resolve(prefix)
            os.makedirs(resolved_dir, exist_ok=True)
            for name in filenames:
                _, destination = self._resolve(posixpath.join(prefix, name) if prefix else name)
                self._copy_into_place(os.path.join(dirpath, name), destination)

    def write_stream(self, remote_path: str, stream: BinaryIO) -> None:
        relative, destination = self._resolve(remote_path)
        if not relative or os.path.isdir(destination):
            raise HeadwaterError.invalid("Invalid path: the artifact path must name a file")
        self._write_atomically(destination, lambda out: shutil.copyfileobj(stream, out, _CHUNK))

    def _copy_into_place(self, source: str, destination: str) -> None:
        def copy(out: BinaryIO) -> None:
            with open(source, "rb") as src:
                shutil.copyfileobj(src, out, _CHUNK)

        self._write_atomically(destination, copy)
        shutil.copymode(source, destination)

    @staticmethod
    def _write_atomically(destination: str, write) -> None:  # type: ignore[no-untyped-def]
        """Write through a private temporary file beside ``destination``, then rename it over."""
        directory = os.path.dirname(destination)
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".headwater-upload-")  # mode 0o600
        try:
            with os.fdopen(fd, "wb") as out:
                write(out)
            # rename replaces a symlink at ``destination`` itself, never its target
            os.replace(tmp, destination)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    # -- reading ---------------------------------------------------------------------
    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        relative, resolved = self._resolve(path)
        if not os.path.isdir(resolved):
            return []
        root = os.path.realpath(self.root)
        infos: list[FileInfo] = []
        for name in sorted(os.listdir(resolved)):
            if name.startswith(".headwater-upload-"):
                continue
            target = os.path.realpath(os.path.join(resolved, name))
            if not _inside(root, target) or not os.path.exists(target):
                continue  # links out of the root (or dangling) are not part of the artifacts
            child = posixpath.join(relative, name) if relative else name
            if os.path.isdir(target):
                infos.append(FileInfo(path=child, is_dir=True))
            else:
                infos.append(FileInfo(path=child, is_dir=False, file_size=os.path.getsize(target)))
        return infos

    def download_file(self, remote_path: str, local_path: str) -> None:
        shutil.copyfile(self._existing_file(remote_path), local_path)

    def open_stream(self, remote_path: str, chunk_size: int = _CHUNK) -> Iterator[bytes]:
        # Check and open now, so a bad path fails before a response starts streaming.
        handle = open(self._existing_file(remote_path), "rb")

        def chunks() -> Iterator[bytes]:
            with handle:
                while chunk := handle.read(chunk_size):
                    yield chunk

        return chunks()

    def _is_dir(self, path: str) -> bool:
        relative, resolved = self._resolve(path)
        if not os.path.exists(resolved):
            raise HeadwaterError.not_found(f"No artifact found at '{relative}' under {self.artifact_uri}")
        return os.path.isdir(resolved)

    def _download_tree(self, path: str, dst_root: str, _seen: set[str] | None = None) -> None:
        # Like the base class, but a symlink looping back up the tree is copied once, not forever.
        seen = set() if _seen is None else _seen
        _, resolved = self._resolve(path)
        if resolved in seen:
            return
        seen.add(resolved)
        os.makedirs(os.path.join(dst_root, path), exist_ok=True)
        for info in self.list_artifacts(path or None):
            if info.is_dir:
                self._download_tree(info.path, dst_root, seen)
            else:
                local = os.path.join(dst_root, info.path)
                os.makedirs(os.path.dirname(local), exist_ok=True)
                self.download_file(info.path, local)

    # -- deleting --------------------------------------------------------------------
    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        _, resolved = self._resolve(artifact_path)
        if os.path.isdir(resolved):
            shutil.rmtree(resolved)  # rmtree unlinks symlinks inside, never follows them
        elif os.path.lexists(resolved):
            os.remove(resolved)
