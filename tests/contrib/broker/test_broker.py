"""The NATS JetStream publisher against the NATS server on 127.0.0.1:4222."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest

pytest.importorskip("headwater_broker")

from headwater.events.catalogue import Event, MetricLogged, RegisteredModelCreated  # noqa: E402
from headwater_broker.publisher import JetStreamPublisher  # noqa: E402

NATS_URL = "nats://127.0.0.1:4222"


async def _stored(stream: str, subject: str) -> list:
    import nats

    client = await nats.connect(NATS_URL)
    try:
        js = client.jetstream()
        sub = await js.pull_subscribe(subject, stream=stream)
        messages = []
        try:
            messages = await sub.fetch(100, timeout=2)
        except Exception:  # nats' fetch times out when fewer than asked are there
            pass
        for message in messages:
            await message.ack()
        return messages
    finally:
        await client.close()


async def _delete(stream: str) -> None:
    import nats

    client = await nats.connect(NATS_URL)
    try:
        await client.jetstream().delete_stream(stream)
    finally:
        await client.close()


@pytest.fixture
def names():
    tag = uuid.uuid4().hex[:8]
    stream, prefix = f"HWTEST_{tag}", f"hwtest.{tag}"
    yield stream, prefix
    try:
        asyncio.run(_delete(stream))
    except Exception:
        pass


def test_events_go_to_a_subject_per_name_with_the_event_id_as_message_id(names):
    stream, prefix = names
    publisher = JetStreamPublisher(NATS_URL, stream=stream, prefix=prefix)
    metric = Event(name="log_metric", actor="ana",
                   payload=MetricLogged(run_id="r1", key="loss", value=float("nan"), timestamp=1, step=0))
    model = Event(name="create_registered_model", payload=RegisteredModelCreated(name="m"))
    publisher.publish(metric)
    publisher.publish(model)
    publisher.flush()
    # Delivered again (a crash before the outbox saved the batch): JetStream keeps one copy.
    publisher.publish(metric)
    publisher.flush()
    stored = asyncio.run(_stored(stream, f"{prefix}.>"))
    assert sorted(m.subject for m in stored) == [f"{prefix}.create_registered_model", f"{prefix}.log_metric"]
    by_subject = {m.subject: m for m in stored}
    message = by_subject[f"{prefix}.log_metric"]
    assert message.headers["Nats-Msg-Id"] == metric.id
    body = json.loads(message.data)
    assert body["id"] == metric.id and body["actor"] == "ana" and body["payload"]["value"] == "NaN"


def test_flush_raises_when_the_broker_is_unreachable(names):
    stream, prefix = names
    publisher = JetStreamPublisher("nats://127.0.0.1:1", stream=stream, prefix=prefix)
    publisher.publish(Event(name="create_registered_model", payload=RegisteredModelCreated(name="m")))
    started = time.monotonic()
    with pytest.raises(Exception):
        publisher.flush()
    assert time.monotonic() - started < 30


def test_plugin_only_with_a_url(monkeypatch):
    from headwater_broker import plugin

    monkeypatch.delenv("HEADWATER_NATS_URL", raising=False)
    assert list(plugin.headwater_observers()) == []
    monkeypatch.setenv("HEADWATER_NATS_URL", NATS_URL)
    [observer] = list(plugin.headwater_observers())
    assert observer.name == "nats" and set(observer.receivers) == {"*"} and observer.flush is not None
