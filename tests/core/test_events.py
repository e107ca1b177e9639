"""In-process events: signals after commit, isolation of slow or failing observers."""

from __future__ import annotations

import threading
import time
from unittest import mock

import pytest

from headwater.entities import Metric, Run, RunData, RunInfo
from headwater.events import (
    EVENT_NAMES,
    EVENT_PAYLOADS,
    EventBus,
    current_actor,
    install_plugin_observers,
    register_external_observer,
    signal,
)
from headwater.exceptions import HeadwaterError
from headwater.plugins import hookimpl
from headwater.plugins.manager import make_plugin_manager
from headwater.plugins.types import Observer
from headwater.store.tracking import TrackingStore
from headwater.tracking.service import TrackingService


@pytest.fixture
def bus():
    bus = EventBus()
    yield bus
    bus.close(2)


@pytest.fixture
def store():
    fake = mock.create_autospec(TrackingStore, instance=True)
    fake.create_run.return_value = Run(
        info=RunInfo(run_id="r1", experiment_id="0", run_name="n", user_id="u", start_time=1),
        data=RunData(tags={"mlflow.runName": "n"}),
    )
    return fake


def collect(bus, name):
    received, done = [], threading.Event()

    def receiver(sender, event, **extra):
        received.append(event)
        done.set()

    signal(name).connect(receiver)
    return received, done, receiver


def test_catalogue_has_a_payload_per_event():
    assert set(EVENT_NAMES) == set(EVENT_PAYLOADS)
    assert {"create_experiment", "create_run", "log_param", "log_metric", "log_batch", "set_tag", "delete_run"} <= set(EVENT_NAMES)


def test_event_sent_after_store_call_with_envelope(bus, store):
    service = TrackingService(store, bus)
    received, done, receiver = collect(bus, "log_metric")
    try:
        token = current_actor.set("ana")
        try:
            service.log_metric("r1", Metric(key="loss", value=0.5, timestamp=10, step=2))
        finally:
            current_actor.reset(token)
        assert done.wait(2)
    finally:
        signal("log_metric").disconnect(receiver)
    store.log_metric.assert_called_once()
    [event] = received
    assert event.name == "log_metric" and event.actor == "ana" and len(event.id) == 32
    assert event.timestamp > 0
    assert event.payload.model_dump() == {"run_id": "r1", "key": "loss", "value": 0.5, "timestamp": 10, "step": 2}


def test_store_error_raises_no_event(bus, store):
    store.log_param.side_effect = HeadwaterError.invalid("nope")
    service = TrackingService(store, bus)
    received, done, receiver = collect(bus, "log_param")
    try:
        with pytest.raises(HeadwaterError):
            service.log_param("r1", mock.Mock(key="k", value="v"))
        bus.flush(2)
    finally:
        signal("log_param").disconnect(receiver)
    assert received == []


def test_no_listener_builds_no_event(bus, store):
    service = TrackingService(store, bus)
    assert not bus.wants("delete_tag")
    assert bus.publish("delete_tag", mock.Mock()) is None
    service.delete_tag("r1", "k")
    store.delete_tag.assert_called_once_with("r1", "k")


class Recorder:
    def __init__(self):
        self.calls = []
        self.seen = threading.Event()

    def register_tracking_event(self, event_name, data):
        self.calls.append((event_name, data))
        self.seen.set()


def test_external_observer_receives_event_name_and_data(bus, store):
    observer = Recorder()
    register_external_observer(observer, bus=bus)
    TrackingService(store, bus).create_run("0", user_id="u", run_name="n")
    assert observer.seen.wait(2)
    name, data = observer.calls[0]
    assert name == "create_run"
    assert data["run_id"] == "r1" and data["experiment_id"] == "0" and data["tags"] == {"mlflow.runName": "n"}
    assert set(data) >= {"event_id", "timestamp", "actor"}


def test_external_observer_must_have_the_method():
    with pytest.raises(TypeError):
        register_external_observer(object())


def test_slow_and_failing_observers_do_not_slow_the_caller_or_each_other(bus, store):
    class Slow:
        def register_tracking_event(self, event_name, data):
            time.sleep(3)

    class Failing:
        def register_tracking_event(self, event_name, data):
            raise RuntimeError("observer bug")

    fast = Recorder()
    register_external_observer(Slow(), bus=bus)
    register_external_observer(Failing(), bus=bus)
    register_external_observer(fast, bus=bus)
    service = TrackingService(store, bus)
    started = time.perf_counter()
    for step in range(20):
        service.log_metric("r1", Metric(key="m", value=step, timestamp=1, step=step))
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"20 log_metric calls took {elapsed:.2f}s with a slow observer installed"
    # The fast observer gets every event while the slow one is still on its first.
    deadline = time.time() + 2
    while len(fast.calls) < 20 and time.time() < deadline:
        time.sleep(0.01)
    assert len(fast.calls) == 20
    assert store.log_metric.call_count == 20


def test_plugin_observers_are_connected_through_the_hook(bus, store):
    seen = threading.Event()
    payloads = []

    def on_tag(sender, event, **extra):
        payloads.append(event.payload)
        seen.set()

    class ObserverPlugin:
        __name__ = "test-observer"

        @staticmethod
        @hookimpl
        def headwater_observers():
            yield Observer(name="tags", receivers={"set_tag": on_tag})

    manager = make_plugin_manager(load_entrypoints=False, environ={})
    manager.register(ObserverPlugin, name="test-observer", distribution="test", version="0")
    install_plugin_observers(manager, bus)
    install_plugin_observers(manager, bus)  # idempotent: one delivery per event
    TrackingService(store, bus).set_tag("r1", mock.Mock(key="team", value="blue"))
    assert seen.wait(2)
    bus.flush(2)
    assert [(p.run_id, p.key, p.value) for p in payloads] == [("r1", "team", "blue")]
