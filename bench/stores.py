"""The two tracking stores behind one small interface, and how each is seeded.

Entities are built before the clock starts (``metrics()``), so a timed call
measures the store, not the construction of its arguments.

Seeding: Headwater through its own bulk path (``create_run`` + ``log_batch``);
MLflow by inserting rows into its own tables (its SQLAlchemy table objects,
with the values its ``create_run`` and ``log_batch`` write), because its
per-call path takes about 0.1 s per run on SQLite, 20 minutes for 10,000 runs.
``check_seed`` then reads the data back through each store's API.
"""

from __future__ import annotations

import uuid
from typing import Any

from bench import dataset
from bench.common import quiet_mlflow


class HeadwaterStore:
    name = "headwater"

    def __init__(self, db_path: str, artifact_root: str):
        from headwater.plugins.manager import make_plugin_manager

        self._pm = make_plugin_manager()
        self.store = self._pm.tracking_store(f"sqlite:///{db_path}", artifact_root)

    def close(self) -> None:
        self.store.close()
        self._pm.close()

    def create_experiment(self, name: str) -> str:
        return self.store.create_experiment(name)

    def create_run(self, experiment_id: str, name: str = "bench", start_time: int | None = None) -> str:
        return self.store.create_run(experiment_id, user_id="bench", start_time=start_time, run_name=name).info.run_id

    def metrics(self, points: list[tuple[str, float, int, int]]) -> list[Any]:
        from headwater.entities import Metric

        return [Metric(key=k, value=v, timestamp=t, step=s) for k, v, t, s in points]

    def log_metric(self, run_id: str, metric: Any) -> None:
        self.store.log_metric(run_id, metric)

    def log_batch(self, run_id: str, metrics: list[Any]) -> None:
        self.store.log_batch(run_id, metrics=metrics)

    def search(self, experiment_id: str, filter_string: str | None, order_by: list[str] | None,
               max_results: int, page_token: str | None = None) -> tuple[int, str | None]:
        page = self.store.search_runs([experiment_id], filter_string=filter_string, max_results=max_results,
                                      order_by=order_by, page_token=page_token)
        return len(page.items), page.token

    def history(self, run_id: str, key: str) -> int:
        return len(self.store.get_metric_history(run_id, key).items)

    def seed_runs(self, experiment_id: str, specs: list[dataset.RunSpec]) -> None:
        from headwater.entities import Metric, Param, RunTag

        for spec in specs:
            run = self.store.create_run(
                experiment_id, user_id="bench", start_time=spec.start_time,
                tags=[RunTag(key=k, value=v) for k, v in spec.tags.items()], run_name=spec.name,
            )
            self.store.log_batch(
                run.info.run_id,
                metrics=[Metric(key=k, value=v, timestamp=spec.start_time + 1, step=10)
                         for k, v in spec.metrics.items()],
                params=[Param(key=k, value=v) for k, v in spec.params.items()],
            )

    def seed_history(self, run_id: str, key: str, points: list[tuple[float, int, int]]) -> None:
        for start in range(0, len(points), 1000):
            self.log_batch(run_id, self.metrics([(key, v, t, s) for v, t, s in points[start:start + 1000]]))


class MlflowStore:
    name = "mlflow"

    def __init__(self, db_path: str, artifact_root: str):
        quiet_mlflow()
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        self.store = SqlAlchemyStore(f"sqlite:///{db_path}", artifact_root)

    def close(self) -> None:
        self.store.engine.dispose()

    def create_experiment(self, name: str) -> str:
        return self.store.create_experiment(name)

    def create_run(self, experiment_id: str, name: str = "bench", start_time: int | None = None) -> str:
        import time

        start = start_time if start_time is not None else int(time.time() * 1000)
        return self.store.create_run(experiment_id, "bench", start, [], name).info.run_id

    def metrics(self, points: list[tuple[str, float, int, int]]) -> list[Any]:
        from mlflow.entities import Metric

        return [Metric(k, v, t, s) for k, v, t, s in points]

    def log_metric(self, run_id: str, metric: Any) -> None:
        self.store.log_metric(run_id, metric)

    def log_batch(self, run_id: str, metrics: list[Any]) -> None:
        self.store.log_batch(run_id, metrics, [], [])

    def search(self, experiment_id: str, filter_string: str | None, order_by: list[str] | None,
               max_results: int, page_token: str | None = None) -> tuple[int, str | None]:
        from mlflow.entities import ViewType

        page = self.store.search_runs([experiment_id], filter_string or "", ViewType.ACTIVE_ONLY, max_results,
                                      order_by, page_token)
        return len(page), page.token

    def history(self, run_id: str, key: str) -> int:
        return len(self.store.get_metric_history(run_id, key))

    # Rows as MLflow's create_run and log_batch write them, inserted in one transaction.
    def seed_runs(self, experiment_id: str, specs: list[dataset.RunSpec]) -> None:
        from mlflow.store.tracking.dbmodels.models import SqlLatestMetric, SqlMetric, SqlParam, SqlRun, SqlTag

        location = self.store.get_experiment(experiment_id).artifact_location.rstrip("/")
        runs, tags, params, metrics = [], [], [], []
        for spec in specs:
            run_id = uuid.uuid4().hex
            runs.append({
                "run_uuid": run_id, "name": spec.name, "source_type": "UNKNOWN", "source_name": "",
                "entry_point_name": "", "user_id": "bench", "status": "RUNNING", "start_time": spec.start_time,
                "end_time": None, "deleted_time": None, "source_version": "", "lifecycle_stage": "active",
                "artifact_uri": f"{location}/{run_id}/artifacts", "experiment_id": int(experiment_id),
            })
            tags += [{"run_uuid": run_id, "key": k, "value": v}
                     for k, v in {**spec.tags, dataset.RUN_NAME_TAG: spec.name}.items()]
            params += [{"run_uuid": run_id, "key": k, "value": v} for k, v in spec.params.items()]
            metrics += [{"run_uuid": run_id, "key": k, "value": v, "timestamp": spec.start_time + 1, "step": 10,
                         "is_nan": False} for k, v in spec.metrics.items()]
        with self.store.engine.begin() as conn:
            conn.execute(SqlRun.__table__.insert(), runs)
            conn.execute(SqlTag.__table__.insert(), tags)
            conn.execute(SqlParam.__table__.insert(), params)
            conn.execute(SqlMetric.__table__.insert(), metrics)
            conn.execute(SqlLatestMetric.__table__.insert(), metrics)

    def seed_history(self, run_id: str, key: str, points: list[tuple[float, int, int]]) -> None:
        from mlflow.store.tracking.dbmodels.models import SqlLatestMetric, SqlMetric

        rows = [{"run_uuid": run_id, "key": key, "value": v, "timestamp": t, "step": s, "is_nan": False}
                for v, t, s in points]
        with self.store.engine.begin() as conn:
            conn.execute(SqlMetric.__table__.insert(), rows)
            conn.execute(SqlLatestMetric.__table__.insert(), [max(rows, key=lambda r: (r["step"], r["timestamp"]))])


STORES = {HeadwaterStore.name: HeadwaterStore, MlflowStore.name: MlflowStore}


def seed(store: Any, runs: int, history: int) -> dict[str, Any]:
    """Seed the search experiment and the history run; returns their ids and what to expect."""
    specs = dataset.search_runs(runs)
    search_exp = store.create_experiment(dataset.SEARCH_EXPERIMENT)
    store.seed_runs(search_exp, specs)
    history_exp = store.create_experiment(dataset.HISTORY_EXPERIMENT)
    history_run = store.create_run(history_exp, "history", dataset.START_TIME)
    store.seed_history(history_run, dataset.HISTORY_KEY, dataset.history_points(history))
    return {
        "search_experiment": search_exp,
        "history_run": history_run,
        "runs": runs,
        "history": history,
        "matches": dataset.expected_matches(specs),
    }


def check_seed(store: Any, seeded: dict[str, Any]) -> None:
    """Read the seeded data back through the store's API: every system must hold the same."""
    exp = seeded["search_experiment"]
    matched, token = 0, None
    while True:
        n, token = store.search(exp, dataset.SEARCH_FILTER, dataset.SEARCH_ORDER_BY, 1000, token)
        matched += n
        if not token:
            break
    points = store.history(seeded["history_run"], dataset.HISTORY_KEY)
    if matched != seeded["matches"] or points != seeded["history"]:
        raise RuntimeError(
            f"{store.name}: seeded data reads back wrong: {matched} matches (expected {seeded['matches']}),"
            f" {points} history points (expected {seeded['history']})"
        )
