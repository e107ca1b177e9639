"""Scoring servers: ``headwater models serve`` beside ``mlflow models serve`` on one sklearn model.

    python -m bench.scoring            # the sizes of issue 5
    python -m bench.scoring --quick    # a smoke run of well under a minute

Both serve the same model directory (a LinearRegression on 10 features,
saved by Headwater; MLflow loads it natively), each with one worker and the
local environment. Workloads, in one run:

- cold start: from launching the command to the first successful prediction;
- single-row requests: ``--clients`` threads, each with a keep-alive connection,
  sending ``dataframe_split`` bodies of one row (requests/s and p99 latency);
- 1,000-row batches: the same, with one client (requests/s and p50 latency).

Cold starts alternate between the systems, and the throughput workloads run
in rounds alternating between the two live servers (the median round counts),
so a busy moment of the machine does not favour either.

Every answer is checked against the model's own predictions.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import requests

from bench.common import HEADWATER, Goal, Report, Row, log, quiet_mlflow
from bench.processes import free_port

SYSTEMS = (HEADWATER, "mlflow")
FULL = {"single": 4000, "clients": 4, "batches": 100, "batch_rows": 1000, "cold_starts": 3, "rounds": 5}
QUICK = {"single": 200, "clients": 2, "batches": 10, "batch_rows": 1000, "cold_starts": 1, "rounds": 1}
FEATURES = [f"f{i}" for i in range(10)]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scoring", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    for name, value in FULL.items():
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=type(value))
    parser.add_argument("--workdir", help="folder for the model and server logs (default: a temporary one)")
    args = parser.parse_args(argv)
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def make_model(workdir: Path):
    import pandas as pd
    from sklearn.linear_model import LinearRegression

    import headwater

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(200, len(FEATURES))), columns=FEATURES)
    model = LinearRegression().fit(frame, frame.to_numpy() @ np.arange(1, len(FEATURES) + 1))
    path = workdir / "model"
    headwater.save_model(model, path, input_example=frame.iloc[:3])
    return model, path


def command(system: str, model_path: Path, port: int) -> list[str]:
    bin_dir = Path(sys.executable).parent
    if system == HEADWATER:
        return [str(bin_dir / "headwater"), "models", "serve", "-m", str(model_path), "-p", str(port), "-w", "1"]
    return [str(bin_dir / "mlflow"), "models", "serve", "-m", str(model_path), "-p", str(port), "-w", "1",
            "--env-manager", "local"]


class Server:
    """One scoring server process, in its own session so stopping it ends its workers too."""

    def __init__(self, system: str, model_path: Path, workdir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        self.log_path = workdir / f"{system}-{self.port}.log"
        self.started = time.perf_counter()
        with open(self.log_path, "wb") as out:
            self.process = subprocess.Popen(command(system, model_path, self.port), stdout=out,
                                            stderr=subprocess.STDOUT, env=env, start_new_session=True)

    def first_prediction(self, body: bytes, timeout: float = 180.0) -> float:
        """Seconds from launch to the first 200 from /invocations."""
        session = requests.Session()
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                answer = session.post(f"{self.url}/invocations", data=body,
                                      headers={"Content-Type": "application/json"}, timeout=5)
                if answer.status_code == 200:
                    return time.perf_counter() - self.started
            except requests.ConnectionError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"no prediction within {timeout}s:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(timeout=5)


def body_for(rows: np.ndarray) -> bytes:
    return json.dumps({"dataframe_split": {"columns": FEATURES, "data": rows.tolist()}}).encode()


def load(url: str, bodies: list[bytes], expected: list[np.ndarray], clients: int) -> tuple[float, list[float]]:
    """Send every body (spread over ``clients`` threads); returns (requests/s, latencies)."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    host, port = url.removeprefix("http://").split(":")

    def worker(indices: list[int]) -> None:
        # http.client on one keep-alive connection: the lightest client, so the servers, not it, set the pace.
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        headers = {"Content-Type": "application/json"}
        mine, answers = [], []
        for i in indices:
            start = time.perf_counter()
            connection.request("POST", "/invocations", body=bodies[i], headers=headers)
            response = connection.getresponse()
            payload = response.read()
            mine.append(time.perf_counter() - start)
            answers.append((i, response.status, payload))
        connection.close()
        for i, status, payload in answers:  # checked after the timed loop
            if status != 200 or not np.allclose(json.loads(payload)["predictions"], expected[i]):
                with lock:
                    errors.append(f"{status}: {payload[:200]!r}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(list(range(c, len(bodies), clients)),)) for c in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"{len(errors)} wrong answers from {url}, e.g. {errors[0]}")
    return len(bodies) / elapsed, latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> Path:
    args = parse_args(argv)
    quiet_mlflow()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench-scoring-"))
    workdir.mkdir(parents=True, exist_ok=True)
    model, model_path = make_model(workdir)
    rng = np.random.default_rng(1)
    single_rows = [rng.normal(size=(1, len(FEATURES))) for _ in range(args.single)]
    batches = [rng.normal(size=(args.batch_rows, len(FEATURES))) for _ in range(args.batches)]
    import pandas as pd

    def predict(rows: np.ndarray) -> np.ndarray:
        return model.predict(pd.DataFrame(rows, columns=FEATURES))

    report = Report("scoring", list(SYSTEMS), ["mlflow"], vars(args))
    cold = report.add(Row("cold start to first prediction", "s (p50)", False,
                          goal=Goal("mlflow", 2.0, "at most half of MLflow's")))
    single_rate = report.add(Row("single-row requests", "requests/s", True,
                                 goal=Goal("mlflow", 3.0, "3x MLflow's request rate")))
    single_p99 = report.add(Row("single-row requests", "s (p99)", False))
    batch_rate = report.add(Row(f"{args.batch_rows}-row batches", "requests/s", True))
    batch_p50 = report.add(Row(f"{args.batch_rows}-row batches", "s (p50)", False))
    first_body = body_for(single_rows[0])
    # Cold starts alternate between the systems, so a busy moment of the machine hits both alike.
    starts: dict[str, list[float]] = {system: [] for system in SYSTEMS}
    for _ in range(args.cold_starts):
        for system in SYSTEMS:
            server = Server(system, model_path, workdir)
            try:
                starts[system].append(server.first_prediction(first_body))
            finally:
                server.stop()
    for system in SYSTEMS:
        cold.values[system] = statistics.median(starts[system])
    log("cold starts: " + ", ".join(f"{s} {cold.values[s]:.2f}s" for s in SYSTEMS))
    # Throughput: both servers up, rounds alternating between them; the median round counts.
    servers = {system: Server(system, model_path, workdir) for system in SYSTEMS}
    try:
        for server in servers.values():
            server.first_prediction(first_body)
        single_bodies = [body_for(r) for r in single_rows]
        single_expected = [predict(r) for r in single_rows]
        batch_bodies = [body_for(b) for b in batches]
        batch_expected = [predict(b) for b in batches]
        rounds = max(1, args.rounds)
        single: dict[str, list[tuple[float, list[float]]]] = {system: [] for system in SYSTEMS}
        batch: dict[str, list[tuple[float, list[float]]]] = {system: [] for system in SYSTEMS}
        for r in range(rounds):
            part = slice(r, None, rounds)
            for system, server in servers.items():
                single[system].append(load(server.url, single_bodies[part], single_expected[part], args.clients))
                batch[system].append(load(server.url, batch_bodies[part], batch_expected[part], 1))
            log(f"round {r + 1}/{rounds}: " + ", ".join(f"{s} {single[s][-1][0]:.0f} req/s" for s in SYSTEMS))
        for system in SYSTEMS:
            single_rate.values[system] = statistics.median(rate for rate, _ in single[system])
            single_p99.values[system] = percentile([x for _, lat in single[system] for x in lat], 0.99)
            batch_rate.values[system] = statistics.median(rate for rate, _ in batch[system])
            batch_p50.values[system] = statistics.median([x for _, lat in batch[system] for x in lat])
    finally:
        for server in servers.values():
            server.stop()
    report.notes.append(f"{args.clients} client threads (http.client, keep-alive) for single rows, one for batches;"
                        f" one server worker each; {args.rounds} alternating rounds, median round reported")
    report.print()
    path = report.write()
    print(f"results: {path}")
    return path


if __name__ == "__main__":
    main()
