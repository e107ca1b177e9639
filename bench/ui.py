"""The web UI in a real browser: Headwater's UI beside MLflow's UI on the same data.

    python -m bench.ui            # experiments of 10,000 and 100,000 runs, a 1,000,000-point metric
    python -m bench.ui --quick    # 1,000 and 5,000 runs, 50,000 points: a smoke run

Each system serves its own SQLite database holding the same rows (the runs of
:mod:`bench.dataset`: 3 params, 3 metrics, 2 tags each, and one run with a long
``loss`` history), inserted directly into each system's tables because seeding
100,000 runs through either API would take most of an hour. Headless Chromium
(Debian's package, driven by Playwright) opens each page in a fresh browser
context (no cache), and the clock runs from navigation until:

- runs table: the first row of the experiment's runs table is in the page;
- runs table sorted: the same, ordered by a metric (``metrics.acc`` descending);
- chart: the run's metric chart has drawn its line.

MLflow's pages are ``#/experiments/<id>/runs`` (rows of its ag-grid table) and
``#/experiments/<id>/runs/<run>/model-metrics`` (a plotted line). One page load
per system and page is a warm-up (JavaScript compiled, server caches filled);
the p50 of the next ``--repeat`` loads is reported. A page that has not
finished after ``--timeout`` seconds counts as not finished.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from typing import Any, Callable

from bench import dataset
from bench.common import HEADWATER, Goal, Report, Row, log, quiet_mlflow
from bench.processes import ServerProcess

CHROMIUM = os.environ.get("HEADWATER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SYSTEMS = ("headwater", "mlflow")
FULL = {"runs": "10000,100000", "points": 1_000_000, "repeat": 3, "timeout": 120.0}
QUICK = {"runs": "1000,5000", "points": 50_000, "repeat": 2, "timeout": 60.0}
SORT_KEY = "acc"
HISTORY_KEY = dataset.HISTORY_KEY


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ui", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--runs", help="comma-separated sizes of the experiments (runs each)")
    parser.add_argument("--points", type=int, help="points of the long metric history")
    parser.add_argument("--repeat", type=int, help="timed page loads per page and system (after one warm-up)")
    parser.add_argument("--timeout", type=float, help="seconds after which a page load counts as not finished")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated, of headwater,mlflow")
    parser.add_argument("--workdir", help="folder for databases and server logs (default: a temporary one)")
    args = parser.parse_args(argv)
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.sizes = [int(n) for n in str(args.runs).split(",") if n]
    return args


# -- seeding: the same rows in each system's own tables -----------------------------------------------
def seed_headwater(db_path: str, sizes: list[int], points: int) -> dict[str, Any]:
    import sqlalchemy as sa

    from headwater_store_sql import schema
    from headwater_store_sql.store import SqlTrackingStore

    store = SqlTrackingStore(f"sqlite:///{db_path}", os.path.join(os.path.dirname(db_path), "artifacts"))
    try:
        out: dict[str, Any] = {"experiments": {}}
        for size in sizes:
            experiment_id = store.create_experiment(f"ui-{size}")
            location = store.get_experiment(experiment_id).artifact_location
            runs, tags, params, metrics = [], [], [], []
            for spec in dataset.search_runs(size):
                run_id = uuid.uuid4().hex
                runs.append({"run_id": run_id, "experiment_id": int(experiment_id), "name": spec.name,
                             "user_id": "bench", "status": "FINISHED", "start_time": spec.start_time,
                             "end_time": spec.start_time + 60_000, "artifact_uri": f"{location}/{run_id}/artifacts",
                             "lifecycle_stage": "active", "deleted_time": None})
                tags += [{"run_id": run_id, "key": k, "value": v}
                         for k, v in {**spec.tags, dataset.RUN_NAME_TAG: spec.name}.items()]
                params += [{"run_id": run_id, "key": k, "value": v} for k, v in spec.params.items()]
                metrics += [{"run_id": run_id, "key": k, "value": v, "is_nan": False,
                             "timestamp": spec.start_time + 1, "step": 10} for k, v in spec.metrics.items()]
            with store.engine.begin() as conn:
                conn.execute(sa.insert(schema.runs), runs)
                conn.execute(sa.insert(schema.tags), tags)
                conn.execute(sa.insert(schema.params), params)
                conn.execute(sa.insert(schema.metrics), metrics)
                conn.execute(sa.insert(schema.latest_metrics), metrics)
            out["experiments"][size] = experiment_id
        history_experiment = store.create_experiment("ui-history")
        run_id = store.create_run(history_experiment, user_id="bench", start_time=dataset.START_TIME,
                                  run_name="history").info.run_id
        rows = [{"run_id": run_id, "key": HISTORY_KEY, "value": v, "is_nan": False, "timestamp": t, "step": s}
                for v, t, s in history_values(points)]
        with store.engine.begin() as conn:
            for start in range(0, len(rows), 100_000):
                conn.execute(sa.insert(schema.metrics), rows[start:start + 100_000])
            conn.execute(sa.insert(schema.latest_metrics), [rows[-1]])
        out.update(history_experiment=history_experiment, history_run=run_id)
        return out
    finally:
        store.close()


def seed_mlflow(db_path: str, sizes: list[int], points: int) -> dict[str, Any]:
    from bench.stores import MlflowStore

    store = MlflowStore(db_path, os.path.join(os.path.dirname(db_path), "artifacts"))
    try:
        out: dict[str, Any] = {"experiments": {}}
        for size in sizes:
            experiment_id = store.create_experiment(f"ui-{size}")
            store.seed_runs(experiment_id, dataset.search_runs(size))
            out["experiments"][size] = experiment_id
        history_experiment = store.create_experiment("ui-history")
        run_id = store.create_run(history_experiment, "history", dataset.START_TIME)
        store.seed_history(run_id, HISTORY_KEY, history_values(points))
        out.update(history_experiment=history_experiment, history_run=run_id)
        return out
    finally:
        store.close()


def history_values(points: int) -> list[tuple[float, int, int]]:
    """(value, timestamp, step): a decaying loss with one spike that a chart must still show."""
    spike = points * 2 // 3
    return [(100.0 if step == spike else 1.0 / (1 + step / 1000), dataset.START_TIME + step * 10, step)
            for step in range(points)]


SEEDERS: dict[str, Callable[[str, list[int], int], dict[str, Any]]] = {"headwater": seed_headwater,
                                                                        "mlflow": seed_mlflow}


# -- what each system's pages are and when they are done -------------------------------------------------
def pages(system: str, seeded: dict[str, Any], size: int) -> dict[str, tuple[str, str]]:
    """Page name -> (URL fragment, JavaScript predicate that is true once it has rendered)."""
    experiment = seeded["experiments"][size]
    history_run = seeded["history_run"]
    if system == "headwater":
        rows = "() => document.querySelector('#runs-table tbody tr[data-run-id]') !== null"
        chart = "() => document.querySelector('.chart.drawn') !== null"
        return {
            "table": (f"#/experiments/{experiment}", rows),
            "sorted": (f"#/experiments/{experiment}?order=metrics.%60{SORT_KEY}%60+DESC", rows),
            "chart": (f"#/runs/{history_run}?tab=charts&metric={HISTORY_KEY}", chart),
        }
    rows = "() => document.querySelector('.ag-row a[href*=\"/runs/\"]') !== null"
    chart = ("() => [...document.querySelectorAll('.js-plotly-plot path.js-line')]"
             ".some(p => (p.getAttribute('d') || '').length > 20)")
    return {
        "table": (f"#/experiments/{experiment}/runs", rows),
        "sorted": (f"#/experiments/{experiment}/runs?orderByKey=metrics.%60{SORT_KEY}%60&orderByAsc=false", rows),
        "chart": (f"#/experiments/{seeded['history_experiment']}/runs/{history_run}/model-metrics", chart),
    }


def load_time(browser: Any, url: str, predicate: str, timeout: float) -> float | None:
    """Seconds from navigation until ``predicate`` holds, in a fresh context; None if it never did."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        start = time.perf_counter()
        page.goto(url, wait_until="commit", timeout=timeout * 1000)
        page.wait_for_function(predicate, timeout=timeout * 1000, polling="raf")
        return time.perf_counter() - start
    except Exception as exc:  # a timeout, or a page that crashed: not finished
        log(f"  not finished: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
        return None
    finally:
        context.close()


def measure(browser: Any, base: str, page_def: tuple[str, str], args: argparse.Namespace) -> dict[str, Any]:
    fragment, predicate = page_def
    url = f"{base}/{fragment}"
    warmup = load_time(browser, url, predicate, args.timeout)
    if warmup is None:
        return {"p50": None, "samples": [], "warmup": None}
    samples = [load_time(browser, url, predicate, args.timeout) for _ in range(args.repeat)]
    finished = [s for s in samples if s is not None]
    p50 = statistics.median(finished) if len(finished) == len(samples) else None
    return {"p50": p50, "samples": samples, "warmup": warmup}


# -- the run -------------------------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> Report:
    quiet_mlflow()
    from playwright.sync_api import sync_playwright

    systems = [s for s in args.systems.split(",") if s]
    report = Report(benchmark="ui", systems=systems, compare_to=[s for s in systems if s != HEADWATER],
                    options={k: v for k, v in vars(args).items() if k not in ("workdir",)})
    goal = Goal("mlflow", 5, ">=5x MLflow") if "mlflow" in systems else None
    rows: dict[tuple[str, int], Row] = {}
    for size in args.sizes:
        rows[("table", size)] = report.add(Row(f"runs table, {size:,} runs: first rows", "s (p50)", False, goal=goal))
        rows[("sorted", size)] = report.add(Row(f"runs table, {size:,} runs, sorted by metrics.{SORT_KEY}: first rows",
                                                "s (p50)", False, goal=goal))
    chart_row = report.add(Row(f"metric chart, {args.points:,} points: drawn", "s (p50)", False, goal=goal))
    seed_row = report.add(Row("seed the databases (setup, not a goal)", "s", False))

    with tempfile.TemporaryDirectory(prefix="bench-ui-", dir=args.workdir) as tmp, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for system in systems:
                folder = os.path.join(tmp, system)
                os.makedirs(folder, exist_ok=True)
                db_path = os.path.join(folder, f"{system}.db")
                log(f"{system}: seeding {', '.join(f'{n:,}' for n in args.sizes)} runs and {args.points:,} points")
                started = time.perf_counter()
                seeded = SEEDERS[system](db_path, args.sizes, args.points)
                seed_row.values[system] = time.perf_counter() - started
                server = ServerProcess(system, folder, db_path)
                log(f"{system}: starting the server")
                server.start()
                try:
                    for size in args.sizes:
                        defs = pages(system, seeded, size)
                        for name in ("table", "sorted"):
                            log(f"{system}: {name}, {size:,} runs")
                            result = measure(browser, server.base, defs[name], args)
                            record(rows[(name, size)], system, result, args)
                    log(f"{system}: chart of {args.points:,} points")
                    result = measure(browser, server.base, pages(system, seeded, args.sizes[0])["chart"], args)
                    record(chart_row, system, result, args)
                finally:
                    server.stop()
        finally:
            browser.close()
    if HEADWATER in systems:
        for row in report.rows[:-1]:
            value = row.values.get(HEADWATER)
            verdict = "not finished" if value is None else ("under" if value < 1.0 else "OVER")
            report.notes.append(f"1-second goal, {row.workload}: headwater {verdict}")
    report.notes.append("each figure: p50 of page loads in fresh browser contexts after one warm-up load; "
                        "'-' means the page had not rendered within the timeout")
    return report


def record(row: Row, system: str, result: dict[str, Any], args: argparse.Namespace) -> None:
    row.detail[system] = {"samples_s": result["samples"], "warmup_s": result["warmup"], "timeout_s": args.timeout}
    if result["p50"] is not None:
        row.values[system] = result["p50"]
        log(f"  {system}: {result['p50']:.3f} s (warm-up {result['warmup']:.3f} s)")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    report = run(args)
    path = report.write()
    report.print()
    print(f"results: {path}")


if __name__ == "__main__":
    main()
