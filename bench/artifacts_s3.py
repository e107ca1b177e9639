"""Artifacts through the server's proxy into S3, Headwater beside MLflow; and the cost of auth.

    python -m bench.artifacts_s3            # 1 MB, 100 MB and 1,000 x 10 KB files
    python -m bench.artifacts_s3 --quick    # a smoke run (smaller files, fewer repeats)

One S3-compatible server (moto's standalone server, a subprocess) holds the
buckets of both systems, so both pay the same storage costs:

- ``headwater``: ``headwater server --workers N --artifacts-destination s3://…``
- ``mlflow``: ``mlflow server --workers N --artifacts-destination s3://…`` (N = ``--workers``, 1)

Each workload PUTs (uploads) and GETs (downloads) files through
``/api/2.0/mlflow-artifacts/artifacts/…`` with the same HTTP client, as
MLflow's and Headwater's clients do: one file at a time for the big files,
8 at a time for the small ones. Throughput is payload MB/s (higher is better).

Auth overhead: ``log_metric`` one call at a time against two Headwater
servers on the same kind of database, one without auth and one with
``--app-name basic-auth`` (Basic credentials, then a Bearer token), in
alternating rounds so drifts in machine load hit both alike.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import requests

from bench.common import HEADWATER, Goal, Report, Row, log, quiet_mlflow

BIN = Path(sys.executable).parent
MB = 1024 * 1024
ADMIN = ("admin", "Bench-Root-Pass-1")

# One worker each by default: on a small, busy machine uvicorn's supervisor kills workers that are
# slow to import (MLflow's especially), and single transfers do not use more than one anyway.
FULL = {"small_count": 1000, "small_kb": 10, "medium_count": 20, "big_mb": 100, "big_count": 2,
        "metric_calls": 300, "rounds": 21, "workers": 1}
QUICK = {"small_count": 100, "small_kb": 10, "medium_count": 5, "big_mb": 20, "big_count": 1,
         "metric_calls": 100, "rounds": 3, "workers": 1}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A tracking server subprocess in its own process group."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], folder: Path):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        folder.mkdir(parents=True, exist_ok=True)
        self.log_path = folder / f"{name}.log"
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("HEADWATER_SERVER_", "HEADWATER_AUTH"))}
        full_env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true", **env)
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen([*argv, "--port", str(self.port)], cwd=folder, env=full_env, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)

    def wait(self, auth: Any = None, timeout: float = 600) -> "Server":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_path.read_text(errors='replace')[-3000:]}")
            try:
                answer = requests.get(f"{self.url}/api/2.0/mlflow/experiments/get", params={"experiment_id": "0"},
                                      auth=auth, timeout=5)
                if answer.status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start: {self.log_path.read_text(errors='replace')[-3000:]}")

    def stop(self) -> None:
        import signal

        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


# -- artifact throughput ------------------------------------------------------------------------
def _throughput(total_bytes: int, seconds: float) -> float:
    return total_bytes / MB / seconds


def _put(session: requests.Session, url: str, path: Path) -> None:
    with open(path, "rb") as body:
        answer = session.put(url, data=body, timeout=600)
    answer.raise_for_status()


def _get(session: requests.Session, url: str, expected: int) -> None:
    got = 0
    with session.get(url, stream=True, timeout=600) as answer:
        answer.raise_for_status()
        for chunk in answer.iter_content(1 << 20):
            got += len(chunk)
    if got != expected:
        raise RuntimeError(f"{url}: {got} bytes instead of {expected}")


def measure_artifacts(server: Server, files: dict[str, list[Path]], threads: int = 8) -> dict[str, float]:
    """MB/s of uploading then downloading each set of files through the server's proxy."""
    base = f"{server.url}/api/2.0/mlflow-artifacts/artifacts/1/{uuid.uuid4().hex}/artifacts"
    out: dict[str, float] = {}
    for label, paths in files.items():
        size = sum(p.stat().st_size for p in paths)
        urls = [f"{base}/{label}/{i}-{p.name}" for i, p in enumerate(paths)]
        sessions = [requests.Session() for _ in range(threads)]
        parallel = threads if len(paths) > 100 else 1

        def each(action: Callable[[requests.Session, int], None]) -> float:
            start = time.perf_counter()
            if parallel == 1:
                for i in range(len(paths)):
                    action(sessions[0], i)
            else:
                with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
                    list(pool.map(lambda i: action(sessions[i % parallel], i), range(len(paths))))
            return time.perf_counter() - start

        out[f"upload {label}"] = _throughput(size, each(lambda s, i: _put(s, urls[i], paths[i])))
        out[f"download {label}"] = _throughput(
            size, each(lambda s, i: _get(s, urls[i], paths[i].stat().st_size)))
        for session in sessions:
            session.close()
    return out


# -- auth overhead -----------------------------------------------------------------------------------
def measure_log_metric(url: str, calls: int, auth: Any = None, headers: dict[str, str] | None = None) -> float:
    """log_metric calls per second, one at a time, over one keep-alive connection."""
    with requests.Session() as session:
        session.trust_env = False  # no per-request ~/.netrc lookups, which would favour the Basic runs
        session.auth = auth
        session.headers.update(headers or {})
        run = session.post(f"{url}/api/2.0/mlflow/runs/create", json={"experiment_id": "0"}, timeout=30)
        run.raise_for_status()
        run_id = run.json()["run"]["info"]["run_id"]
        start = time.perf_counter()
        for step in range(calls):
            answer = session.post(f"{url}/api/2.0/mlflow/runs/log-metric", timeout=30, json={
                "run_id": run_id, "key": "loss", "value": step * 0.5, "timestamp": 1_700_000_000_000 + step,
                "step": step})
            if answer.status_code != 200:
                raise RuntimeError(answer.text)
        return calls / (time.perf_counter() - start)


def _files(folder: Path, args: argparse.Namespace) -> dict[str, list[Path]]:
    folder.mkdir(parents=True, exist_ok=True)

    def make(name: str, size: int) -> Path:
        path = folder / name
        with open(path, "wb") as out:
            left = size
            while left:
                chunk = min(left, 4 * MB)
                out.write(os.urandom(chunk))
                left -= chunk
        return path

    return {
        "1MB": [make(f"one-{i}.bin", MB) for i in range(args.medium_count)],
        f"{args.big_mb}MB": [make(f"big-{i}.bin", args.big_mb * MB) for i in range(args.big_count)],
        f"{args.small_count}x{args.small_kb}KB": [make(f"small-{i}.bin", args.small_kb * 1024)
                                                  for i in range(args.small_count)],
    }


def run(args: argparse.Namespace) -> Report:
    from headwater_artifacts_s3.testing import start_moto

    quiet_mlflow()
    report = Report(benchmark="artifacts_s3", systems=[HEADWATER, "mlflow", "headwater-noauth"],
                    compare_to=["mlflow", "headwater-noauth"],
                    options={k: v for k, v in vars(args).items() if k != "workdir"})
    with tempfile.TemporaryDirectory(prefix="bench-s3-", dir=args.workdir) as tmp:
        root = Path(tmp)
        moto = start_moto(root)
        servers: list[Server] = []
        try:
            if args.only != "auth":
                measure_proxies(root, moto, args, report, servers)
            if args.only != "artifacts":
                measure_auth(root, args, report, servers)
                measure_auth_cpu(root, args, report)
        finally:
            for server in servers:
                server.stop()
            moto.stop()
    report.notes.append("S3 server: moto's standalone server on loopback (one process, in memory); it bounds both "
                        "systems' throughput alike")
    report.notes.append(f"both proxies run --workers {args.workers}; big files go one at a time, small ones 8 at a time")
    return report


def measure_proxies(root: Path, moto: Any, args: argparse.Namespace, report: Report, servers: list[Server]) -> None:
    s3 = moto.client()
    for bucket in ("bench-headwater", "bench-mlflow"):
        s3.create_bucket(Bucket=bucket)
    env = moto.environment()
    log("generating files")
    files = _files(root / "files", args)
    hw = Server("headwater", [str(BIN / "headwater"), "server", "--backend-store-uri",
                              f"sqlite:///{root / 'hw.db'}", "--workers", str(args.workers),
                              "--artifacts-destination", "s3://bench-headwater/a"], env, root / "hw")
    ml = Server("mlflow", [str(BIN / "mlflow"), "server", "--backend-store-uri",
                           f"sqlite:///{root / 'ml.db'}", "--workers", str(args.workers),
                           "--artifacts-destination", "s3://bench-mlflow/a"], env, root / "ml")
    servers += [hw, ml]
    hw.wait(), ml.wait()
    results: dict[str, dict[str, float]] = {}
    for server in (hw, ml):
        log(f"artifacts through {server.name}'s proxy")
        results[server.name] = measure_artifacts(server, files)
    for workload in results[HEADWATER]:
        report.add(Row(workload=f"proxy to S3: {workload}", measure="MB/s", higher_is_better=True,
                       values={HEADWATER: results[HEADWATER][workload], "mlflow": results["mlflow"][workload]},
                       goal=Goal("mlflow", 2.0, "at least 2x MLflow's proxy")))
    for server in (hw, ml):
        server.stop()
        servers.remove(server)


def measure_auth(root: Path, args: argparse.Namespace, report: Report, servers: list[Server]) -> None:
    log("auth overhead on log_metric")
    plain = Server("headwater-noauth", [str(BIN / "headwater"), "server", "--backend-store-uri",
                                        f"sqlite:///{root / 'plain.db'}"], {}, root / "plain")
    authed = Server("headwater-auth", [str(BIN / "headwater"), "server", "--backend-store-uri",
                                       f"sqlite:///{root / 'auth.db'}", "--app-name", "basic-auth"],
                    {"HEADWATER_AUTH_ADMIN_PASSWORD": ADMIN[1]}, root / "auth")
    servers += [plain, authed]
    plain.wait(), authed.wait(auth=ADMIN)
    token = requests.post(f"{authed.url}/api/2.0/mlflow/users/tokens/create", auth=ADMIN, timeout=30,
                          json={"expires_in_days": 1}).json()["token"]
    callers: dict[str, Callable[[int], float]] = {
        "noauth": lambda n: measure_log_metric(plain.url, n),
        "basic": lambda n: measure_log_metric(authed.url, n, ADMIN),
        "bearer": lambda n: measure_log_metric(authed.url, n, headers={"Authorization": f"Bearer {token}"}),
    }
    for call in callers.values():
        call(50)  # warm up
    rates: dict[str, list[float]] = {kind: [] for kind in callers}
    order = list(callers)
    for index in range(args.rounds):  # short rounds in rotating order, so drifts in load hit all alike
        for kind in order[index % 3:] + order[:index % 3]:
            rates[kind].append(callers[kind](args.metric_calls))
    plain_median = statistics.median(rates["noauth"])
    for kind in ("basic", "bearer"):
        # Each round's rate over the no-auth rate of the same round; the median of those ratios.
        ratio = statistics.median(a / b for a, b in zip(rates[kind], rates["noauth"]))
        report.add(Row(workload=f"log_metric with auth ({kind})", measure="calls/s", higher_is_better=True,
                       values={HEADWATER: plain_median * ratio, "headwater-noauth": plain_median},
                       detail={"rounds": rates},
                       goal=Goal("headwater-noauth", 0.95, "under 5% overhead from authentication")))
        report.notes.append(f"auth overhead on log_metric ({kind}): {(1 / ratio - 1) * 100:+.1f}% "
                            f"(median of {args.rounds} paired rounds of {args.metric_calls} calls)")


def cpu_probe(mode: str, folder: str, calls: int) -> float:
    """CPU microseconds (whole process, all threads) per log_metric call through the app in-process.

    CPU time, unlike wall time, is barely moved by other load on the machine, so this
    isolates what authentication adds to the server's work per request.
    """
    import asyncio
    import base64

    import httpx

    if mode == "auth":
        os.environ.update(HEADWATER_AUTH="1", HEADWATER_AUTH_ADMIN_PASSWORD=ADMIN[1])
    from headwater_server.app import create_app

    app = create_app(f"sqlite:///{folder}/{mode}.db", artifacts_destination=f"{folder}/artifacts")
    headers = {"host": "localhost"}
    if mode == "auth":
        headers["authorization"] = "Basic " + base64.b64encode(f"{ADMIN[0]}:{ADMIN[1]}".encode()).decode()

    async def measure() -> float:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost", headers=headers) as client:
            run = (await client.post("/api/2.0/mlflow/runs/create", json={"experiment_id": "0"})).json()
            run_id = run["run"]["info"]["run_id"]
            best = float("inf")
            for repeat in range(4):  # the first warms up; the least disturbed of the others counts
                start = time.process_time()
                for step in range(calls):
                    answer = await client.post("/api/2.0/mlflow/runs/log-metric", json={
                        "run_id": run_id, "key": "loss", "value": step / 2, "timestamp": step, "step": step})
                    if answer.status_code != 200:
                        raise RuntimeError(answer.text)
                if repeat:
                    best = min(best, (time.process_time() - start) / calls * 1e6)
            return best

    return asyncio.run(measure())


def measure_auth_cpu(root: Path, args: argparse.Namespace, report: Report) -> None:
    log("auth CPU cost per log_metric call (in-process)")
    cpu: dict[str, float] = {}
    for mode in ("noauth", "auth"):
        folder = root / f"cpu-{mode}"
        folder.mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_AUTH")}
        done = subprocess.run([sys.executable, "-m", "bench.artifacts_s3", "--cpu-probe", mode, "--workdir",
                               str(folder), "--metric-calls", str(args.metric_calls * 3)],
                              env={**env, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"},
                              capture_output=True, text=True, check=True)
        cpu[mode] = float(done.stdout.strip().splitlines()[-1])
    report.add(Row(workload="log_metric server CPU with auth (basic)", measure="us CPU/call", higher_is_better=False,
                   values={HEADWATER: cpu["auth"], "headwater-noauth": cpu["noauth"]},
                   goal=Goal("headwater-noauth", 1 / 1.05, "under 5% overhead from authentication")))
    report.notes.append(f"auth CPU overhead per log_metric call: {(cpu['auth'] / cpu['noauth'] - 1) * 100:+.1f}% "
                        f"({cpu['auth']:.0f} vs {cpu['noauth']:.0f} us of CPU, whole app in-process)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.artifacts_s3", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    for name, value in FULL.items():
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=type(value))
    parser.add_argument("--workdir", help="folder for databases, files and logs (default: a temporary one)")
    parser.add_argument("--only", choices=("artifacts", "auth"), help="run one part only")
    parser.add_argument("--cpu-probe", choices=("auth", "noauth"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for name, value in (QUICK if args.quick else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.cpu_probe:  # internal: one in-process measurement, in a fresh process
        print(f"{cpu_probe(args.cpu_probe, args.workdir, args.metric_calls):.1f}")
        return
    report = run(args)
    path = report.write()
    report.print()
    print(f"results: {path}")


if __name__ == "__main__":
    main()
