"""Alert rules: refused with a position when malformed; metric, NaN, status and silence conditions."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("headwater_alerts")

from headwater.search.errors import SearchSyntaxError  # noqa: E402
from headwater_alerts.conditions import parse_condition  # noqa: E402

LOOPBACK = {"HEADWATER_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32"}


@pytest.mark.parametrize("text, position", [
    ("metrics.loss >> 2", 14),
    ("metric.loss > 1", 0),
    ("metrics.loss > ", 14),
    ("status = DONE", 9),
    ("no metrics for 0 minutes", 15),
])
def test_malformed_conditions_name_the_position(text, position):
    with pytest.raises(SearchSyntaxError) as caught:
        parse_condition(text)
    assert caught.value.position == position
    assert f"at position {position}" in caught.value.message


def test_conditions():
    assert parse_condition("metrics.val_loss > 2.5").metric_fires("val_loss", 3.0)
    assert not parse_condition("metrics.val_loss > 2.5").metric_fires("val_loss", 2.0)
    assert not parse_condition("metrics.val_loss > 2.5").metric_fires("val_loss", float("nan"))
    assert parse_condition("metrics.`val loss` <= -1").metric_fires("val loss", -1.0)
    assert parse_condition("metrics.loss is NaN").metric_fires("loss", float("nan"))
    assert parse_condition("status = 'failed'").status == "FAILED"
    assert parse_condition("no metrics for 2 hours").seconds == 7200


def create_rule(server, receiver, **fields):
    return server.post("../headwater/alerts", {"name": "r", "url": receiver.url, **fields})


def test_rules_are_refused_when_created_with_the_errors_position(start_server, receiver, tmp_path):
    server = start_server(f"sqlite:///{tmp_path / 'a.db'}", env=LOOPBACK)
    bad = create_rule(server, receiver, condition="metrics.loss >> 2")
    assert bad.status_code == 400 and bad.json()["position"] == 14
    assert bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    bad_filter = create_rule(server, receiver, condition="metrics.loss > 2", filter="params.lr = ")
    assert bad_filter.status_code == 400 and bad_filter.json()["position"] == 12, bad_filter.text
    assert "alert filter" in bad_filter.json()["message"]
    refused_url = server.post("../headwater/alerts", {"name": "r", "url": "http://10.0.0.1/x",
                                                      "condition": "metrics.loss > 2"})
    assert refused_url.status_code == 400 and "private" in refused_url.json()["message"]
    assert server.call("GET", "../headwater/alerts")["alerts"] == []


def test_metric_nan_and_failed_run_alerts_reach_a_slack_compatible_receiver(start_server, receiver, tmp_path):
    server = start_server(f"sqlite:///{tmp_path / 'a.db'}", env=LOOPBACK)
    for fields in ({"name": "high loss", "condition": "metrics.val_loss > 2.5", "filter": "params.lr = '0.1'"},
                   {"name": "nan", "condition": "metrics.loss is NaN", "format": "json"},
                   {"name": "failed", "condition": "status = FAILED"}):
        assert create_rule(server, receiver, **fields).status_code == 200
    time.sleep(2)  # the rules reach the dispatcher
    watched = server.call("POST", "runs/create", {"experiment_id": "0"})["run"]["info"]["run_id"]
    other = server.call("POST", "runs/create", {"experiment_id": "0"})["run"]["info"]["run_id"]
    server.call("POST", "runs/log-parameter", {"run_id": watched, "key": "lr", "value": "0.1"})
    server.call("POST", "runs/log-parameter", {"run_id": other, "key": "lr", "value": "0.2"})
    for run in (watched, other):
        server.call("POST", "runs/log-metric", {"run_id": run, "key": "val_loss", "value": 3.0, "timestamp": 1,
                                                "step": 0})
    server.call("POST", "runs/log-metric", {"run_id": watched, "key": "val_loss", "value": 4.0, "timestamp": 2,
                                            "step": 1})
    server.call("POST", "runs/log-batch", {"run_id": other, "metrics": [
        {"key": "loss", "value": "NaN", "timestamp": 1, "step": 0}]})
    server.call("POST", "runs/update", {"run_id": other, "status": "FAILED"})
    got = receiver.wait_for(3, timeout=20)
    time.sleep(1)
    assert len(receiver.received) == 3, [r.body for r in receiver.received]
    bodies = [r.json() for r in receiver.received]
    slack = [b for b in bodies if "blocks" in b]
    assert len(slack) == 2 and all(isinstance(b["text"], str) and b["blocks"][0]["type"] == "section" for b in slack)
    high = next(b for b in slack if "high loss" in b["text"])
    assert watched in high["text"] and "val_loss > 2.5 (value 3)" in high["text"]
    assert any("run ended FAILED" in b["text"] and other in b["text"] for b in slack)
    [nan] = [b for b in bodies if "blocks" not in b]
    assert nan["alert"] == "nan" and nan["run_id"] == other and nan["condition"] == "metrics.loss is NaN"
    assert got


def test_silence_rule(tmp_path, receiver, monkeypatch):
    from headwater.entities import Metric
    from headwater_alerts.rules import AlertEngine
    from headwater_store_sql.store import SqlTrackingStore
    from headwater_webhooks.security import NetworkPolicy

    uri = f"sqlite:///{tmp_path / 's.db'}"
    store = SqlTrackingStore(uri, str(tmp_path / "artifacts"))
    engine = AlertEngine(uri, store, policy=NetworkPolicy.from_env(LOOPBACK))
    engine.create({"name": "quiet", "condition": "no metrics for 1 minute", "url": receiver.url,
                   "filter": "tags.watch = 'yes'"})
    now = int(time.time() * 1000)
    quiet = store.create_run("0", start_time=now - 300_000, tags={"watch": "yes"}).info.run_id
    busy = store.create_run("0", start_time=now - 300_000, tags={"watch": "yes"}).info.run_id
    store.create_run("0", start_time=now - 300_000)  # not watched
    store.log_metric(quiet, Metric(key="m", value=1.0, timestamp=now - 120_000, step=0))
    store.log_metric(busy, Metric(key="m", value=1.0, timestamp=now - 1_000, step=0))
    engine.check_silence()
    engine.check_silence()  # once per run
    [request] = receiver.wait_for(1)
    assert quiet in request.json()["text"] and "no metrics for 60 s" in request.json()["text"]
    assert len(receiver.received) == 1
    store.close()


def test_cli_refuses_a_malformed_rule_with_the_position(start_server, receiver, tmp_path):
    import json
    import subprocess
    import sys

    server = start_server(f"sqlite:///{tmp_path / 'a.db'}", env=LOOPBACK)

    def cli(*args):
        return subprocess.run([sys.executable, "-c", "from headwater.cli import main; main()", "alerts", *args,
                               "--tracking-uri", server.url], capture_output=True, text=True, timeout=60)

    bad = cli("create", "--name", "x", "--condition", "metrics.loss >> 1", "--url", receiver.url)
    assert bad.returncode == 1 and "at position 14" in bad.stderr
    ok = cli("create", "--name", "x", "--condition", "metrics.loss > 1", "--url", receiver.url)
    assert ok.returncode == 0, ok.stderr
    rule = json.loads(ok.stdout)
    assert [r["rule_id"] for r in json.loads(cli("list").stdout)] == [rule["rule_id"]]
    assert cli("delete", rule["rule_id"]).returncode == 0
