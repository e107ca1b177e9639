"""The artifact proxy: ``/api/2.0/mlflow-artifacts/...`` over one artifact repository.

Clients whose run artifact URI is ``mlflow-artifacts:/...`` read and write
through these routes, and the server stores the bytes with whatever
repository plugin claims ``--artifacts-destination``. Bodies stream in both
directions: an upload is handed to the repository's ``write_stream`` while it
is still arriving, and a download is sent chunk by chunk from ``open_stream``.

Every path is decoded once (by the HTTP server) and then checked by
:func:`headwater.store.safe_relative_path`: ``#``, ``..`` segments, absolute
POSIX or Windows paths, backslashes, NUL and any of these hidden behind
further rounds of percent-encoding answer 400 ``INVALID_PARAMETER_VALUE``
"Invalid path".

Multipart uploads and presigned downloads are not offered: ``server-info``
says so, MLflow's clients then never call them, and a client forced to try
gets the NOT_IMPLEMENTED answer on which MLflow's client falls back to a plain
upload or download.
"""

from __future__ import annotations

import errno
import io
import mimetypes
import os
import posixpath
import re
import threading
from typing import Any, AsyncIterator, Callable, Iterator
from urllib.parse import quote

import anyio
import anyio.from_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.store.artifacts import safe_relative_path

# MLflow's client recognises this exact message and falls back to a plain PUT.
MULTIPART_UNSUPPORTED = "Multipart upload is not supported for the current artifact repository"
PRESIGNED_UNSUPPORTED = "Presigned download URLs are not supported for the current artifact repository"

# Served as text/plain, as MLflow's server does, so the UI can preview them.
_TEXT_EXTENSIONS = frozenset(
    "txt log err cfg conf cnf cf ini properties prop hocon toml yaml yml xml json js py py3 "
    "csv tsv md rst ipynb MLmodel MLproject".split()
)
# Types a browser may execute or render as an active document; never sent as such.
_ACTIVE_TYPE = re.compile(r"html|xml|svg|javascript|ecmascript|xsl|x-shockwave-flash|^text/css$", re.I)
# Storage errors caused by the path a client chose rather than by the server.
_BAD_PATH_ERRNOS = frozenset(
    {errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.ENAMETOOLONG, errno.EINVAL, errno.EILSEQ}
)
_TOKEN = re.compile(r"^[A-Za-z0-9!#$&+.^_`|~-]+$")


def artifact_media_type(name: str) -> str:
    """The Content-Type for an artifact called ``name``: never one that can run script."""
    extension = posixpath.splitext(name)[1].lstrip(".") or name
    if extension in _TEXT_EXTENSIONS:
        return "text/plain"
    guessed, _ = mimetypes.guess_type(name, strict=False)
    if not guessed:
        return "application/octet-stream"
    if _ACTIVE_TYPE.search(guessed):
        return "text/plain" if guessed.startswith("text/") else "application/octet-stream"
    return guessed


def content_disposition(name: str) -> str:
    """``attachment`` with the base name; RFC 5987 ``filename*`` for non-ASCII names."""
    if _TOKEN.match(name):
        return f"attachment; filename={name}"
    ascii_name = name.encode("ascii", "ignore").decode().replace("\\", "_").replace('"', "_")
    ascii_name = "".join(c for c in ascii_name if c.isprintable()) or "download"
    value = f'attachment; filename="{ascii_name}"'
    if ascii_name != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value


def checked_path(path: str | None, *, must_name_file: bool) -> str:
    """The normalised relative path, or HeadwaterError "Invalid path"."""
    try:
        relative = safe_relative_path(path)
    except HeadwaterError:
        raise HeadwaterError.invalid("Invalid path") from None
    if must_name_file and (not relative or (path or "").endswith("/")):
        raise HeadwaterError.invalid("Invalid path")
    return relative


def _error(err: HeadwaterError, destination_uri: str) -> JSONResponse:
    body = err.to_dict()
    if destination_uri:
        # Repository messages may name the server's storage root; clients need not know it.
        body["message"] = body["message"].replace(destination_uri, "<artifact root>")
    return JSONResponse(body, status_code=err.http_status)


class _ReceiveStream(io.RawIOBase):
    """A blocking, read-only file over the request body, for use in a worker thread.

    Each ``read`` pulls the next chunk from the event loop, so no more than one
    chunk of the upload is held in memory at a time.
    """

    def __init__(self, chunks: AsyncIterator[bytes]):
        super().__init__()
        self._chunks = chunks
        self._pending = b""
        self._finished = False

    def readable(self) -> bool:
        return True

    async def _next_chunk(self) -> bytes | None:
        try:
            return await self._chunks.__anext__()
        except StopAsyncIteration:
            return None

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._finished:
            chunk = anyio.from_thread.run(self._next_chunk)
            if chunk is None:
                self._finished = True
            else:
                self._pending = chunk
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


class _RepositoryHolder:
    """Builds the destination's repository on first use and keeps it."""

    def __init__(self, destination_uri: str, plugin_manager: Any):
        self.destination_uri = destination_uri
        self.plugin_manager = plugin_manager
        self._repository: Any = None
        self._lock = threading.Lock()

    def get(self) -> Any:
        with self._lock:
            if self._repository is None:
                self._repository = self.plugin_manager.artifact_repository(self.destination_uri)
            return self._repository


def build_artifacts_router(
    destination_uri: str | None,
    plugin_manager: Any,
    serve_artifacts: bool = True,
) -> APIRouter:
    """Routes of the artifact proxy, to mount under ``/api/2.0/mlflow-artifacts``.

    With ``serve_artifacts`` off (or no destination) every route answers 503
    in plain text, as MLflow's server does under ``--no-serve-artifacts``.
    """
    router = APIRouter(tags=["artifacts"])
    enabled = bool(serve_artifacts and destination_uri)
    holder = _RepositoryHolder(destination_uri or "", plugin_manager)

    def disabled(request: Request) -> Response:
        return PlainTextResponse(
            f"Endpoint: {request.url.path} disabled because the server runs with `--no-serve-artifacts`."
            " Start `headwater server` with `--serve-artifacts` to enable the artifact proxy.",
            status_code=503,
        )

    async def guarded(request: Request, action: Callable[[], Any]) -> Response:
        if not enabled:
            return disabled(request)
        try:
            return await action()
        except HeadwaterError as err:
            return _error(err, holder.destination_uri)
        except OSError as err:
            if err.errno not in _BAD_PATH_ERRNOS:
                raise  # a storage failure (disk full, permissions): the server's 500 handler
            # e.g. a file where a folder is needed, or a name too long for the storage
            bad = HeadwaterError.invalid(f"Invalid path: {os.strerror(err.errno)}")
            return _error(bad, holder.destination_uri)

    @router.get("/artifacts", summary="List the artifacts directly under a path")
    async def list_artifacts(request: Request, path: str | None = None) -> Response:
        async def action() -> Response:
            relative = checked_path(path, must_name_file=False)
            infos = await run_in_threadpool(holder.get().list_artifacts, relative or None)
            files = []
            for info in infos:
                entry: dict[str, Any] = {"path": posixpath.basename(info.path), "is_dir": info.is_dir}
                if not info.is_dir and info.file_size is not None:
                    entry["file_size"] = info.file_size
                files.append(entry)
            return JSONResponse({"files": files} if files else {})

        return await guarded(request, action)

    @router.get("/artifacts/{artifact_path:path}", summary="Download an artifact file")
    async def download_artifact(request: Request, artifact_path: str) -> Response:
        async def action() -> Response:
            relative = checked_path(artifact_path, must_name_file=True)
            chunks, first = await run_in_threadpool(_open_checked, holder.get(), relative)
            name = posixpath.basename(relative)
            headers = {
                "Content-Disposition": content_disposition(name),
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; sandbox",
                "Cache-Control": "no-cache",
            }
            return StreamingResponse(
                _prepend(first, chunks), media_type=artifact_media_type(name), headers=headers
            )

        return await guarded(request, action)

    @router.put("/artifacts/{artifact_path:path}", summary="Upload an artifact file (raw body)")
    async def upload_artifact(request: Request, artifact_path: str) -> Response:
        async def action() -> Response:
            relative = checked_path(artifact_path, must_name_file=True)
            body = _ReceiveStream(request.stream().__aiter__())
            await anyio.to_thread.run_sync(holder.get().write_stream, relative, io.BufferedReader(body))
            return JSONResponse({})

        return await guarded(request, action)

    @router.delete("/artifacts/{artifact_path:path}", summary="Delete an artifact file or directory")
    async def delete_artifact(request: Request, artifact_path: str) -> Response:
        async def action() -> Response:
            relative = checked_path(artifact_path, must_name_file=True)
            await run_in_threadpool(holder.get().delete_artifacts, relative)
            return JSONResponse({})

        return await guarded(request, action)

    def not_implemented(message: str) -> Callable[..., Any]:
        async def endpoint(request: Request, artifact_path: str) -> Response:
            async def action() -> Response:
                checked_path(artifact_path, must_name_file=False)
                raise HeadwaterError(message, ErrorCode.NOT_IMPLEMENTED)

            return await guarded(request, action)

        return endpoint

    for stage in ("create", "complete", "abort"):
        router.add_api_route(
            f"/mpu/{stage}/{{artifact_path:path}}",
            not_implemented(MULTIPART_UNSUPPORTED),
            methods=["POST"],
            summary=f"Multipart upload ({stage}): not supported, answers 501",
        )
    router.add_api_route(
        "/presigned/{artifact_path:path}",
        not_implemented(PRESIGNED_UNSUPPORTED),
        methods=["GET"],
        summary="Presigned download URL: not supported, answers 501",
    )
    return router


def _open_checked(repository: Any, relative: str) -> tuple[Iterator[bytes], bytes]:
    """Open the artifact and read its first chunk, so errors surface before streaming starts.

    A missing file becomes 404 and a directory 400, also for repositories whose
    streams only fail when first read.
    """
    try:
        chunks = iter(repository.open_stream(relative))
        first = next(chunks, b"")
    except HeadwaterError:
        raise
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        _raise_for_missing_or_directory(repository, relative)
        raise
    return chunks, first


def _raise_for_missing_or_directory(repository: Any, relative: str) -> None:
    parent = posixpath.dirname(relative)
    for info in repository.list_artifacts(parent or None):
        if info.path == relative and info.is_dir:
            raise HeadwaterError.invalid(f"Artifact path '{relative}' is a directory, not a file")
    raise HeadwaterError.not_found(f"No artifact found at '{relative}'")


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest
