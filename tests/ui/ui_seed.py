"""Seeding a live server with browsable data through its REST API.

Used by the UI tests (small, with script payloads in every user-supplied
field) and by ``bench/ui.py``'s smoke mode.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

import requests

# Each payload sets window.__xss if a browser ever runs it.
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>'
XSS_ATTR = '"><svg onload="window.__xss=1">'
XSS_LINK = "javascript:window.__xss=1"
XSS_BARE = "<img src=x onerror=window.__xss=1><script>window.__xss=1</script>"  # for quoted contexts (YAML, JSON)


@dataclass
class Seeded:
    experiment_id: str
    runs: dict[str, str] = field(default_factory=dict)  # name -> run id
    xss_experiment_id: str = ""
    xss_run_id: str = ""
    paging_experiment_id: str = ""
    model_name: str | None = None
    xss_model_name: str | None = None


class Api:
    def __init__(self, base_url: str):
        self.base = base_url.rstrip("/")
        self.session = requests.Session()

    def call(self, method: str, path: str, body: dict | None = None, **params: Any) -> dict:
        url = f"{self.base}/api/2.0/mlflow/{path}"
        response = self.session.request(method, url, json=body, params=params or None, timeout=120)
        if response.status_code != 200:
            raise AssertionError(f"{method} {path} -> {response.status_code}: {response.text}")
        return response.json() if response.content else {}

    def post(self, path: str, body: dict) -> dict:
        return self.call("POST", path, body)

    def put_artifact(self, run: dict, path: str, data: bytes) -> None:
        root = run["info"]["artifact_uri"]
        assert root.startswith("mlflow-artifacts:/"), root
        url = f"{self.base}/api/2.0/mlflow-artifacts/artifacts/{root[len('mlflow-artifacts:/'):].strip('/')}/{path}"
        response = self.session.put(url, data=data, timeout=120)
        assert response.status_code == 200, response.text


def _metrics(key: str, n: int, start: int, fn) -> list[dict]:
    return [{"key": key, "value": fn(i), "timestamp": start + i * 1000, "step": i} for i in range(n)]


def _batch(api: Api, run_id: str, metrics=(), params=(), tags=()) -> None:
    metrics = list(metrics)
    for i in range(0, max(len(metrics), 1), 900):
        api.post("runs/log-batch", {"run_id": run_id, "metrics": metrics[i : i + 900],
                                    "params": list(params) if i == 0 else [], "tags": list(tags) if i == 0 else []})


MLMODEL = """artifact_path: model
flavors:
  python_function:
    loader_module: headwater.pyfunc
    python_version: 3.11.4
  sklearn:
    pickled_model: model.pkl
    sklearn_version: 1.5.0
run_id: {run_id}
signature:
  inputs: '[{{"type": "double", "name": "sepal_length", "required": true}}, {{"type": "string", "name": "{name}", "required": true}}]'
  outputs: '[{{"type": "long", "required": true}}]'
utc_time_created: '2024-05-01 10:00:00.000000'
"""


def seed(base_url: str, prefix: str = "ui") -> Seeded:
    api = Api(base_url)
    now = int(time.time() * 1000) - 3_600_000
    exp_id = api.post("experiments/create", {"name": f"{prefix}-experiment", "tags": [{"key": "team", "value": "vision"}]})["experiment_id"]
    out = Seeded(experiment_id=exp_id)
    models = ["ridge", "lasso", "forest", "boost"]
    for i in range(12):
        name = f"run-{i:02d}"
        run = api.post("runs/create", {"experiment_id": exp_id, "run_name": name, "start_time": now + i * 60_000,
                                       "tags": [{"key": "mlflow.user", "value": "ana"},
                                                {"key": "mlflow.source.name", "value": "train.py"}]})["run"]
        rid = run["info"]["run_id"]
        out.runs[name] = rid
        lr = 0.001 * (i + 1)
        _batch(api, rid,
               metrics=_metrics("loss", 50, now + i * 60_000, lambda s, i=i: 1.0 / (1 + s) + i * 0.01)
               + [{"key": "accuracy", "value": 0.5 + i * 0.04, "timestamp": now + i * 60_000, "step": 0}],
               params=[{"key": "model", "value": models[i % 4]}, {"key": "lr", "value": str(lr)},
                       {"key": "depth", "value": str(2 + i % 5)}],
               tags=[{"key": "stage", "value": "dev" if i % 2 else "prod"}])
        api.post("runs/update", {"run_id": rid, "status": "FINISHED", "end_time": now + i * 60_000 + 30_000 + i * 1000})
    # Nested runs under run-00.
    parent = out.runs["run-00"]
    for j in range(2):
        child = api.post("runs/create", {"experiment_id": exp_id, "run_name": f"child-{j}", "start_time": now + 1000 + j,
                                         "tags": [{"key": "mlflow.parentRunId", "value": parent}]})["run"]
        out.runs[f"child-{j}"] = child["info"]["run_id"]
    # A long metric with a spike, to see the downsampling keep it.
    long_run = api.post("runs/create", {"experiment_id": exp_id, "run_name": "long-history", "start_time": now - 10_000})["run"]
    out.runs["long-history"] = long_run["info"]["run_id"]
    _batch(api, long_run["info"]["run_id"],
           metrics=_metrics("loss", 20_000, now, lambda s: (100.0 if s == 12_345 else math.sin(s / 500))))
    # Artifacts of run-01: text, JSON, YAML, CSV, an image and a model.
    run01 = api.call("GET", "runs/get", run_id=out.runs["run-01"])["run"]
    api.put_artifact(run01, "notes.txt", b"plain notes\nline two\n")
    api.put_artifact(run01, "config.json", json.dumps({"lr": 0.01, "layers": [64, 32]}).encode())
    api.put_artifact(run01, "conf/params.yaml", b"lr: 0.01\nbatch: 32\n")
    api.put_artifact(run01, "data/table.csv", b"a,b,c\n1,2,3\n4,5,6\n")
    api.put_artifact(run01, "plot.png", _PNG)
    api.put_artifact(run01, "model/MLmodel", MLMODEL.format(run_id=out.runs["run-01"], name="petal_width").encode())
    # Enough bare runs for three pages of 25.
    out.paging_experiment_id = api.post("experiments/create", {"name": f"{prefix}-paging"})["experiment_id"]
    for i in range(60):
        api.post("runs/create", {"experiment_id": out.paging_experiment_id, "run_name": f"p-{i:02d}", "start_time": now + i})
    _seed_xss(api, out, prefix, now)
    _seed_registry(api, out, prefix)
    return out


def _seed_xss(api: Api, out: Seeded, prefix: str, now: int) -> None:
    """An experiment and run whose every user-supplied field carries a script payload.

    Keys (of params, metrics and tags) may only hold letters, digits and
    ``_-. :/``, so the payloads go into names, values, descriptions, artifact
    names and artifact contents.
    """
    exp_id = api.post("experiments/create", {"name": f"{prefix}-{XSS}", "tags": [{"key": "note", "value": XSS_ATTR}]})["experiment_id"]
    out.xss_experiment_id = exp_id
    run = api.post("runs/create", {"experiment_id": exp_id, "run_name": XSS, "user_id": XSS_ATTR, "start_time": now,
                                   "tags": [{"key": "mlflow.source.name", "value": XSS_LINK},
                                            {"key": "mlflow.note.content", "value": XSS},
                                            {"key": "mlflow.source.git.commit", "value": XSS_ATTR}]})["run"]
    rid = run["info"]["run_id"]
    out.xss_run_id = rid
    out.runs["xss"] = rid
    _batch(api, rid, metrics=[{"key": "score", "value": 1.0, "timestamp": now, "step": 0},
                              {"key": "score", "value": 2.0, "timestamp": now + 1, "step": 1}],
           params=[{"key": "payload", "value": XSS_ATTR}, {"key": "p2", "value": XSS}],
           tags=[{"key": "payload", "value": XSS}, {"key": "link", "value": XSS_LINK}])
    api.put_artifact(run, "evil.html", f"<html><script>window.__xss=1</script>{XSS}</html>".encode())
    api.put_artifact(run, "evil.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="window.__xss=1"><script>window.__xss=1</script></svg>')
    api.put_artifact(run, "evil.csv", _csv([[XSS, XSS_ATTR], [XSS_ATTR, XSS]]))
    api.put_artifact(run, "evil.json", json.dumps({XSS: XSS_ATTR}).encode())
    api.put_artifact(run, "<img src=x onerror=window.__xss=1>.txt", XSS.encode())
    mlmodel = MLMODEL.format(run_id=rid, name=XSS_BARE).replace(
        "python_function:", f"python_function:\n    note: '{XSS_ATTR}'", 1)
    api.put_artifact(run, "model/MLmodel", mlmodel.encode())


XSS_MODEL_NAME = "<img src=x onerror=window.__xss=1>"  # model names may not hold '/' or ':'


def _seed_registry(api: Api, out: Seeded, prefix: str) -> None:
    """A model with three versions of run-01's model (stages, an alias), and one full of payloads."""
    name = f"{prefix}-model"
    api.post("registered-models/create", {"name": name, "description": "Iris classifier",
                                          "tags": [{"key": "task", "value": "classification"}]})
    run_id = out.runs["run-01"]
    run = api.call("GET", "runs/get", run_id=run_id)["run"]
    sources = [f"runs:/{run_id}/model", f"{run['info']['artifact_uri']}/model", f"runs:/{run_id}/model"]
    for source in sources:
        api.post("model-versions/create", {"name": name, "source": source, "run_id": run_id})
    # Version 4 from a logged model (how MLflow 3 clients register models).
    logged = api.post("logged-models", {"experiment_id": out.experiment_id, "name": "iris", "source_run_id": run_id})["model"]
    api.put_artifact({"info": {"artifact_uri": logged["info"]["artifact_uri"]}}, "MLmodel",
                     MLMODEL.format(run_id=run_id, name="logged_feature").encode())
    model_id = logged["info"]["model_id"]
    api.post("model-versions/create", {"name": name, "source": f"models:/{model_id}", "run_id": run_id, "model_id": model_id})
    api.post("model-versions/transition-stage", {"name": name, "version": "2", "stage": "Production",
                                                 "archive_existing_versions": False})
    api.post("registered-models/alias", {"name": name, "alias": "champion", "version": "2"})
    out.model_name = name

    xss_name = f"{prefix}-{XSS_MODEL_NAME}"
    api.post("registered-models/create", {"name": xss_name, "description": XSS, "tags": [{"key": "payload", "value": XSS_ATTR}]})
    api.post("model-versions/create", {"name": xss_name, "source": f"runs:/{out.xss_run_id}/model", "run_id": out.xss_run_id,
                                       "description": XSS, "tags": [{"key": "payload", "value": XSS}]})
    api.post("registered-models/alias", {"name": xss_name, "alias": "best", "version": "1"})
    out.xss_model_name = xss_name


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


# A 2x2 PNG (red, green, blue, white).
_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a73"
    "0000001649444154789c63f8cfc0f01f0418fe3330fcffff1f0018f606fa9d3a3b4d0000000049454e44ae426082"
)
