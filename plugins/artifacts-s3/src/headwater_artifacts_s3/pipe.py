"""Feeding a stream that must be read on the caller's thread to s3transfer's worker threads.

The server's artifact proxy hands repositories a request body that can only
be read from the thread it was given on (each read waits on the event loop).
s3transfer reads uploads from its own threads. :func:`pump` bridges the two:
the caller's thread reads the stream and puts chunks on a bounded queue, and
the upload reads them from a :class:`PipeReader`, so memory stays bounded and
the managed multipart transfer is kept.
"""

from __future__ import annotations

import contextlib
import io
import queue
from typing import Any, BinaryIO

_CHUNK = 1 << 20
_QUEUED_CHUNKS = 16  # at most this many MiB wait between the reader and the upload
_POLL_SECONDS = 0.5


class PipeReader(io.RawIOBase):
    """The read end: a forward-only stream over the queued chunks (``None`` ends it)."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=_QUEUED_CHUNKS)
        self._pending = memoryview(b"")
        self._ended = False
        self.aborted = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._ended:
            try:
                chunk = self.chunks.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if self.aborted:
                    raise OSError("the upload's source stream failed") from None
                continue
            if chunk is None:
                self._ended = True
            else:
                self._pending = memoryview(chunk)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def pump(stream: BinaryIO, reader: PipeReader, future: Any) -> None:
    """Copy ``stream`` into ``reader`` on this thread until it ends or the upload ``future`` fails.

    If reading ``stream`` fails, the upload is made to fail too (so no partial
    object is completed) and the error is raised here.
    """
    try:
        _copy(stream, reader, future)
    except BaseException:
        reader.aborted = True
        with contextlib.suppress(queue.Empty):
            while True:  # drop what waits, so the upload reaches the abort at once
                reader.chunks.get_nowait()
        raise


def _copy(stream: BinaryIO, reader: PipeReader, future: Any) -> None:
    def put(item: bytes | None) -> bool:
        while True:
            if future.done():
                return False  # the upload stopped (an error): stop reading, result() will raise
            try:
                reader.chunks.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue

    while chunk := stream.read(_CHUNK):
        if not put(bytes(chunk)):
            return
    put(None)
