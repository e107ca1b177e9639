"""Tracking stores in process: Headwater's SQL store beside MLflow's SqlAlchemyStore, both on SQLite.

    python -m bench.store            # the full sizes of issue 2
    python -m bench.store --quick    # a smoke run of a few seconds

Workloads (each store on its own fresh database file in one temporary folder):
log_batch of 1,000 metrics per call (metrics/s), single log_metric calls
(calls/s and p50), search_runs over the seeded runs with a metrics + params
filter and a metric order_by (p50), get_metric_history of the seeded history
run (p50).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from typing import Any

from bench import dataset
from bench.common import HEADWATER, Goal, Report, Row, log, p50, quiet_mlflow, samples_with_cpu
from bench.profiling import profiled
from bench.stores import STORES, check_seed, seed

FULL = {"runs": 10_000, "history": 100_000, "batches": 30, "log_metric": 10_000, "search_repeat": 20,
        "history_repeat": 5, "budget": 300.0}
QUICK = {"runs": 300, "history": 3_000, "batches": 3, "log_metric": 200, "search_repeat": 3,
         "history_repeat": 2, "budget": 20.0}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.store", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--runs", type=int, help="runs seeded for search")
    parser.add_argument("--history", type=int, help="points of the history run")
    parser.add_argument("--batches", type=int, help="log_batch calls of 1,000 metrics")
    parser.add_argument("--log-metric", type=int, dest="log_metric", help="single log_metric calls")
    parser.add_argument("--search-repeat", type=int, dest="search_repeat")
    parser.add_argument("--history-repeat", type=int, dest="history_repeat")
    parser.add_argument("--budget", type=float, help="seconds a slow system may spend on one workload")
    parser.add_argument("--systems", default=",".join(STORES), help="comma-separated: headwater,mlflow")
    parser.add_argument("--profile", action="store_true",
                        help="profile Headwater's workloads with pyinstrument (figures then carry its overhead)")
    parser.add_argument("--workdir", help="folder for the databases (default: a temporary one)")
    args = parser.parse_args(argv)
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def run(args: argparse.Namespace) -> Report:
    quiet_mlflow()
    systems = [s for s in args.systems.split(",") if s]
    report = Report(
        benchmark="store",
        systems=systems,
        compare_to=[s for s in systems if s != HEADWATER],
        options={k: v for k, v in vars(args).items() if k != "workdir"},
    )
    with tempfile.TemporaryDirectory(prefix="bench-store-", dir=args.workdir) as tmp:
        stores: dict[str, Any] = {}
        seeded: dict[str, dict[str, Any]] = {}
        seed_row = report.add(Row("seed runs + history (setup, not a goal)", "s", higher_is_better=False))
        for name in systems:
            log(f"{name}: opening the store and seeding {args.runs} runs, {args.history} history points")
            folder = os.path.join(tmp, name)
            os.makedirs(folder)
            store = STORES[name](os.path.join(folder, "tracking.db"), os.path.join(folder, "artifacts"))
            stores[name] = store
            start = time.perf_counter()
            seeded[name] = seed(store, args.runs, args.history)
            seed_row.values[name] = time.perf_counter() - start
            check_seed(store, seeded[name])
        matches = next(iter(seeded.values()))["matches"]
        report.notes.append(f"search filter {dataset.SEARCH_FILTER!r} matches {matches} of {args.runs} runs")

        bench_log_batch(report, stores, args)
        bench_log_metric(report, stores, args)
        bench_search(report, stores, seeded, args)
        bench_history(report, stores, seeded, args)
        for store in stores.values():
            store.close()
    if args.profile:
        report.notes.append("profiled run: Headwater's figures include pyinstrument's overhead")
    return report


def bench_log_batch(report: Report, stores: dict[str, Any], args: argparse.Namespace) -> None:
    row = report.add(Row("log_batch, 1,000 metrics per call", "metrics/s", True,
                         goal=Goal("mlflow", 10, ">=10x MLflow")))
    p50_row = report.add(Row("log_batch, 1,000 metrics per call", "s per call (p50)", False))
    cpu_row = report.add(Row("log_batch, 1,000 metrics per call", "CPU s per call (p50)", False))
    for name, store in stores.items():
        exp = store.create_experiment("bench-log-batch")
        run_id = store.create_run(exp)
        batches = [store.metrics(dataset.fresh_points(f"m{i % 10}", 1000, i * 1000)) for i in range(args.batches)]
        pending = iter(batches)
        log(f"{name}: log_batch x{args.batches}")
        with profiled(args.profile and name == HEADWATER, "store", "log_batch"):
            times, cpu = samples_with_cpu(lambda: store.log_batch(run_id, next(pending)), args.batches, args.budget)
        row.values[name] = len(times) * 1000 / sum(times)
        p50_row.values[name] = p50(times)
        cpu_row.values[name] = p50(cpu)
        row.detail[name] = {"calls": len(times)}


def bench_log_metric(report: Report, stores: dict[str, Any], args: argparse.Namespace) -> None:
    row = report.add(Row("log_metric, single calls", "calls/s", True, goal=Goal("mlflow", 3, ">=3x MLflow")))
    p50_row = report.add(Row("log_metric, single calls", "s per call (p50)", False))
    cpu_row = report.add(Row("log_metric, single calls", "CPU s per call (mean)", False))
    for name, store in stores.items():
        exp = store.create_experiment("bench-log-metric")
        run_id = store.create_run(exp)
        points = iter(store.metrics(dataset.fresh_points("loss", args.log_metric, 0)))
        log(f"{name}: log_metric x{args.log_metric}")
        with profiled(args.profile and name == HEADWATER, "store", "log_metric"):
            times, cpu = samples_with_cpu(lambda: store.log_metric(run_id, next(points)), args.log_metric,
                                          args.budget)
        row.values[name] = len(times) / sum(times)
        p50_row.values[name] = p50(times)
        cpu_row.values[name] = sum(cpu) / len(cpu)  # (one call is below the CPU clock's resolution)
        row.detail[name] = {"calls": len(times)}


def bench_search(report: Report, stores: dict[str, Any], seeded: dict[str, dict[str, Any]],
                 args: argparse.Namespace) -> None:
    row = report.add(Row(f"search_runs over {args.runs:,} runs, filter + order_by, first {dataset.SEARCH_PAGE}",
                         "s (p50)", False, goal=Goal("mlflow", 10, ">=10x MLflow")))
    cpu_row = report.add(Row(row.workload, "CPU s (p50)", False))
    for name, store in stores.items():
        exp = seeded[name]["search_experiment"]

        def search() -> None:
            n, _ = store.search(exp, dataset.SEARCH_FILTER, dataset.SEARCH_ORDER_BY, dataset.SEARCH_PAGE)
            assert n == min(dataset.SEARCH_PAGE, seeded[name]["matches"]), n

        search()  # warm caches and statement compilation
        log(f"{name}: search_runs x{args.search_repeat}")
        with profiled(args.profile and name == HEADWATER, "store", "search_runs"):
            times, cpu = samples_with_cpu(search, args.search_repeat, args.budget)
        row.values[name] = p50(times)
        cpu_row.values[name] = p50(cpu)
        row.detail[name] = {"calls": len(times)}


def bench_history(report: Report, stores: dict[str, Any], seeded: dict[str, dict[str, Any]],
                  args: argparse.Namespace) -> None:
    row = report.add(Row(f"get_metric_history, {args.history:,} points", "s (p50)", False))
    rate = report.add(Row(f"get_metric_history, {args.history:,} points", "points/s", True))
    cpu_row = report.add(Row(row.workload, "CPU s (p50)", False))
    for name, store in stores.items():
        run_id = seeded[name]["history_run"]

        def history() -> None:
            assert store.history(run_id, dataset.HISTORY_KEY) == args.history

        history()
        log(f"{name}: get_metric_history x{args.history_repeat}")
        with profiled(args.profile and name == HEADWATER, "store", "get_metric_history"):
            times, cpu = samples_with_cpu(history, args.history_repeat, args.budget)
        row.values[name] = p50(times)
        cpu_row.values[name] = p50(cpu)
        rate.values[name] = args.history / p50(times)
        row.detail[name] = {"calls": len(times)}


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
