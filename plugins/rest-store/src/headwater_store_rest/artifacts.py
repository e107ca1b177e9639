"""Artifacts through a tracking server's artifact proxy (``/api/2.0/mlflow-artifacts``).

Artifact URIs this repository accepts:

- ``mlflow-artifacts:/<path>``: on the server of the tracking URI, keeping its
  scheme and any path prefix (``http://host/prefix`` → ``http://host/prefix/api/2.0/mlflow-artifacts/artifacts/<path>``);
- ``mlflow-artifacts://host:port/<path>``: the same on another host;
- ``http(s)://host/.../api/2.0/mlflow-artifacts/artifacts/<path>``: used as is.

Uploads and downloads stream: a file is sent from its open handle and
received chunk by chunk, so no file is ever held in memory whole. Transfers
of at least ``HEADWATER_PROGRESS_MIN_BYTES`` (100 MB) show a rich progress
bar when stderr is a terminal.
"""

from __future__ import annotations

import io
import mimetypes
import os
import posixpath
import sys
from contextlib import contextmanager
from typing import Any, BinaryIO, Iterator
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from headwater.entities import FileInfo
from headwater.exceptions import HeadwaterError
from headwater.store.artifacts import ArtifactRepository, safe_relative_path
from headwater_store_rest import wire
from headwater_store_rest.transport import HttpConfig, RestClient

ARTIFACTS_ROOT = "/api/2.0/mlflow-artifacts/artifacts"
_CHUNK = 1 << 20
_DEFAULT_PROGRESS_MIN_BYTES = 100 * 1024 * 1024


def resolve_artifact_uri(artifact_uri: str, tracking_uri: str | None = None) -> str:
    """The ``http(s)`` URL of the proxy folder an artifact URI names."""
    parts = urlsplit(artifact_uri)
    if parts.query or parts.fragment or "#" in artifact_uri:
        raise HeadwaterError.invalid(f"Invalid artifact URI {artifact_uri!r}: queries and fragments are not allowed")
    if parts.scheme in ("http", "https"):
        if ARTIFACTS_ROOT not in parts.path:
            raise HeadwaterError.invalid(
                f"Not an artifact-proxy URI: {artifact_uri!r} (its path must contain {ARTIFACTS_ROOT})"
            )
        safe_relative_path(unquote(parts.path.partition(ARTIFACTS_ROOT)[2]).strip("/"))
        return artifact_uri.rstrip("/")
    if parts.scheme != "mlflow-artifacts":
        raise HeadwaterError.invalid(f"Not an artifact-proxy URI: {artifact_uri!r}")
    if parts.hostname and parts.hostname.replace(".", "").isdigit() and not parts.port:
        raise HeadwaterError.invalid(f"Invalid artifact URI {artifact_uri!r}: a port with no host")
    if tracking_uri is None:
        from headwater.tracking.uri import get_tracking_uri

        tracking_uri = get_tracking_uri()
    tracking = urlsplit(tracking_uri)
    if tracking.scheme in ("http", "https"):
        scheme = tracking.scheme
        netloc = parts.netloc or tracking.netloc
        prefix = tracking.path.rstrip("/") if netloc == tracking.netloc else ""
    elif parts.netloc:  # the URI names its server; the tracking store may be anything
        scheme, netloc, prefix = "http", parts.netloc, ""
    else:
        raise HeadwaterError.invalid(
            f"The artifact URI {artifact_uri!r} lives on a tracking server, so the tracking URI must be"
            f" http or https, but its scheme is {tracking.scheme!r}. Set HEADWATER_TRACKING_URI=http://host:port."
        )
    relative = safe_relative_path(parts.path.lstrip("/"))
    path = prefix + ARTIFACTS_ROOT + (f"/{relative}" if relative else "")
    return urlunsplit((scheme, netloc, path, "", ""))


def _server_and_root(url: str) -> tuple[str, str]:
    """Split a proxy URL into the server base and the folder below the proxy root."""
    base, _, tail = url.partition(ARTIFACTS_ROOT)
    return base, unquote(tail).strip("/")


class _ProgressReader(io.RawIOBase):
    """A file wrapper that advances a progress bar as the upload reads it."""

    def __init__(self, handle: BinaryIO, advance: Any):
        super().__init__()
        self._handle = handle
        self._advance = advance

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._handle.seek(offset, whence)

    def tell(self) -> int:
        return self._handle.tell()

    def fileno(self) -> int:  # lets requests size the body with fstat
        return self._handle.fileno()

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._advance(len(data))
        return data


class ProxyArtifactRepository(ArtifactRepository):
    """Reads and writes artifacts through a server's ``mlflow-artifacts`` routes."""

    def __init__(self, artifact_uri: str, tracking_uri: str | None = None, config: HttpConfig | None = None):
        super().__init__(artifact_uri)
        self.url = resolve_artifact_uri(artifact_uri, tracking_uri)
        server, self.root = _server_and_root(self.url)
        self.client = RestClient(server, config)

    def _endpoint(self, path: str) -> str:
        full = posixpath.join(self.root, path) if path else self.root
        return ARTIFACTS_ROOT + "/" + quote(full, safe="/")

    # -- writing -----------------------------------------------------------------------
    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        directory = safe_relative_path(artifact_path)
        name = os.path.basename(local_file)
        target = posixpath.join(directory, name) if directory else name
        size = os.path.getsize(local_file)
        headers = {"Content-Type": mimetypes.guess_type(name)[0] or "application/octet-stream"}
        with open(local_file, "rb") as handle, self._progress(f"Uploading {name}", size) as advance:
            body: Any = _ProgressReader(handle, advance) if advance else handle
            self.client.request("PUT", self._endpoint(target), data=body, headers=headers).close()

    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        base = safe_relative_path(artifact_path)
        local_dir = os.path.abspath(local_dir)
        for dirpath, _, filenames in os.walk(local_dir):
            sub = os.path.relpath(dirpath, local_dir).replace(os.sep, "/")
            folder = posixpath.normpath(posixpath.join(base, sub)) if base else posixpath.normpath(sub)
            for name in sorted(filenames):
                self.log_artifact(os.path.join(dirpath, name), None if folder == "." else folder)

    def write_stream(self, remote_path: str, stream: BinaryIO) -> None:
        path = safe_relative_path(remote_path)
        if not path:
            raise HeadwaterError.invalid("Invalid path: the artifact path must name a file")
        self.client.request("PUT", self._endpoint(path), data=stream).close()

    # -- reading -----------------------------------------------------------------------
    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        relative = safe_relative_path(path)
        listed = posixpath.join(self.root, relative) if relative else self.root
        response = self.client.request("GET", ARTIFACTS_ROOT, params={"path": listed})
        files = [wire.file_info(f, relative or None) for f in response.json().get("files", ())]
        # Some servers list a file path as the file itself; the contract says: nothing.
        if relative and len(files) == 1 and not files[0].is_dir and files[0].path == posixpath.join(
            relative, posixpath.basename(relative)
        ):
            return []
        for info in files:
            safe_relative_path(info.path)  # a server must not hand out paths that escape the root
        return sorted(files, key=lambda f: f.path)

    def open_stream(self, remote_path: str, chunk_size: int = _CHUNK) -> Iterator[bytes]:
        path = safe_relative_path(remote_path)
        response = self.client.request("GET", self._endpoint(path), stream=True)

        def chunks() -> Iterator[bytes]:
            with response:
                yield from response.iter_content(chunk_size)

        return chunks()

    def download_file(self, remote_path: str, local_path: str) -> None:
        path = safe_relative_path(remote_path)
        with self.client.request("GET", self._endpoint(path), stream=True) as response:
            size = int(response.headers.get("Content-Length") or 0)
            with open(local_path, "wb") as out, self._progress(
                f"Downloading {posixpath.basename(path)}", size
            ) as advance:
                for chunk in response.iter_content(_CHUNK):
                    out.write(chunk)
                    if advance:
                        advance(len(chunk))

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        path = safe_relative_path(artifact_path)
        self.client.request("DELETE", self._endpoint(path)).close()

    def close(self) -> None:
        self.client.close()

    # -- progress ----------------------------------------------------------------------
    @staticmethod
    @contextmanager
    def _progress(description: str, total: int) -> Iterator[Any]:
        """Yields ``advance(n)`` for big transfers on a terminal, else None."""
        threshold = int(os.environ.get("HEADWATER_PROGRESS_MIN_BYTES") or _DEFAULT_PROGRESS_MIN_BYTES)
        if total < threshold or not sys.stderr.isatty():
            yield None
            return
        from rich.console import Console
        from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

        # On stderr: stdout may carry output that callers parse (the CLI's downloaded path).
        with Progress(*Progress.get_default_columns(), DownloadColumn(), TransferSpeedColumn(),
                      console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task(description, total=total)
            yield lambda n: progress.update(task, advance=n)
