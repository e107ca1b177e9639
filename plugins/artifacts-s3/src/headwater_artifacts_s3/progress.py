"""A rich progress bar for big transfers, on stderr when it is a terminal.

Transfers of at least ``HEADWATER_PROGRESS_MIN_BYTES`` (100 MB) show one;
stdout stays free for output that callers parse (the CLI prints downloaded
paths there). s3transfer calls the callback from its worker threads, which
rich's ``Progress.update`` allows.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Callable, Iterator

_DEFAULT_MIN_BYTES = 100 * 1024 * 1024


def _threshold() -> int:
    try:
        return int(os.environ.get("HEADWATER_PROGRESS_MIN_BYTES") or _DEFAULT_MIN_BYTES)
    except ValueError:
        return _DEFAULT_MIN_BYTES


@contextmanager
def transfer_progress(description: str, total: int) -> Iterator[Callable[[int], None] | None]:
    """Yields ``advance(n_bytes)`` for a big transfer on a terminal, else None."""
    if total < _threshold() or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

    with Progress(*Progress.get_default_columns(), DownloadColumn(), TransferSpeedColumn(),
                  console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.update(task, advance=n)
