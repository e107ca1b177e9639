"""The HTTP workloads, driven with requests the way MLflow's REST clients call the API.

Every system gets the same requests from the same client; the HTTP floor gets
them too (it answers without doing anything), so the figures show what the
server itself adds. Each function returns its figures and what it counted, and
checks the answers (a server that answered wrong would look fast).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import requests

from bench import dataset
from bench.common import p50

API = "/api/2.0/mlflow"


class Api:
    def __init__(self, base: str):
        self.base = base + API
        self.session = requests.Session()

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.session.post(f"{self.base}/{path}", json=body, timeout=600)
        if response.status_code != 200:
            raise RuntimeError(f"POST {path}: {response.status_code} {response.text[:300]}")
        return response.json()

    def get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        response = self.session.get(f"{self.base}/{path}", params=params, timeout=600)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:300]}")
        return response.json()

    def close(self) -> None:
        self.session.close()

    # -- setup calls (not timed) ---------------------------------------------------------------
    def experiment(self, name: str) -> str:
        return self.post("experiments/create", {"name": name}).get("experiment_id", "0")

    def run(self, experiment_id: str, name: str = "bench") -> str:
        body = self.post("runs/create", {"experiment_id": experiment_id, "run_name": name, "user_id": "bench",
                                         "start_time": int(time.time() * 1000), "tags": []})
        return body.get("run", {}).get("info", {}).get("run_id", "floor")


def metric_body(run_id: str, key: str, value: float, timestamp: int, step: int) -> dict[str, Any]:
    return {"run_id": run_id, "key": key, "value": value, "timestamp": timestamp, "step": step}


def create_run(api: Api, experiment_id: str, count: int, budget_s: float) -> dict[str, Any]:
    times = []
    deadline = time.perf_counter() + budget_s
    for i in range(count):
        body = {"experiment_id": experiment_id, "run_name": f"created-{i}", "user_id": "bench",
                "start_time": dataset.START_TIME + i, "tags": [{"key": "team", "value": "bench"}]}
        start = time.perf_counter()
        api.post("runs/create", body)
        times.append(time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    return {"ops": len(times) / sum(times), "p50": p50(times), "calls": len(times)}


def log_metric_sequential(api: Api, run_id: str, count: int, budget_s: float) -> dict[str, Any]:
    times = []
    deadline = time.perf_counter() + budget_s
    for step in range(count):
        body = metric_body(run_id, "seq", 0.5 + step % 97 / 1000, dataset.START_TIME + step, step)
        start = time.perf_counter()
        api.post("runs/log-metric", body)
        times.append(time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    return {"ops": len(times) / sum(times), "p50": p50(times), "calls": len(times)}


def log_metric_concurrent(base: str, run_ids: list[str], per_client: int, budget_s: float) -> dict[str, Any]:
    """len(run_ids) clients, each with its own session and run, logging at once."""
    barrier = threading.Barrier(len(run_ids) + 1)
    counts = [0] * len(run_ids)
    errors: list[BaseException] = []
    deadline_box: list[float] = []

    def client(index: int, run_id: str) -> None:
        api = Api(base)
        try:
            barrier.wait()
            deadline = deadline_box[0]
            for step in range(per_client):
                api.post("runs/log-metric", metric_body(run_id, "conc", 0.25, dataset.START_TIME + step, step))
                counts[index] += 1
                if time.perf_counter() > deadline:
                    break
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            api.close()

    threads = [threading.Thread(target=client, args=(i, r)) for i, r in enumerate(run_ids)]
    for t in threads:
        t.start()
    deadline_box.append(time.perf_counter() + budget_s)
    start = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return {"ops": sum(counts) / elapsed, "calls": sum(counts), "clients": len(run_ids)}


def log_batch(api: Api, run_id: str, batches: int, budget_s: float) -> dict[str, Any]:
    times = []
    deadline = time.perf_counter() + budget_s
    for b in range(batches):
        metrics = [{"key": f"m{b % 10}", "value": value, "timestamp": timestamp, "step": step}
                   for _, value, timestamp, step in dataset.fresh_points("x", 1000, b * 1000)]
        body = {"run_id": run_id, "metrics": metrics}
        start = time.perf_counter()
        api.post("runs/log-batch", body)
        times.append(time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    return {"metrics_per_s": len(times) * 1000 / sum(times), "p50": p50(times), "calls": len(times)}


def search(api: Api, experiment_id: str, expected: int, repeat: int, budget_s: float) -> dict[str, Any]:
    body = {"experiment_ids": [experiment_id], "filter": dataset.SEARCH_FILTER,
            "order_by": dataset.SEARCH_ORDER_BY, "max_results": dataset.SEARCH_PAGE}

    def once() -> None:
        runs = api.post("runs/search", body).get("runs", [])
        if len(runs) != expected:
            raise RuntimeError(f"search answered {len(runs)} runs, expected {expected}")

    once()  # warm-up
    times = _repeat(once, repeat, budget_s)
    return {"p50": p50(times), "calls": len(times), "requests": len(times) + 1}


def page_all(api: Api, experiment_id: str, expected: int, repeat: int, budget_s: float) -> dict[str, Any]:
    def once() -> None:
        seen, token = 0, None
        while True:
            body = {"experiment_ids": [experiment_id], "max_results": dataset.PAGING_PAGE}
            if token:
                body["page_token"] = token
            answer = api.post("runs/search", body)
            seen += len(answer.get("runs", []))
            token = answer.get("next_page_token")
            if not token:
                break
        if seen != expected:
            raise RuntimeError(f"paging saw {seen} runs, expected {expected}")

    times = _repeat(once, repeat, budget_s)
    return {"p50": p50(times), "calls": len(times)}


def history(api: Api, run_id: str, expected: int, repeat: int, budget_s: float) -> dict[str, Any]:
    def once() -> None:
        seen, token = 0, None
        while True:
            params = {"run_id": run_id, "metric_key": dataset.HISTORY_KEY}
            if token:
                params["page_token"] = token
            answer = api.get("metrics/get-history", params)
            seen += len(answer.get("metrics", []))
            token = answer.get("next_page_token")
            if not token:
                break
        if seen != expected:
            raise RuntimeError(f"history answered {seen} points, expected {expected}")

    times = _repeat(once, repeat, budget_s)
    return {"p50": p50(times), "calls": len(times)}


def _repeat(fn: Any, repeat: int, budget_s: float) -> list[float]:
    times = []
    deadline = time.perf_counter() + budget_s
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    return times
