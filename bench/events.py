"""Observers on the tracking server: what durable event delivery costs the API, and how late it is.

    python -m bench.events            # the full sizes
    python -m bench.events --quick    # a smoke run of well under a minute

Three configurations of ``headwater server`` (one uvicorn worker, SQLite), each
on a database of its own:

- ``none``: no observer installed and enabled;
- ``audit``: the audit log (``HEADWATER_AUDIT_LOG``);
- ``audit+webhooks+broker``: the audit log, a webhook subscribed to metric and
  batch events posting to a receiver on loopback, and the NATS JetStream
  publisher (``HEADWATER_NATS_URL``): three delivery lanes.

The webhook subscribes to run and model-version lifecycle events (created,
updated), as webhooks are used, so under the metric load its lane has little
to send; the audit log and the broker take every event.

Workloads: ``log_metric`` (N clients, one metric per request) and
``log_batch`` (N clients, 100 metrics per request). Throughput counts what the
clients got answered; the rows "share of the no-observer rate" are the goal of
issue 6 (at least 90 %). Outbox lag is measured by a NATS subscriber on the
broker's subjects: the time from an event's timestamp (taken just before its
transaction commits) to the subscriber getting it, over every event of the
load; the goal is p99 under one second. "drain" is how long after the last
request every lane was delivered through the end of the outbox. Because this
machine may be busy with other work, the server's CPU time per request is
reported too (psutil): the observers' cost in CPU, delivery threads included.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from bench.common import Report, Row, log, quiet_mlflow
from bench.processes import free_port

NONE, AUDIT, ALL = "none", "audit", "audit+webhooks+broker"
SYSTEMS = (NONE, AUDIT, ALL)
NATS_URL = "nats://127.0.0.1:4222"

FULL = {"clients": 4, "metrics_per_client": 1000, "batches_per_client": 60, "batch_size": 100, "rounds": 3}
QUICK = {"clients": 2, "metrics_per_client": 60, "batches_per_client": 5, "batch_size": 100, "rounds": 1}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.events", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    for name in FULL:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=int)
    parser.add_argument("--workdir", help="folder for databases and server logs (default: a temporary one)")
    args = parser.parse_args(argv)
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


# -- the webhook receiver ----------------------------------------------------------------------
class Receiver:
    """Records each delivery's lag: arrival time minus the event's timestamp."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.count = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                arrived = time.time()
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                sent = dt.datetime.fromisoformat(body["timestamp"]).timestamp()
                with receiver.lock:
                    receiver.lags.append(arrived - sent)
                    receiver.count += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"

    def reset(self) -> None:
        with self.lock:
            self.lags, self.count = [], 0

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class NatsLag:
    """Subscribes to the broker's subjects; records each event's lag (arrival minus event timestamp)."""

    def __init__(self, subjects: str):
        self.lags: list[float] = []
        self.count = 0
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._subscribe(subjects), self._loop).result(10)

    async def _subscribe(self, subjects: str) -> None:
        import nats

        self._client = await nats.connect(NATS_URL)

        async def on_message(message: Any) -> None:
            arrived = time.time()
            body = json.loads(message.data)
            self.lags.append(arrived - body["timestamp"] / 1000)
            self.count += 1

        await self._client.subscribe(subjects, cb=on_message)

    def reset(self) -> None:
        self.lags, self.count = [], 0

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._client.close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)


# -- servers -------------------------------------------------------------------------------------
class Server:
    def __init__(self, system: str, workdir: Path, stream: str):
        self.system = system
        self.folder = workdir / system.replace("+", "_")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.db = f"sqlite:///{self.folder / 'tracking.db'}"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/api/2.0/mlflow"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HEADWATER_AUDIT", "HEADWATER_NATS"))}
        env.update(HEADWATER_WEBHOOK_ALLOWED_NETWORKS="127.0.0.1/32")
        if system in (AUDIT, ALL):
            env["HEADWATER_AUDIT_LOG"] = str(self.folder / "audit.jsonl")
        if system == ALL:
            env.update(HEADWATER_NATS_URL=NATS_URL, HEADWATER_NATS_STREAM=stream,
                       HEADWATER_NATS_SUBJECT_PREFIX=f"bench.{stream.lower()}")
        self.log = open(self.folder / "server.log", "wb")
        bin_dir = Path(sys.executable).parent
        self.proc = subprocess.Popen(
            [str(bin_dir / "headwater"), "server", "--backend-store-uri", self.db, "--port", str(self.port),
             "--artifacts-destination", str(self.folder / "artifacts")],
            cwd=self.folder, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/health", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{system} server did not start: {(self.folder / 'server.log').read_text()[-2000:]}")

    def call(self, path: str, body: dict[str, Any], session: requests.Session | None = None) -> Any:
        response = (session or requests).post(f"{self.base}/{path}", json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    def lanes_caught_up(self) -> bool:
        done = subprocess.run(
            [str(Path(sys.executable).parent / "headwater"), "events", "status", "--json", "--backend-store-uri",
             self.db], capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            return False
        state = json.loads(done.stdout)
        return state["unrouted"] == 0 and all(lane["lag"] == 0 for lane in state["lanes"])

    def cpu_seconds(self) -> float:
        """CPU seconds of the server process so far (user + system): barely moved by other load."""
        import psutil

        times = psutil.Process(self.proc.pid).cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


# -- workloads -----------------------------------------------------------------------------------
def run_clients(clients: int, work: Any) -> float:
    """Run ``work(client_index, session)`` on ``clients`` threads; the wall-clock seconds."""
    errors: list[BaseException] = []

    def target(index: int) -> None:
        try:
            with requests.Session() as session:
                work(index, session)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - started


def log_metrics(server: Server, runs: list[str], per_client: int) -> float:
    def work(index: int, session: requests.Session) -> None:
        run = runs[index]
        for step in range(per_client):
            server.call("runs/log-metric", {"run_id": run, "key": "loss", "value": 1.0 / (step + 1),
                                            "timestamp": 1, "step": step}, session)

    return run_clients(len(runs), work)


def log_batches(server: Server, runs: list[str], per_client: int, size: int) -> float:
    def work(index: int, session: requests.Session) -> None:
        run = runs[index]
        for batch in range(per_client):
            metrics = [{"key": f"m{i % 10}", "value": float(i), "timestamp": 1, "step": batch * size + i}
                       for i in range(size)]
            server.call("runs/log-batch", {"run_id": run, "metrics": metrics}, session)

    return run_clients(len(runs), work)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(system: str, args: argparse.Namespace, workdir: Path, receiver: Receiver, stream: str) -> dict[str, Any]:
    server = Server(system, workdir, stream)
    try:
        if system == ALL:
            server.call("webhooks", {"name": "bench", "url": receiver.url, "events": [
                {"entity": "run", "action": "created"}, {"entity": "run", "action": "updated"},
                {"entity": "model_version", "action": "created"}]})
            time.sleep(2)  # the new webhook reaches the dispatcher
        experiment = server.call("experiments/create", {"name": f"bench-{uuid.uuid4().hex[:6]}"})["experiment_id"]
        runs = [server.call("runs/create", {"experiment_id": experiment})["run"]["info"]["run_id"]
                for _ in range(args.clients)]
        # Warm up the connection pools and the lanes.
        log_metrics(server, runs, 5)
        time.sleep(1)
        receiver.reset()
        lag = NatsLag(f"bench.{stream.lower()}.>") if system == ALL else None
        out: dict[str, Any] = {}
        cpu = server.cpu_seconds()
        seconds = log_metrics(server, runs, args.metrics_per_client)
        out["log_metric"] = args.clients * args.metrics_per_client / seconds
        cpu_metric = server.cpu_seconds() - cpu
        cpu = server.cpu_seconds()
        seconds = log_batches(server, runs, args.batches_per_client, args.batch_size)
        out["log_batch"] = args.clients * args.batches_per_client * args.batch_size / seconds
        out["log_batch_requests"] = args.clients * args.batches_per_client / seconds
        ended = time.perf_counter()
        deadline = time.monotonic() + 120
        while not server.lanes_caught_up() and time.monotonic() < deadline:
            time.sleep(0.2)
        out["drain"] = time.perf_counter() - ended
        # Server CPU per request, delivery included (measured until the lanes caught up after log_batch;
        # log_metric's delivery finishes during the batch load and is counted there).
        out["cpu_log_metric"] = cpu_metric / (args.clients * args.metrics_per_client) * 1e3
        out["cpu_log_batch"] = (server.cpu_seconds() - cpu) / (args.clients * args.batches_per_client) * 1e3
        if lag is not None:
            expected = args.clients * (args.metrics_per_client + args.batches_per_client)
            while lag.count < expected and time.monotonic() < deadline:
                time.sleep(0.1)
            out["lags"] = list(lag.lags)
            out["broker_messages"] = lag.count
            out["broker_expected"] = expected
            lag.close()
            for run in runs:  # the webhook's events
                server.call("runs/update", {"run_id": run, "status": "FINISHED"})
            while receiver.count < len(runs) and time.monotonic() < deadline:
                time.sleep(0.1)
            out["webhook_deliveries"] = receiver.count
        return out
    finally:
        server.stop()


async def _delete_stream(stream: str) -> None:
    import nats

    client = await nats.connect(NATS_URL)
    try:
        await client.jetstream().delete_stream(stream)
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> None:
    quiet_mlflow()
    args = parse_args(argv)
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bench-events-"))
    workdir.mkdir(parents=True, exist_ok=True)
    stream = f"BENCH_{uuid.uuid4().hex[:8].upper()}"
    receiver = Receiver()
    report = Report("events", list(SYSTEMS), [], {"quick": args.quick, **{k: getattr(args, k) for k in FULL}})
    rounds: dict[str, list[dict[str, Any]]] = {system: [] for system in SYSTEMS}
    try:
        # Rounds in turn, each system's order rotated: a busy spell of the machine falls on all of them.
        for number in range(args.rounds):
            order = SYSTEMS[number % len(SYSTEMS):] + SYSTEMS[:number % len(SYSTEMS)]
            for system in order:
                log(f"round {number + 1}: measuring {system}")
                rounds[system].append(measure(system, args, workdir / f"round{number}", receiver, stream))
    finally:
        receiver.close()
        try:
            asyncio.run(_delete_stream(stream))
        except Exception:  # the stream may not exist if the run failed early
            pass

    results: dict[str, dict[str, Any]] = {}
    for system, measured in rounds.items():
        results[system] = {key: statistics.median(m[key] for m in measured)
                           for key in ("log_metric", "log_batch", "log_batch_requests", "drain", "cpu_log_metric",
                                       "cpu_log_batch")}
        if system == ALL:
            results[system]["lags"] = [lag for m in measured for lag in m["lags"]]
            for key in ("broker_messages", "broker_expected", "webhook_deliveries"):
                results[system][key] = sum(m[key] for m in measured)
    report.notes.append(f"figures are medians of {args.rounds} round(s); lags are over every round's events")

    def row(workload: str, measure_name: str, key: str, higher: bool = True) -> Row:
        return report.add(Row(workload, measure_name, higher, {s: results[s][key] for s in SYSTEMS}))

    row("log_metric", "requests/s", "log_metric")
    row("log_batch", "metrics/s", "log_batch")
    row("log_batch", "requests/s", "log_batch_requests")
    for workload, key in (("log_metric", "log_metric"), ("log_batch", "log_batch")):
        base = results[NONE][key]
        report.add(Row(workload, "share of the no-observer rate (goal >= 0.90)", True,
                       {s: results[s][key] / base for s in SYSTEMS}))
    row("log_metric", "server CPU ms per request", "cpu_log_metric", higher=False)
    row("log_batch", "server CPU ms per request (incl. catching up)", "cpu_log_batch", higher=False)
    for workload, key in (("log_metric", "cpu_log_metric"), ("log_batch", "cpu_log_batch")):
        base = results[NONE][key]
        report.add(Row(workload, "no-observer CPU / this CPU per request", True,
                       {s: base / results[s][key] for s in SYSTEMS}))
    row("after the load", "s until every lane caught up (drain)", "drain", higher=False)
    lags = results[ALL]["lags"]
    if lags:
        report.add(Row("outbox lag (broker subscriber)", "s p50", False, {ALL: statistics.median(lags)},
                       detail={"events": len(lags)}))
        report.add(Row("outbox lag (broker subscriber)", "s p99 (goal < 1)", False, {ALL: percentile(lags, 0.99)},
                       detail={"events": len(lags)}))
    report.notes.append(
        f"broker messages received: {results[ALL]['broker_messages']} of {results[ALL]['broker_expected']};"
        f" webhook deliveries (run updates): {results[ALL]['webhook_deliveries']} of {args.clients * args.rounds}")
    report.print()
    print(f"results: {report.write()}")


if __name__ == "__main__":
    main()
