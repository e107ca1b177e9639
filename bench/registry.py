"""The model registry over HTTP: ``headwater server`` beside ``mlflow server``.

    python -m bench.registry            # 1,000 models x 20 versions
    python -m bench.registry --quick    # a smoke run

Workloads, each a sequence of calls by one client: ``registered-models/search``
and ``model-versions/search`` with a ``name LIKE`` filter (the ``model-1%``
models: 111 of 1,000, and their 2,220 versions), paging through every model
(100 per page) and ``get-latest-versions`` of one model after another.

Each family's database is seeded once with the same rows (Headwater's and
MLflow's registry tables, filled in bulk), then copied into each server's
folder. Every answer is checked against the seed before it counts.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from typing import Any

import requests

from bench.common import HEADWATER, Goal, Report, Row, log, p50, quiet_mlflow, samples
from bench.processes import ServerProcess, copy_sqlite

SERVERS = ("headwater", "mlflow", "mlflow-w1")
STAGES = ("None", "Staging", "Production", "Archived")

FULL = {"models": 1000, "versions": 20, "repeat": 20, "latest_calls": 300, "budget": 60.0}
QUICK = {"models": 40, "versions": 5, "repeat": 3, "latest_calls": 20, "budget": 10.0}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.registry", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    for name in FULL:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=type(FULL[name]))
    parser.add_argument("--systems", default=",".join(SERVERS), help=f"comma-separated, of {', '.join(SERVERS)}")
    parser.add_argument("--workdir", help="folder for databases and server logs (default: a temporary one)")
    args = parser.parse_args(argv)
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def model_name(i: int) -> str:
    return f"model-{i}"


def stage_of(version: int) -> str:
    """Versions cycle through the stages, so every model has a latest version in each."""
    return STAGES[version % len(STAGES)]


# -- seeding ---------------------------------------------------------------------------------------
def seed_headwater(db_path: str, models: int, versions: int) -> None:
    """Rows as SqlRegistryStore writes them, inserted in bulk (the store's own schema, migrated)."""
    import sqlalchemy as sa

    from headwater_store_sql.registry_schema import model_versions, registered_models
    from headwater_store_sql.registry_store import SqlRegistryStore

    store = SqlRegistryStore(f"sqlite:///{db_path}")
    t = int(time.time() * 1000)
    with store.engine.begin() as conn:
        conn.execute(sa.insert(registered_models), [
            {"id": i + 1, "name": model_name(i), "creation_time": t, "last_updated_time": t + i, "description": None,
             "user_id": None, "last_version": versions} for i in range(models)
        ])
        conn.execute(sa.insert(model_versions), [
            {"registered_model_id": i + 1, "version": v, "creation_time": t, "last_updated_time": t + v,
             "description": None, "user_id": None, "current_stage": stage_of(v),
             "source": f"s3://bucket/{model_name(i)}/{v}", "storage_location": f"s3://bucket/{model_name(i)}/{v}",
             "run_id": None, "run_link": None, "status": "READY", "status_message": None, "model_id": None}
            for i in range(models) for v in range(1, versions + 1)
        ])
    store.close()


def seed_mlflow(db_path: str, models: int, versions: int) -> None:
    """Rows as MLflow's registry store writes them, through its own ORM classes in one session."""
    quiet_mlflow()
    from mlflow.store.model_registry.dbmodels.models import SqlModelVersion, SqlRegisteredModel
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(f"sqlite:///{db_path}")
    t = int(time.time() * 1000)
    with store.ManagedSessionMaker(read_only=False) as session:
        session.add_all([
            SqlRegisteredModel(name=model_name(i), creation_time=t, last_updated_time=t + i) for i in range(models)
        ])
        session.flush()
        session.add_all([
            SqlModelVersion(name=model_name(i), version=v, creation_time=t, last_updated_time=t + v,
                            current_stage=stage_of(v), source=f"s3://bucket/{model_name(i)}/{v}",
                            storage_location=f"s3://bucket/{model_name(i)}/{v}", status="READY")
            for i in range(models) for v in range(1, versions + 1)
        ])
    store.engine.dispose()


# -- workloads ----------------------------------------------------------------------------------------
class Api:
    def __init__(self, base: str):
        self.base = f"{base}/api/2.0/mlflow"
        self.session = requests.Session()

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.session.request(method, f"{self.base}/{path}", timeout=120, **kwargs)
        response.raise_for_status()
        return response.json()


def expected_like(models: int) -> int:
    return sum(1 for i in range(models) if model_name(i).startswith("model-1"))


def workloads(api: Api, args: argparse.Namespace, failures: dict[str, str]) -> dict[str, tuple[list[float], int]]:
    """workload -> (seconds per call, repeat), every answer checked; requests that failed go to ``failures``."""
    like = {"filter": "name LIKE 'model-1%'"}
    matching = expected_like(args.models)
    out: dict[str, tuple[list[float], int]] = {}

    def search_models() -> None:
        found = api.call("GET", "registered-models/search", params={**like, "max_results": 1000})
        assert len(found.get("registered_models", [])) == matching, "registered-models/search"

    def search_versions() -> None:
        found = api.call("GET", "model-versions/search", params={**like, "max_results": 100_000})
        assert len(found.get("model_versions", [])) == matching * args.versions, "model-versions/search"

    def page_models() -> None:
        seen, token = 0, None
        while True:
            page = api.call("GET", "registered-models/search",
                            params={"max_results": 100, **({"page_token": token} if token else {})})
            seen += len(page.get("registered_models", []))
            token = page.get("next_page_token")
            if not token:
                break
        assert seen == args.models, "paging"

    counter = iter(range(10**9))

    def latest_versions() -> None:
        name = model_name(next(counter) % args.models)
        found = api.call("POST", "registered-models/get-latest-versions", json={"name": name})
        assert len(found.get("model_versions", [])) == min(len(STAGES), args.versions), "get-latest-versions"

    for key, fn, repeat in (
        ("search_registered_models", search_models, args.repeat),
        ("search_model_versions", search_versions, args.repeat),
        ("page every model", page_models, max(1, args.repeat // 4)),
        ("get_latest_versions", latest_versions, args.latest_calls),
    ):
        try:
            fn()  # warm caches and connection pools before timing
            out[key] = (samples(fn, repeat, args.budget), repeat)
        except requests.RequestException as exc:
            # A server that drops the connection (a worker killed mid-request) has no figure.
            failures[key] = f"{type(exc).__name__}: {exc}"
    return out


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    quiet_mlflow()
    systems = [s for s in args.systems.split(",") if s]
    workdir = args.workdir or tempfile.mkdtemp(prefix="bench-registry-")
    os.makedirs(workdir, exist_ok=True)
    report = Report("registry", systems, [s for s in systems if s != HEADWATER], vars(args))
    goal = Goal("mlflow", 5, ">=5x MLflow")
    rows = {
        key: report.add(Row(f"{key}, sequential", "calls/s", True, goal=goal))
        for key in ("search_registered_models", "search_model_versions", "page every model", "get_latest_versions")
    }
    latency = {key: report.add(Row(f"{key}, sequential", "s per call (p50)", False)) for key in rows}
    seeds = {}
    for family, seed in (("headwater", seed_headwater), ("mlflow", seed_mlflow)):
        if any(s.startswith(family) for s in systems):
            path = os.path.join(workdir, f"seed-{family}.db")
            log(f"seeding {family}: {args.models} models x {args.versions} versions")
            seed(path, args.models, args.versions)
            seeds[family] = path
    for system in systems:
        folder = os.path.join(workdir, system)
        db_path = os.path.join(folder, "registry.db")
        copy_sqlite(seeds["headwater" if system == HEADWATER else "mlflow"], db_path)
        server = ServerProcess(system, folder, db_path)
        log(f"starting {system}")
        server.start()
        try:
            failures: dict[str, str] = {}
            for key, (times, _) in workloads(Api(server.base), args, failures).items():
                rows[key].values[system] = len(times) / sum(times)
                rows[key].detail[system] = {"calls": len(times)}
                latency[key].values[system] = p50(times)
            for key, failure in failures.items():
                report.notes.append(f"{system}: {key} failed ({failure}); server log: {server.log_tail(3)}")
        finally:
            server.stop()
    matching = expected_like(args.models)
    report.notes.append(
        f"{args.models} models x {args.versions} versions; the LIKE filter matches {matching} models and"
        f" {matching * args.versions} versions; versions cycle through the four stages."
    )
    report.notes.append("mlflow: `mlflow server` defaults (4 uvicorn workers); mlflow-w1: --workers 1.")
    report.print()
    print(f"results: {report.write()}")


if __name__ == "__main__":
    main()
