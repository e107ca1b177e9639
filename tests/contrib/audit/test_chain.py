"""The audit chain: every edit, removal, insertion or reordering is found; rotation keeps the chain."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("headwater_audit")

from headwater.events.catalogue import Client, Event, MetricLogged, TagSet  # noqa: E402
from headwater_audit.chain import AuditLog, log_files, verify  # noqa: E402


def event(step: int) -> Event:
    return Event(name="log_metric", actor="ana", client=Client(address="10.0.0.7", user_agent="ua/1"),
                 payload=MetricLogged(run_id="r1", key="loss", value=float(step), timestamp=1, step=step))


def write(path, count: int, **kwargs) -> AuditLog:
    log = AuditLog(path, **kwargs)
    for step in range(count):
        log.add(event(step))
        if step % 3 == 2:
            log.flush()
    log.flush()
    return log


def lines(path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


def test_records_say_who_what_when_and_from_where(tmp_path):
    path = tmp_path / "audit.jsonl"
    write(path, 1)
    [record] = [json.loads(line) for line in lines(path)]
    assert record["actor"] == "ana" and record["client_address"] == "10.0.0.7" and record["user_agent"] == "ua/1"
    assert record["event"] == "log_metric" and record["payload"]["key"] == "loss" and record["seq"] == 1
    assert record["time"].endswith("Z") and len(record["event_id"]) == 32
    assert verify(path).ok and verify(path).records == 1


def test_nan_values_are_kept_as_strict_json(tmp_path):
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    log.append(Event(name="log_metric", payload=MetricLogged(run_id="r", key="k", value=float("nan"),
                                                              timestamp=1, step=0)))
    assert json.loads(lines(path)[0])["payload"]["value"] == "NaN"
    assert verify(path).ok


@pytest.mark.parametrize("tamper, words", [
    (lambda ls: ls[:3] + [ls[3].replace('"value":3.0', '"value":4.0')] + ls[4:], "altered"),
    (lambda ls: ls[:3] + ls[4:], "does not follow"),
    (lambda ls: ls[:2] + [ls[3], ls[2]] + ls[4:], "does not follow"),
    (lambda ls: ls[:3] + [ls[3]] + ls[3:], "does not follow"),
    (lambda ls: ls[:-2], "cut off the end"),
    (lambda ls: ls[1:], "does not start at the first record"),
])
def test_tampering_is_detected(tmp_path, tamper, words):
    path = tmp_path / "audit.jsonl"
    write(path, 8)
    assert verify(path).ok
    path.write_text("".join(tamper(lines(path))))
    result = verify(path)
    assert not result.ok
    assert any(words in problem for problem in result.problems), result.problems


def test_a_rewritten_chain_needs_the_key(tmp_path):
    path = tmp_path / "audit.jsonl"
    write(path, 4, key=b"secret")
    assert verify(path, key=b"secret").ok
    assert not verify(path).ok  # plain SHA-256 does not reproduce HMAC hashes
    # Someone without the key edits a record and recomputes the plain chain: still detected with the key.
    from headwater_audit.chain import GENESIS, chain_hash
    prev, rewritten = GENESIS, []
    for line in lines(path):
        record = json.loads(line)
        record.pop("hash")
        record["actor"] = "mallory"
        record["prev"] = prev
        body = json.dumps(record, separators=(",", ":"))
        prev = chain_hash(prev, body)
        rewritten.append(body[:-1] + f',"hash":"{prev}"}}\n')
    path.write_text("".join(rewritten))
    assert not verify(path, key=b"secret").ok


def test_rotation_keeps_the_chain_across_files(tmp_path):
    path = tmp_path / "audit.jsonl"
    write(path, 30, max_bytes=1500)
    files = log_files(path)
    assert len(files) > 2 and files[-1] == path
    result = verify(path)
    assert result.ok and result.records == 30 and result.files == len(files)
    first_of_second = json.loads(lines(files[1])[0])
    last_of_first = json.loads(lines(files[0])[-1])
    assert first_of_second["prev"] == last_of_first["hash"]
    files[1].unlink()  # a whole rotated file removed
    assert not verify(path).ok


def test_another_writer_continues_the_chain(tmp_path):
    path = tmp_path / "audit.jsonl"
    first = write(path, 2)
    second = AuditLog(path)  # another process, say, after a lease moved
    second.append(event(10))
    first.append(event(11))  # the first one notices the file changed and picks the chain up
    result = verify(path)
    assert result.ok and result.last_seq == 4


def test_cli_verify(tmp_path):
    path = tmp_path / "audit.jsonl"
    write(path, 3)

    def run(*args):
        return subprocess.run([sys.executable, "-c", "from headwater.cli import main; main()", "audit", "verify",
                               *args], capture_output=True, text=True, timeout=60)

    ok = run(str(path))
    assert ok.returncode == 0 and "OK: 3 records" in ok.stdout
    path.write_text(path.read_text().replace('"actor":"ana"', '"actor":"eve"', 1))
    broken = run(str(path))
    assert broken.returncode == 1 and "audit.jsonl:1: seq 1 was altered" in broken.stderr


def test_plugin_is_inactive_without_a_log_path(monkeypatch):
    from headwater_audit import plugin

    monkeypatch.delenv("HEADWATER_AUDIT_LOG", raising=False)
    assert list(plugin.headwater_observers()) == []
    monkeypatch.setenv("HEADWATER_AUDIT_LOG", "/tmp/never-written.jsonl")
    [observer] = list(plugin.headwater_observers())
    assert observer.name == "audit" and "*" in observer.receivers and observer.flush is not None
    # Other event kinds go through too.
    observer.receivers["*"]("test", event=Event(name="set_tag", payload=TagSet(run_id="r", key="k", value="v")))
