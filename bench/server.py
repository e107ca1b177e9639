"""Tracking servers over HTTP: ``headwater server`` beside ``mlflow server``, and two floors.

    python -m bench.server            # the full sizes of issue 3
    python -m bench.server --quick    # a smoke run of about a minute

Systems, each on its own SQLite file with its default settings: ``headwater``
(``headwater server``), ``mlflow`` (``mlflow server``: 4 uvicorn workers) and
``mlflow-w1`` (``mlflow server --workers 1``). Floors measured in the same run:
``http-floor`` (a bare Starlette endpoint under uvicorn, called by the same
client) and ``storage-floor`` (raw sqlite3 inserts into the same metrics table).

The search data (runs with 3 params, 3 metrics, 2 tags each) and the history
run are seeded once per system family through its store, then copied into each
server's database, so every server reads the same rows.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from typing import Any, Callable

from bench import dataset, http_workloads as w, storage_floor
from bench.common import HEADWATER, Goal, Report, Row, log, quiet_mlflow
from bench.processes import ServerProcess, copy_sqlite
from bench.profiling import pyspy
from bench.stores import STORES, check_seed, seed

SERVERS = ("headwater", "mlflow", "mlflow-w1")
HTTP_FLOOR = "http-floor"
STORAGE_FLOOR = "storage-floor"
# CPU time the server's process tree spent per request: barely skewed by other work on the machine.
CPU = "server CPU s per call"

FULL = {"runs": 10_000, "history": 100_000, "create_run": 500, "log_metric": 2000, "per_client": 250,
        "clients": 8, "batches": 30, "search_repeat": 10, "paging_repeat": 3, "history_repeat": 3,
        "budget": 120.0}
QUICK = {"runs": 300, "history": 3_000, "create_run": 20, "log_metric": 50, "per_client": 10,
         "clients": 8, "batches": 3, "search_repeat": 3, "paging_repeat": 1, "history_repeat": 1,
         "budget": 20.0}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.server", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    for name in FULL:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=type(FULL[name]))
    parser.add_argument("--systems", default=",".join(SERVERS),
                        help=f"comma-separated servers to run, of {', '.join(SERVERS)} (floors always run)")
    parser.add_argument("--profile", action="store_true",
                        help="record Headwater's server with py-spy during each workload (slows it down)")
    parser.add_argument("--workdir", help="folder for databases and server logs (default: a temporary one)")
    args = parser.parse_args(argv)
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


class Rows:
    """The rows of this benchmark, created in the order they are printed."""

    def __init__(self, report: Report, args: argparse.Namespace):
        self.report = report

        def add(workload: str, measure: str, higher: bool, goal: Goal | None = None) -> Row:
            return report.add(Row(workload, measure, higher, goal=goal))

        vs_mlflow = lambda factor: Goal("mlflow", factor, f">={factor}x MLflow")  # noqa: E731
        tenth = Goal("mlflow", 10, "<=1/10 of MLflow")
        self.cold_new = add("cold start to first answer, new database", "s", False, tenth)
        self.cold_seeded = add("cold start to first answer, seeded database", "s", False, tenth)
        self.mem_idle = add("memory after start, whole process tree", "RSS MB", False, tenth)
        self.mem_after = add("memory after the workloads, whole process tree", "RSS MB", False, tenth)
        self.pss_after = add("memory after the workloads, whole process tree", "PSS MB", False)
        self.procs = add("processes in the server's tree", "count", False)
        self.create_run = add("create_run, sequential", "calls/s", True)
        self.create_run_p50 = add("create_run, sequential", "s per call (p50)", False)
        self.create_run_cpu = add("create_run, sequential", CPU, False)
        self.log_metric = add("log_metric, sequential", "calls/s", True,
                              Goal(HTTP_FLOOR, 0.7, ">=70% of the HTTP floor"))
        self.log_metric_p50 = add("log_metric, sequential", "s per call (p50)", False)
        self.log_metric_cpu = add("log_metric, sequential", CPU, False)
        self.log_metric_conc = add(f"log_metric, {args.clients} concurrent clients", "calls/s", True)
        self.log_metric_conc_cpu = add(self.log_metric_conc.workload, CPU, False)
        self.log_batch = add("log_batch, 1,000 metrics per call", "metrics/s", True, vs_mlflow(30))
        self.log_batch_p50 = add("log_batch, 1,000 metrics per call", "s per call (p50)", False)
        self.log_batch_cpu = add("log_batch, 1,000 metrics per call", CPU, False)
        self.search = add(f"search_runs over {args.runs:,} runs, filter + order_by, first {dataset.SEARCH_PAGE}",
                          "s (p50)", False, vs_mlflow(50))
        self.search_cpu = add(self.search.workload, CPU, False)
        self.paging = add(f"search_runs, paging through all {args.runs:,} runs ({dataset.PAGING_PAGE} per page)",
                          "s (p50)", False, vs_mlflow(50))
        self.paging_cpu = add(self.paging.workload, "server CPU s per pass", False)
        self.history = add(f"get_metric_history, {args.history:,} points", "s (p50)", False, vs_mlflow(50))
        self.history_cpu = add(self.history.workload, CPU, False)
        self.seed = add("seed runs + history through the store (setup, not a goal)", "s", False)


def attempt(rows: Rows, system: str, workload: str, fn: Callable[[], Any]) -> Any:
    """Run one workload; a failure is noted in the report and leaves that figure empty."""
    try:
        return fn()
    except Exception as exc:  # one system failing must not lose every other figure
        message = f"{system}: {workload} failed: {type(exc).__name__}: {str(exc)[:300]}"
        log(message)
        rows.report.notes.append(message)
        return None


def measured(rows: Rows, server: ServerProcess, system: str, workload: str, fn: Callable[[], Any],
             cpu_row: Row) -> Any:
    """:func:`attempt`, also filling ``cpu_row`` with the server's CPU seconds per request."""
    before = server.cpu_seconds()
    result = attempt(rows, system, workload, fn)
    spent = server.cpu_seconds() - before
    if result:
        cpu_row.values[system] = spent / result.get("requests", result["calls"])
    return result


def run(args: argparse.Namespace) -> Report:
    quiet_mlflow()
    servers = [s for s in args.systems.split(",") if s]
    report = Report(
        benchmark="server",
        systems=[*servers, HTTP_FLOOR, STORAGE_FLOOR],
        compare_to=[s for s in ("mlflow", "mlflow-w1", HTTP_FLOOR, STORAGE_FLOOR) if s in servers or "floor" in s],
        options={k: v for k, v in vars(args).items() if k != "workdir"},
    )
    rows = Rows(report, args)
    with tempfile.TemporaryDirectory(prefix="bench-server-", dir=args.workdir) as tmp:
        templates = seed_templates(tmp, servers, args, rows)
        log("storage floor: raw sqlite3 inserts")
        floor = storage_floor.measure(os.path.join(tmp, STORAGE_FLOOR), args.batches, args.log_metric)
        rows.log_batch.values[STORAGE_FLOOR] = floor["batch_metrics_per_s"]
        rows.log_metric.values[STORAGE_FLOOR] = floor["single_ops"]
        rows.log_metric_p50.values[STORAGE_FLOOR] = floor["single_p50"]

        measure_floor(tmp, args, rows)
        for system in servers:
            family = "mlflow" if system.startswith("mlflow") else system
            attempt(rows, system, "the benchmark",
                    lambda: measure_server(tmp, system, templates[family], args, rows))  # noqa: B023
    report.notes.append(
        f"search filter {dataset.SEARCH_FILTER!r}, order_by {dataset.SEARCH_ORDER_BY}: "
        f"{next(iter(templates.values()))['matches']} of {args.runs} runs match"
    )
    report.notes.append("storage floor: one transaction per 1,000-row executemany (log_batch row) and per "
                        "single row (log_metric row); it writes the metrics table only")
    if args.profile:
        report.notes.append("profiled run: Headwater's figures include py-spy's sampling overhead")
    return report


def seed_templates(tmp: str, servers: list[str], args: argparse.Namespace, rows: Rows) -> dict[str, dict[str, Any]]:
    """One seeded database per system family, copied into each server's folder later."""
    templates: dict[str, dict[str, Any]] = {}
    for family in dict.fromkeys("mlflow" if s.startswith("mlflow") else s for s in servers):
        folder = os.path.join(tmp, "template-" + family)
        os.makedirs(folder)
        db = os.path.join(folder, "tracking.db")
        log(f"{family}: seeding {args.runs} runs and {args.history} history points through its store")
        store = STORES[family](db, os.path.join(folder, "artifacts"))
        start = time.perf_counter()
        seeded = seed(store, args.runs, args.history)
        for system in servers:
            if system.startswith(family):
                rows.seed.values[system] = time.perf_counter() - start
        check_seed(store, seeded)
        store.close()
        templates[family] = {**seeded, "db": db}
    return templates


def measure_floor(tmp: str, args: argparse.Namespace, rows: Rows) -> None:
    log("HTTP floor: bare Starlette endpoint")
    server = ServerProcess(HTTP_FLOOR, os.path.join(tmp, HTTP_FLOOR), "")
    name = HTTP_FLOOR
    rows.cold_seeded.values[name] = server.start()
    try:
        rows.mem_idle.values[name] = server.memory()["rss_mb"]
        write_workloads(server, name, "0", args, rows)
        memory = server.memory()
        rows.mem_after.values[name] = memory["rss_mb"]
        rows.pss_after.values[name] = memory["pss_mb"]
        rows.procs.values[name] = memory["processes"]
    finally:
        server.stop()


def measure_server(tmp: str, system: str, template: dict[str, Any], args: argparse.Namespace, rows: Rows) -> None:
    folder = os.path.join(tmp, system)
    log(f"{system}: cold start on a new database")
    fresh = ServerProcess(system, os.path.join(folder, "fresh"), os.path.join(folder, "fresh", "tracking.db"))
    try:
        rows.cold_new.values[system] = fresh.start()
    finally:
        fresh.stop()

    db = os.path.join(folder, "tracking.db")
    copy_sqlite(template["db"], db)
    server = ServerProcess(system, folder, db)
    log(f"{system}: cold start on the seeded database")
    rows.cold_seeded.values[system] = server.start()
    try:
        time.sleep(1)  # let workers that start after the first answer settle
        memory = server.memory()
        rows.mem_idle.values[system] = memory["rss_mb"]
        profile = args.profile and system == HEADWATER
        api = w.Api(server.base)
        exp = api.experiment("bench-writes")
        write_workloads(server, system, exp, args, rows, profile)

        pid = server.proc.pid
        exp, matches = template["search_experiment"], min(dataset.SEARCH_PAGE, template["matches"])
        reads = [
            (rows.search, rows.search_cpu, "search_runs", args.search_repeat,
             lambda: w.search(api, exp, matches, args.search_repeat, args.budget)),
            (rows.paging, rows.paging_cpu, "paging", args.paging_repeat,
             lambda: w.page_all(api, exp, args.runs, args.paging_repeat, args.budget)),
            (rows.history, rows.history_cpu, "get_metric_history", args.history_repeat,
             lambda: w.history(api, template["history_run"], args.history, args.history_repeat, args.budget)),
        ]
        for row, cpu_row, workload, repeat, fn in reads:
            log(f"{system}: {workload} x{repeat}")
            with pyspy(profile, pid, "server", workload):
                result = measured(rows, server, system, workload, fn, cpu_row)
            if result:
                row.values[system] = result["p50"]
                row.detail[system] = result
        api.close()

        memory = server.memory()
        rows.mem_after.values[system] = memory["rss_mb"]
        rows.pss_after.values[system] = memory["pss_mb"]
        rows.procs.values[system] = memory["processes"]
    finally:
        if server.proc is not None and server.proc.poll() is not None:
            rows.report.notes.append(f"{system} exited during the run; its log ends: {server.log_tail(8)}")
        server.stop()


def write_workloads(server: ServerProcess, system: str, exp: str, args: argparse.Namespace, rows: Rows,
                    profile: bool = False) -> None:
    """create_run, log_metric (sequential and concurrent), log_batch: the same calls for servers and floor."""
    api = w.Api(server.base)
    pid = server.proc.pid if server.proc else 0
    try:
        log(f"{system}: create_run x{args.create_run}")
        with pyspy(profile, pid, "server", "create_run"):
            created = measured(rows, server, system, "create_run",
                               lambda: w.create_run(api, exp, args.create_run, args.budget), rows.create_run_cpu)
        if created:
            rows.create_run.values[system] = created["ops"]
            rows.create_run_p50.values[system] = created["p50"]
            rows.create_run.detail[system] = created

        log(f"{system}: log_metric x{args.log_metric}")
        run_id = api.run(exp, "log-metric")
        with pyspy(profile, pid, "server", "log_metric"):
            seq = measured(rows, server, system, "log_metric",
                           lambda: w.log_metric_sequential(api, run_id, args.log_metric, args.budget),
                           rows.log_metric_cpu)
        if seq:
            rows.log_metric.values[system] = seq["ops"]
            rows.log_metric_p50.values[system] = seq["p50"]
            rows.log_metric.detail[system] = seq

        log(f"{system}: log_metric, {args.clients} clients x{args.per_client}")
        run_ids = [api.run(exp, f"client-{i}") for i in range(args.clients)]
        with pyspy(profile, pid, "server", "log_metric_concurrent"):
            conc = measured(rows, server, system, "log_metric concurrent",
                            lambda: w.log_metric_concurrent(server.base, run_ids, args.per_client, args.budget),
                            rows.log_metric_conc_cpu)
        if conc:
            rows.log_metric_conc.values[system] = conc["ops"]
            rows.log_metric_conc.detail[system] = conc

        log(f"{system}: log_batch x{args.batches}")
        batch_run = api.run(exp, "log-batch")
        with pyspy(profile, pid, "server", "log_batch"):
            batch = measured(rows, server, system, "log_batch",
                             lambda: w.log_batch(api, batch_run, args.batches, args.budget), rows.log_batch_cpu)
        if batch:
            rows.log_batch.values[system] = batch["metrics_per_s"]
            rows.log_batch_p50.values[system] = batch["p50"]
            rows.log_batch.detail[system] = batch
    finally:
        api.close()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    report = run(args)
    report.notes.append(f"whole benchmark took {time.perf_counter() - started:.0f} s")
    path = report.write()
    report.print()
    print(f"results: {path}")


if __name__ == "__main__":
    main()
