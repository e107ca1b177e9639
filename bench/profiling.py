"""Optional profiles of Headwater's side of a workload (``--profile``), with pyinstrument.

Each profiled workload writes ``bench/results/profile-<benchmark>-<workload>.txt``:
the call tree with time per function, to see where a missed goal goes.
"""

from __future__ import annotations

import contextlib
import re
from typing import Iterator

from bench.common import RESULTS_DIR


@contextlib.contextmanager
def profiled(enabled: bool, benchmark: str, workload: str) -> Iterator[None]:
    if not enabled:
        yield
        return
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", workload.lower()).strip("-")
        path = RESULTS_DIR / f"profile-{benchmark}-{slug}.txt"
        path.write_text(profiler.output_text(unicode=False, color=False, show_all=False))
