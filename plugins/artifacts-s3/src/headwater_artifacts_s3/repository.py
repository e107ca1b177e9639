"""Artifacts in S3 or S3-compatible object storage, under ``s3://bucket/prefix``.

Every path a caller gives passes :func:`~headwater.store.safe_relative_path`
before it becomes a key: absolute paths, ``..`` segments, backslashes, ``#``
and their percent-encoded forms (``%2e%2e``, ``%2F``, double encoding) are
refused, so no key outside ``prefix/`` is ever read, written or deleted.
The root URI itself is checked the same way.

Transfers use boto3's managed transfer (s3transfer): files from
``multipart_threshold`` bytes up are sent as parallel multipart uploads,
streams (the server's artifact proxy) are uploaded part by part as they
arrive, and directories move many files at once. Downloads through
:meth:`open_stream` read the object's body chunk by chunk.
"""

from __future__ import annotations

import contextlib
import io
import os
import posixpath
import sys
from typing import Any, BinaryIO, Iterable, Iterator
from urllib.parse import urlsplit

from headwater.entities import FileInfo
from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.store.artifacts import ArtifactRepository, safe_relative_path

from headwater_artifacts_s3.client import boto_errors, s3_client, translate
from headwater_artifacts_s3.pipe import PipeReader, pump
from headwater_artifacts_s3.progress import transfer_progress
from headwater_artifacts_s3.settings import S3Settings

_DELETE_BATCH = 1000  # the most keys one DeleteObjects call takes


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``(bucket, prefix)`` of ``s3://bucket/prefix``; refuses queries, fragments and ``..``."""
    parts = urlsplit(uri)
    if parts.scheme.lower() != "s3":
        raise HeadwaterError.invalid(f"Not an S3 URI: {uri!r}")
    if parts.query or parts.fragment or "#" in uri:
        raise HeadwaterError.invalid(f"Invalid S3 URI {uri!r}: queries and fragments are not allowed")
    bucket = parts.netloc
    if not bucket or "@" in bucket or ":" in bucket:
        raise HeadwaterError.invalid(f"Invalid S3 URI {uri!r}: it must name a bucket (s3://bucket/prefix)")
    try:
        prefix = safe_relative_path(parts.path.lstrip("/"))
    except HeadwaterError:
        raise HeadwaterError.invalid(f"Invalid S3 URI {uri!r}: the prefix may not leave the bucket") from None
    return bucket, prefix


class S3ArtifactRepository(ArtifactRepository):
    """An :class:`~headwater.store.ArtifactRepository` over one S3 prefix."""

    def __init__(self, artifact_uri: str, settings: S3Settings | None = None):
        super().__init__(artifact_uri)
        self.bucket, self.prefix = parse_s3_uri(artifact_uri)
        self.settings = settings or S3Settings.from_env()
        self.client = s3_client(self.settings)

    # -- keys and errors ---------------------------------------------------------------
    def _key(self, path: str | None) -> tuple[str, str]:
        """``(normalised relative path, object key)``; refuses paths that leave the root."""
        relative = safe_relative_path(path)
        if not relative:
            return "", self.prefix
        return relative, f"{self.prefix}/{relative}" if self.prefix else relative

    def _file_key(self, path: str | None) -> tuple[str, str]:
        relative, key = self._key(path)
        if not relative or (path or "").endswith("/"):
            raise HeadwaterError.invalid("Invalid path: the artifact path must name a file")
        return relative, key

    def _error(self, exc: BaseException, key: str | None = None) -> HeadwaterError:
        return translate(exc, bucket=self.bucket, key=key, client=self.client)

    def _transfer_manager(self) -> Any:
        from boto3.s3.transfer import TransferConfig, create_transfer_manager

        config = TransferConfig(
            multipart_threshold=self.settings.multipart_threshold,
            multipart_chunksize=self.settings.multipart_chunksize,
            max_concurrency=self.settings.max_concurrency,
        )
        return create_transfer_manager(self.client, config)

    @staticmethod
    def _subscribers(advance: Any) -> list[Any]:
        if advance is None:
            return []
        from boto3.s3.transfer import ProgressCallbackInvoker

        return [ProgressCallbackInvoker(advance)]

    def _upload_args(self) -> dict[str, Any]:
        return {**self.settings.extra_args(), **self.settings.owner_args()}

    # -- writing -------------------------------------------------------------------------
    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        if not os.path.isfile(local_file):
            raise HeadwaterError.invalid(f"Not a file: {local_file!r}")
        directory, _ = self._key(artifact_path)
        name = os.path.basename(local_file)
        self._upload_files([(local_file, posixpath.join(directory, name) if directory else name)])

    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        if not os.path.isdir(local_dir):
            raise HeadwaterError.invalid(f"Not a directory: {local_dir!r}")
        base, _ = self._key(artifact_path)
        self._upload_files(list(_walk_files(local_dir, base)))

    def _upload_files(self, pairs: list[tuple[str, str]]) -> None:
        """Upload ``(local file, relative path)`` pairs, many at once, big ones in parts."""
        jobs = [(local, self._file_key(relative)[1]) for local, relative in pairs]
        total = sum(os.path.getsize(local) for local, _ in jobs)
        label = os.path.basename(jobs[0][0]) if len(jobs) == 1 else f"{len(jobs)} files"
        with transfer_progress(f"Uploading {label}", total) as advance, self._transfer_manager() as manager:
            futures = [
                (key, manager.upload(local, self.bucket, key, extra_args=self._upload_args(),
                                     subscribers=self._subscribers(advance)))
                for local, key in jobs
            ]
            self._wait(futures)

    def _wait(self, futures: Iterable[tuple[str, Any]]) -> None:
        first_error: HeadwaterError | None = None
        for key, future in futures:
            try:
                future.result()
            except boto_errors() as exc:
                first_error = first_error or self._error(exc, key)
        if first_error is not None:
            raise first_error

    def write_stream(self, remote_path: str, stream: BinaryIO) -> None:
        # The stream is read on this thread (the proxy's request body allows no other) and
        # piped to the transfer's threads, which upload it in parts as it arrives.
        _, key = self._file_key(remote_path)
        reader = PipeReader()
        with self._transfer_manager() as manager:
            future = manager.upload(io.BufferedReader(reader, 1 << 20), self.bucket, key,
                                    extra_args=self._upload_args())
            try:
                pump(stream, reader, future)
            except BaseException:
                with contextlib.suppress(Exception):
                    future.result()  # let the failed upload finish aborting before the error goes up
                raise
            self._wait([(key, future)])

    # -- reading -------------------------------------------------------------------------
    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        relative, key = self._key(path)
        listed_prefix = f"{key}/" if key else ""
        infos: list[FileInfo] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=listed_prefix, Delimiter="/", **self.settings.owner_args()
            )
            for page in pages:
                for common in page.get("CommonPrefixes", []):
                    name = common["Prefix"][len(listed_prefix):].rstrip("/")
                    if _plain_name(name):
                        infos.append(FileInfo(path=_join(relative, name), is_dir=True))
                for item in page.get("Contents", []):
                    name = item["Key"][len(listed_prefix):]
                    if _plain_name(name):  # skips folder markers ("dir/") and names no path can reach
                        infos.append(FileInfo(path=_join(relative, name), is_dir=False, file_size=item["Size"]))
        except boto_errors() as exc:
            raise self._error(exc, listed_prefix) from None
        return sorted(infos, key=lambda info: info.path)

    def download_file(self, remote_path: str, local_path: str) -> None:
        relative, key = self._file_key(remote_path)
        size = self._size(relative, key) if sys.stderr.isatty() else 0
        with transfer_progress(f"Downloading {posixpath.basename(relative)}", size) as advance, \
                self._transfer_manager() as manager:
            future = manager.download(self.bucket, key, local_path, extra_args=self.settings.owner_args(),
                                      subscribers=self._subscribers(advance))
            try:
                future.result()
            except boto_errors() as exc:
                raise self._missing_or_error(exc, relative, key) from None

    def open_stream(self, remote_path: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        relative, key = self._file_key(remote_path)
        try:  # fetched now, so a bad path fails before a response starts streaming
            body = self.client.get_object(Bucket=self.bucket, Key=key, **self.settings.owner_args())["Body"]
        except boto_errors() as exc:
            raise self._missing_or_error(exc, relative, key) from None

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(chunk_size)
            finally:
                body.close()

        return chunks()

    def _size(self, relative: str, key: str) -> int:
        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=key, **self.settings.owner_args())["ContentLength"])
        except boto_errors() as exc:
            raise self._missing_or_error(exc, relative, key) from None

    def _missing_or_error(self, exc: BaseException, relative: str, key: str) -> HeadwaterError:
        """A missing key is RESOURCE_DOES_NOT_EXIST, or INVALID_PARAMETER_VALUE if it is a folder."""
        error = self._error(exc, key)
        if error.error_code != ErrorCode.RESOURCE_DOES_NOT_EXIST:
            return error
        if self._has_children(key):  # also raises the clear error when the bucket itself is missing
            return HeadwaterError.invalid(f"Artifact path '{relative}' is a directory, not a file")
        return HeadwaterError.not_found(f"No artifact found at '{relative}' under {self.artifact_uri}")

    def _has_children(self, key: str) -> bool:
        try:
            page = self.client.list_objects_v2(Bucket=self.bucket, Prefix=f"{key}/", MaxKeys=1,
                                               **self.settings.owner_args())
        except boto_errors() as exc:
            raise self._error(exc, key) from None
        return bool(page.get("KeyCount") or page.get("Contents"))

    def _is_dir(self, path: str) -> bool:
        relative, key = self._key(path)
        if not relative or self._has_children(key):
            return True
        self._size(relative, key)  # raises RESOURCE_DOES_NOT_EXIST if there is no such file
        return False

    def _keys_under(self, key: str) -> Iterator[str]:
        """Every key in the tree at ``key``: the object itself and everything below it."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{key}/" if key else "", **self.settings.owner_args()
        )
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"]

    def _download_tree(self, path: str, dst_root: str) -> None:
        relative, key = self._key(path)
        root = os.path.realpath(dst_root)
        os.makedirs(os.path.join(root, relative), exist_ok=True)
        strip = len(self.prefix) + 1 if self.prefix else 0
        with self._transfer_manager() as manager:
            futures = []
            try:
                for object_key in self._keys_under(key):
                    if object_key.endswith("/"):
                        continue  # a folder marker
                    try:
                        below = safe_relative_path(object_key[strip:])
                    except HeadwaterError:
                        continue  # a key written by other tools that no artifact path can name
                    local = os.path.join(root, *below.split("/"))
                    os.makedirs(os.path.dirname(local), exist_ok=True)
                    futures.append((object_key, manager.download(self.bucket, object_key, local,
                                                                 extra_args=self.settings.owner_args())))
            except boto_errors() as exc:
                raise self._error(exc, key) from None
            self._wait(futures)

    # -- deleting ------------------------------------------------------------------------
    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        relative, key = self._key(artifact_path)
        try:
            keys = list(self._keys_under(key))
            if relative:
                keys.append(key)  # the path may name a file; deleting a missing key is not an error
            for start in range(0, len(keys), _DELETE_BATCH):
                batch = [{"Key": k} for k in keys[start:start + _DELETE_BATCH]]
                answer = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True},
                                                    **self.settings.owner_args())
                failed = answer.get("Errors") or []
                if failed:
                    first = failed[0]
                    raise HeadwaterError(
                        f"Could not delete {len(failed)} object(s) from S3 bucket {self.bucket!r}:"
                        f" {first.get('Key')}: {first.get('Code')} {first.get('Message')}"
                    )
        except boto_errors() as exc:
            raise self._error(exc, key) from None


def _plain_name(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name


def _join(relative: str, name: str) -> str:
    return f"{relative}/{name}" if relative else name


def _walk_files(local_dir: str, base: str) -> Iterator[tuple[str, str]]:
    """``(local file, relative artifact path)`` for every file under ``local_dir``.

    Symlinked folders are copied as their contents; a link looping back up the
    tree is followed once.
    """
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(local_dir, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:
            dirnames.clear()
            continue
        seen.add(real)
        sub = os.path.relpath(dirpath, local_dir).replace(os.sep, "/")
        prefix = posixpath.normpath(posixpath.join(base, sub)) if base else posixpath.normpath(sub)
        prefix = "" if prefix == "." else prefix
        for name in sorted(filenames):
            yield os.path.join(dirpath, name), _join(prefix, name)
