"""The artifact repository interface every artifact-repository plugin implements.

A repository is bound to one root URI (a run's ``artifact_uri``) and reads and
writes paths relative to it. Paths are POSIX, relative, and must stay inside
the root: implementations pass every path through :func:`safe_relative_path`.
"""

from __future__ import annotations

import os
import posixpath
import re
import tempfile
from abc import ABC, abstractmethod
from typing import BinaryIO, Iterator
from urllib.parse import unquote

from headwater.entities import FileInfo
from headwater.exceptions import HeadwaterError

_DRIVE_RE = re.compile(r"^[a-zA-Z]:")


def safe_relative_path(path: str | None) -> str:
    """Normalise an artifact path and refuse any that could leave the root.

    Refused with INVALID_PARAMETER_VALUE: absolute POSIX or Windows paths,
    backslashes, ``..`` segments, NUL, ``#``, and any of these hidden behind one
    or more rounds of percent-encoding. Returns ``""`` for the root itself.
    """
    if path is None or path in ("", ".", "/"):
        return ""
    decoded = path
    for _ in range(3):
        decoded = unquote(decoded)
    if (
        "\x00" in decoded
        or "\\" in decoded
        or "#" in decoded
        or decoded.startswith("/")
        or _DRIVE_RE.match(decoded)
        or ".." in decoded.split("/")
    ):
        raise HeadwaterError.invalid(f"Invalid path: {path!r}")
    normalised = posixpath.normpath(path)
    return "" if normalised == "." else normalised


class ArtifactRepository(ABC):
    """Abstract artifact repository rooted at ``artifact_uri``."""

    def __init__(self, artifact_uri: str):
        self.artifact_uri = artifact_uri

    @abstractmethod
    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        """Copy one local file into ``artifact_path`` (a directory) under the root."""

    @abstractmethod
    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        """Copy a local directory's contents, recursively, into ``artifact_path``."""

    @abstractmethod
    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """Direct children of ``path``; their ``path`` is relative to the root.

        A missing path or a file path lists nothing.
        """

    @abstractmethod
    def download_file(self, remote_path: str, local_path: str) -> None:
        """Copy one artifact file to ``local_path``."""

    @abstractmethod
    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        """Delete a file or a tree; nothing there is not an error."""

    def open_stream(self, remote_path: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Yield a file's bytes in chunks (the server's proxy streams with this).

        The default downloads to a private temporary file first; repositories
        that can stream natively override it.
        """
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, "artifact")
            self.download_file(remote_path, local)
            with open(local, "rb") as fh:
                while chunk := fh.read(chunk_size):
                    yield chunk

    def write_stream(self, remote_path: str, stream: BinaryIO) -> None:
        """Store the bytes read from ``stream`` at ``remote_path`` (a file path)."""
        path = safe_relative_path(remote_path)
        if not path:
            raise HeadwaterError.invalid("Invalid path: the artifact path must name a file")
        directory, name = posixpath.split(path)
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, name)
            with open(local, "wb") as out:
                while chunk := stream.read(1 << 20):
                    out.write(chunk)
            self.log_artifact(local, directory or None)

    def download_artifacts(self, artifact_path: str = "", dst_path: str | None = None) -> str:
        """Download a file or directory under the root; returns the local path."""
        path = safe_relative_path(artifact_path)
        dst_root = dst_path or tempfile.mkdtemp(prefix="headwater-download-")
        os.makedirs(dst_root, exist_ok=True)
        if path and not self._is_dir(path):
            local = os.path.join(dst_root, path)
            os.makedirs(os.path.dirname(local), exist_ok=True)
            self.download_file(path, local)
            return local
        self._download_tree(path, dst_root)
        return os.path.join(dst_root, path) if path else dst_root

    def _is_dir(self, path: str) -> bool:
        parent = posixpath.dirname(path)
        for info in self.list_artifacts(parent or None):
            if info.path == path:
                return info.is_dir
        raise HeadwaterError.not_found(f"No artifact found at '{path}' under {self.artifact_uri}")

    def _download_tree(self, path: str, dst_root: str) -> None:
        os.makedirs(os.path.join(dst_root, path), exist_ok=True)
        for info in self.list_artifacts(path or None):
            if info.is_dir:
                self._download_tree(info.path, dst_root)
            else:
                local = os.path.join(dst_root, info.path)
                os.makedirs(os.path.dirname(local), exist_ok=True)
                self.download_file(info.path, local)
