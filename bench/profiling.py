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


@contextlib.contextmanager
def pyspy(enabled: bool, pid: int, benchmark: str, workload: str) -> Iterator[None]:
    """Sample a running server with py-spy; writes raw stacks and a summary of where time went."""
    if not enabled:
        yield
        return
    import signal
    import subprocess
    import sys
    from pathlib import Path

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", workload.lower()).strip("-")
    raw = RESULTS_DIR / f"profile-{benchmark}-{slug}.stacks"
    spy = Path(sys.executable).parent / "py-spy"
    proc = subprocess.Popen([str(spy), "record", "--pid", str(pid), "--rate", "250", "--format", "raw",
                             "--subprocesses", "--nonblocking", "--output", str(raw)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import time

        time.sleep(0.5)  # py-spy attaches
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        if raw.exists():
            (RESULTS_DIR / f"profile-{benchmark}-{slug}.txt").write_text(summarize_stacks(raw.read_text()))


_LINE = re.compile(r":\d+\)$")
# Leaf frames of threads that wait: the event loop in its selector, idle pool threads.
_IDLE = {"Runner.run", "Condition.wait", "Event.wait", "Queue.get", "select", "BaseSelector.select",
         "EpollSelector.select"}


def summarize_stacks(collapsed: str, top: int = 30) -> str:
    """Self and inclusive sample shares per function from py-spy's collapsed stacks."""
    self_counts: dict[str, int] = {}
    incl_counts: dict[str, int] = {}
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        # Frames read "function (file:line)"; sum by function, whatever line was running.
        frames = [_LINE.sub(")", f) for f in stack.split(";") if f]
        if not frames or frames[-1].split(" (")[0] in _IDLE:
            continue  # a thread waiting for work
        total += count
        self_counts[frames[-1]] = self_counts.get(frames[-1], 0) + count
        for frame in set(frames):
            incl_counts[frame] = incl_counts.get(frame, 0) + count
    lines = [f"{total} busy samples (waiting threads left out)", "", "self time (the function itself was running):"]
    for frame, count in sorted(self_counts.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"{count / total:7.1%}  {frame}")
    lines += ["", "inclusive time (the function or what it called):"]
    for frame, count in sorted(incl_counts.items(), key=lambda kv: -kv[1])[:top * 2]:
        lines.append(f"{count / total:7.1%}  {frame}")
    return "\n".join(lines) + "\n"
