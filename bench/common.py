"""Timing, the result table and where results are written.

A benchmark fills a :class:`Report` with :class:`Row` s, one per workload and
measure, holding the absolute figure of every system measured. A row may name
a goal: Headwater's advantage over another system (or a floor) that it should
reach. The advantage is how many times better Headwater is: ``hw / other`` for
figures where more is better (ops/s), ``other / hw`` where less is better
(seconds, bytes).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

RESULTS_DIR = Path(__file__).resolve().parent / "results"
REPO_ROOT = Path(__file__).resolve().parent.parent

HEADWATER = "headwater"


def quiet_mlflow() -> None:
    """MLflow sends no telemetry from the benchmark or the servers it starts."""
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    os.environ["DO_NOT_TRACK"] = "true"


# -- timing ---------------------------------------------------------------------------------
def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def samples(fn: Callable[[], Any], repeat: int, budget_s: float = float("inf")) -> list[float]:
    """Seconds per call of ``fn``: ``repeat`` calls, fewer if ``budget_s`` runs out (at least one)."""
    out: list[float] = []
    deadline = time.perf_counter() + budget_s
    for _ in range(repeat):
        out.append(timed(fn))
        if time.perf_counter() > deadline:
            break
    return out


def samples_with_cpu(fn: Callable[[], Any], repeat: int, budget_s: float = float("inf")) -> tuple[list[float], list[float]]:
    """Like :func:`samples`, with this process's CPU seconds per call beside the wall-clock ones.

    CPU time barely moves when other work competes for the machine, so it still
    compares systems when wall-clock figures are skewed by a busy machine.
    """
    wall: list[float] = []
    cpu: list[float] = []
    deadline = time.perf_counter() + budget_s
    for _ in range(repeat):
        cpu_start, start = time.process_time(), time.perf_counter()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
        if time.perf_counter() > deadline:
            break
    return wall, cpu


def p50(values: list[float]) -> float:
    return statistics.median(values)


# -- the report -----------------------------------------------------------------------------
@dataclass
class Goal:
    """Headwater should be at least ``at_least`` times as good as ``against``."""

    against: str
    at_least: float
    text: str


@dataclass
class Row:
    workload: str
    measure: str  # unit of the figures, e.g. "metrics/s", "s (p50)", "MB"
    higher_is_better: bool
    values: dict[str, float] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)  # counts, sample sizes per system
    goal: Goal | None = None

    def advantage(self, against: str, system: str = HEADWATER) -> float | None:
        """How many times better ``system`` is than ``against`` (None if either is missing)."""
        mine, theirs = self.values.get(system), self.values.get(against)
        if not mine or not theirs:
            return None
        return mine / theirs if self.higher_is_better else theirs / mine

    def goal_met(self) -> bool | None:
        if self.goal is None:
            return None
        adv = self.advantage(self.goal.against)
        return None if adv is None else adv >= self.goal.at_least


@dataclass
class Report:
    benchmark: str
    systems: list[str]
    compare_to: list[str]  # systems the advantage columns are computed against
    options: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.notes.append(f"1-minute load average at the start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row

    def row(self, workload: str, measure: str) -> Row | None:
        return next((r for r in self.rows if r.workload == workload and r.measure == measure), None)

    def to_json(self) -> dict[str, Any]:
        """The report as data; machine facts (load average included) are taken now, at the end."""
        rows = []
        for r in self.rows:
            item = asdict(r)
            item["advantage"] = {other: r.advantage(other) for other in self.compare_to}
            item["goal_met"] = r.goal_met()
            if r.goal is not None:
                item["goal"]["advantage"] = r.advantage(r.goal.against)
            rows.append(item)
        return {
            "benchmark": self.benchmark,
            "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": machine_info(),
            "options": self.options,
            "systems": self.systems,
            "rows": rows,
            "notes": self.notes,
        }

    def write(self) -> Path:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        data = self.to_json()
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        quick = "-quick" if self.options.get("quick") else ""
        path = RESULTS_DIR / f"{self.benchmark}{quick}-{stamp}.json"
        text = json.dumps(data, indent=2)
        path.write_text(text)
        (RESULTS_DIR / f"{self.benchmark}{quick}-latest.json").write_text(text)
        return path

    def print(self) -> None:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"bench.{self.benchmark}", show_lines=False)
        table.add_column("workload")
        table.add_column("measure")
        for system in self.systems:
            table.add_column(system, justify="right")
        for other in self.compare_to:
            table.add_column(f"HW vs {other}", justify="right")
        table.add_column("goal")
        for r in self.rows:
            cells = [r.workload, r.measure]
            cells += [fmt(r.values.get(s)) for s in self.systems]
            cells += [fmt_advantage(r.advantage(o)) for o in self.compare_to]
            met = r.goal_met()
            if r.goal is None:
                cells.append("")
            else:
                mark = {True: "[green]met[/]", False: "[red]missed[/]", None: "?"}[met]
                cells.append(f"{r.goal.text}: {mark}")
            table.add_row(*cells)
        console = Console(width=max(240, Console().width))
        console.print(table)
        console.print(
            "HW vs X: how many times better Headwater is (more ops/s, or fewer seconds / bytes)."
        )
        for note in self.notes:
            console.print(f"- {note}")


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    if abs(value) >= 0.001:
        return f"{value:.4f}"
    return f"{value:.2e}"


def fmt_advantage(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0%}" if value < 1 else f"{value:.1f}x"


# -- where and on what ----------------------------------------------------------------------
def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
        # Other work on the machine skews figures; the 1-minute load average tells how busy it was.
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), None)
        with open("/proc/meminfo") as f:
            total_kb = int(next(line.split()[1] for line in f if line.startswith("MemTotal")))
            info["memory_gb"] = round(total_kb / 1024 / 1024, 1)
    except OSError:
        pass
    from importlib.metadata import PackageNotFoundError, version

    for dist in ("headwater", "mlflow", "sqlalchemy", "uvicorn", "starlette"):
        try:
            info[dist] = version(dist)
        except PackageNotFoundError:
            info[dist] = None
    try:
        info["commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        info["commit"] = None
    return info


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)
