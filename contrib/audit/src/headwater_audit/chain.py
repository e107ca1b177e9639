"""The hash-chained audit log: writing records, rotating files, verifying the chain.

Each line is one JSON object (no spaces, keys in this order)::

    {"seq": 42, "time": "2026-01-01T12:00:00.000Z", "event_id": "…", "event": "log_param",
     "actor": "ana", "client_address": "10.0.0.7", "user_agent": "mlflow-python-client/3.1",
     "payload": {…}, "prev": "…", "hash": "…"}

``hash`` is SHA-256 (HMAC-SHA256 when a key is configured) of ``prev`` and the
line's text without its ``hash`` field (the text as written, not re-encoded); ``prev`` is the hash of the record before it (64
zeros for the first). Editing, removing, inserting or reordering a line breaks
the chain at that line. Without a key anyone can recompute a whole edited
chain; with ``HEADWATER_AUDIT_KEY`` only holders of the key can. A sidecar
``<log>.head`` file records the last sequence number and hash, so cutting
lines off the end is detected too.

Rotation: when the log reaches ``max_bytes`` it is renamed ``<log>.000001``
(then ``.000002``, ...) and a new file starts; its first record's ``prev`` is
the last hash of the rotated file, so the chain runs on across files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import hmac
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from headwater.events.catalogue import Event

GENESIS = "0" * 64
DEFAULT_MAX_BYTES = 100 * 1024 * 1024


def chain_hash(prev: str, body: str, key: bytes | None = None) -> str:
    """The hash of a record's text without its ``hash`` field (``body``), following ``prev``."""
    message = (prev + "\n" + body).encode("utf-8")
    if key:
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


def _split_hash(line: str) -> tuple[str, str] | None:
    """(body, hash) of a line ``{...,"hash":"<hex>"}``; None if ``hash`` is not its last field."""
    marker = line.rfind(',"hash":"')
    if marker < 0 or not line.endswith('"}'):
        return None
    return line[:marker] + "}", line[marker + 9:-2]


def log_files(path: Path) -> list[Path]:
    """The rotated files of the log at ``path``, oldest first, then the log itself."""
    pattern = re.compile(re.escape(path.name) + r"\.(\d{6,})$")
    rotated = sorted(
        (int(m.group(1)), p) for p in path.parent.glob(path.name + ".*") if (m := pattern.match(p.name))
    )
    return [p for _, p in rotated] + ([path] if path.exists() else [])


def _last_line(path: Path) -> bytes | None:
    """The last non-empty line of a file, read backwards in blocks (lines can be long)."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        end = f.tell()
        data = b""
        while end > 0:
            start = max(0, end - 65536)
            f.seek(start)
            data = f.read(end - start) + data
            end = start
            stripped = data.rstrip(b"\n")
            if b"\n" in stripped:
                return stripped.rsplit(b"\n", 1)[1]
        stripped = data.rstrip(b"\n")
        return stripped or None


@dataclass
class AuditLog:
    """Appends events to the log; used from one delivery thread at a time, safe across processes."""

    path: Path
    key: bytes | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    _pending: list[Event] = field(default_factory=list)
    _seq: int = 0
    _prev: str = GENESIS
    _seen: tuple[int, int] | None = None  # (inode, size) after our last write

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def add(self, event: Event) -> None:
        """Queue one event; :meth:`flush` writes the queue."""
        self._pending.append(event)

    def flush(self) -> None:
        """Write the queued events, fsync, and record the new head. On failure the queue is dropped:
        the outbox delivers those events again."""
        events, self._pending = self._pending, []
        if not events:
            return
        with self._locked():
            self._resume()
            if self.path.exists() and self.path.stat().st_size >= self.max_bytes:
                self._rotate()
            lines = [self._line(event) for event in events]
            with open(self.path, "a", encoding="utf-8") as f:
                f.write("".join(lines))
                f.flush()
                os.fsync(f.fileno())
                stat = os.fstat(f.fileno())
            self._seen = (stat.st_ino, stat.st_size)
            self._write_head()

    def append(self, event: Event) -> None:
        self.add(event)
        self.flush()

    # -- internals -------------------------------------------------------------------------------------
    def _line(self, event: Event) -> str:
        """The record of ``event`` as one line. The payload's JSON text is the outbox's, not re-encoded."""
        self._seq += 1
        client = event.client
        head = json.dumps({
            "seq": self._seq,
            "time": dt.datetime.fromtimestamp(event.timestamp / 1000, dt.timezone.utc).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "event_id": event.id,
            "event": event.name,
            "actor": event.actor,
            "client_address": client.address if client else None,
            "user_agent": client.user_agent if client else None,
        }, separators=(",", ":"), ensure_ascii=False)
        envelope = event.public_json()  # the payload is the envelope's last field
        payload = envelope[envelope.index(',"payload":') + 11:-1]
        body = f'{head[:-1]},"payload":{payload},"prev":"{self._prev}"}}'
        self._prev = chain_hash(self._prev, body, self.key)
        return f'{body[:-1]},"hash":"{self._prev}"}}\n'

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _resume(self) -> None:
        """Pick the chain up from the files if another process (or an earlier run) wrote since."""
        try:
            stat = self.path.stat()
            now = (stat.st_ino, stat.st_size)
        except FileNotFoundError:
            now = None
        if now is not None and now == self._seen:
            return
        self._seq, self._prev = 0, GENESIS
        for path in reversed(log_files(self.path)):
            line = _last_line(path)
            if line:
                last = json.loads(line)
                self._seq, self._prev = int(last["seq"]), str(last["hash"])
                break

    def _rotate(self) -> None:
        files = log_files(self.path)
        numbers = [int(p.name.rsplit(".", 1)[1]) for p in files if p != self.path]
        target = self.path.with_name(f"{self.path.name}.{max(numbers, default=0) + 1:06d}")
        os.replace(self.path, target)

    def _write_head(self) -> None:
        head = self.path.with_name(self.path.name + ".head")
        tmp = head.with_name(head.name + ".tmp")
        tmp.write_text(json.dumps({"seq": self._seq, "hash": self._prev}) + "\n", encoding="utf-8")
        os.replace(tmp, head)


@dataclass
class Verification:
    ok: bool
    records: int = 0
    files: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS
    problems: list[str] = field(default_factory=list)


def verify(path: str | Path, key: bytes | None = None, allow_partial: bool = False) -> Verification:
    """Check the whole chain of the log at ``path`` (its rotated files included).

    ``allow_partial`` accepts a chain whose oldest files were deleted on purpose
    (the first record kept need not be the first ever written).
    """
    path = Path(path)
    files = log_files(path)
    result = Verification(ok=True, files=len(files))
    prev: str | None = None
    seq: int | None = None
    seen_ids: set[str] = set()
    for file in files:
        with open(file, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                where = f"{file.name}:{number}"
                if not line.strip():
                    result.problems.append(f"{where}: empty line")
                    continue
                split = _split_hash(line.rstrip("\n"))
                try:
                    record = json.loads(line)
                    if split is None:
                        raise ValueError("its last field is not the hash")
                    body, claimed = split
                    record_seq = int(record["seq"])
                    record_prev = record["prev"]
                except (ValueError, KeyError, TypeError) as exc:
                    result.problems.append(f"{where}: not an audit record ({exc})")
                    prev = seq = None
                    continue
                if prev is None and seq is None and result.records == 0:
                    if record_prev != GENESIS and not allow_partial:
                        result.problems.append(
                            f"{where}: the chain does not start at the first record (seq {record_seq});"
                            " earlier lines or files are missing")
                elif record_prev != prev:
                    result.problems.append(
                        f"{where}: seq {record_seq} does not follow the record before it"
                        " (a line was removed, inserted or reordered)")
                if seq is not None and record_seq != seq + 1:
                    result.problems.append(f"{where}: seq {record_seq} after seq {seq}")
                if chain_hash(record_prev, body, key) != claimed:
                    result.problems.append(f"{where}: seq {record_seq} was altered (its hash does not match)")
                seen_ids.add(str(record.get("event_id")))
                prev, seq = claimed, record_seq
                result.records += 1
    if seq is not None:
        result.last_seq, result.last_hash = seq, prev or GENESIS
    head = path.with_name(path.name + ".head")
    if head.exists():
        mark = json.loads(head.read_text(encoding="utf-8"))
        if int(mark["seq"]) > result.last_seq:
            result.problems.append(
                f"the log ends at seq {result.last_seq} but seq {mark['seq']} was written (lines were cut off"
                " the end)")
        elif int(mark["seq"]) == result.last_seq and mark["hash"] != result.last_hash:
            result.problems.append(f"the last record (seq {result.last_seq}) is not the one written")
    result.ok = not result.problems
    return result
