"""An observer plugin: one CSV line per run that ends (FINISHED, FAILED or KILLED).

Enable it with ``HEADWATER_RUN_JOURNAL=/path/to/journal.csv``. The columns are
event id, run id, status, end time (ms) and who ended it. On the server the
outbox delivers each event at least once, so a line may repeat after a crash:
the event id tells repeats apart.
"""

from __future__ import annotations

import csv
import os
from typing import Any, Iterator

from headwater.plugins import hookimpl
from headwater.plugins.types import Observer

JOURNAL_ENV = "HEADWATER_RUN_JOURNAL"
ENDED = {"FINISHED", "FAILED", "KILLED"}


class RunJournal:
    def __init__(self, path: str):
        self.path = path
        self.pending: list[list[str]] = []

    def on_update_run(self, sender: Any, event: Any, **extra: Any) -> None:
        if event.payload.status in ENDED:
            self.pending.append([event.id, event.payload.run_id, event.payload.status,
                                 str(event.payload.end_time or ""), event.actor or ""])

    def flush(self) -> None:
        """Write what the batch collected; raising here makes the server deliver the batch again."""
        rows, self.pending = self.pending, []
        if rows:
            with open(self.path, "a", newline="") as f:
                csv.writer(f).writerows(rows)
                f.flush()
                os.fsync(f.fileno())


@hookimpl
def headwater_observers() -> Iterator[Observer]:
    path = os.environ.get(JOURNAL_ENV)
    if not path:  # installed but not configured: no observer, so no events are even written for it
        return
    journal = RunJournal(path)
    yield Observer(name="journal", receivers={"update_run": journal.on_update_run}, flush=journal.flush)
