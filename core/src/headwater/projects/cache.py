"""The on-disk cache of fetched project sources and built environments.

Everything lives under ``HEADWATER_PROJECTS_CACHE`` (default
``~/.cache/headwater/projects``). Entries are built in a temporary folder next
to their final place and renamed into it, so a half-built entry is never seen;
an exclusive file lock serialises concurrent builders of the same entry.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

CACHE_ENV = "HEADWATER_PROJECTS_CACHE"


def cache_root() -> Path:
    configured = os.environ.get(CACHE_ENV)
    root = Path(configured) if configured else Path.home() / ".cache" / "headwater" / "projects"
    root.mkdir(parents=True, exist_ok=True)
    return root


def digest(*parts: str | bytes) -> str:
    """A stable short hex key for the given parts."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:20]


@contextlib.contextmanager
def locked(name: str) -> Iterator[None]:
    """Hold the cache-wide lock called ``name`` (another process waits for it)."""
    lock_dir = cache_root() / "locks"
    lock_dir.mkdir(exist_ok=True)
    with open(lock_dir / f"{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def building(final: Path) -> Iterator[Path]:
    """A scratch folder that becomes ``final`` when the block succeeds, and vanishes if it fails."""
    final.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        yield scratch
        os.replace(scratch, final)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
