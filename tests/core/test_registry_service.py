"""RegistryService: an event per registry mutation, none for refused calls; source pinning and checks."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from headwater.events import EVENT_NAMES, EventBus, current_actor, signal
from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.registry.service import RegistryService

REGISTRY_EVENTS = (
    "create_registered_model", "rename_registered_model", "update_registered_model", "delete_registered_model",
    "create_model_version", "update_model_version", "transition_model_version_stage", "delete_model_version",
    "set_registered_model_tag", "delete_registered_model_tag", "set_model_version_tag", "delete_model_version_tag",
    "set_registered_model_alias", "delete_registered_model_alias",
)


@pytest.fixture
def bus():
    bus = EventBus()
    yield bus
    bus.close(2)


@pytest.fixture
def store(tmp_path):
    from headwater_store_sql.registry_store import SqlRegistryStore

    store = SqlRegistryStore(f"sqlite:///{tmp_path / 'registry.db'}")
    yield store
    store.close()


@pytest.fixture
def recorded(bus):
    """Every registry event published on ``bus``, in order."""
    events, lock = [], threading.Lock()

    def receiver(sender, event, **extra):
        with lock:
            events.append(event)

    for name in REGISTRY_EVENTS:
        signal(name).connect(receiver, sender=bus.sender)
    yield events
    for name in REGISTRY_EVENTS:
        signal(name).disconnect(receiver)


def test_the_catalogue_has_every_registry_event():
    assert set(REGISTRY_EVENTS) <= set(EVENT_NAMES)


def test_every_mutation_raises_its_event(bus, store, recorded):
    service = RegistryService(store, bus=bus, check_sources=False)
    token = current_actor.set("ana")
    try:
        service.create_registered_model("m", {"team": "a"}, "first")
        service.update_registered_model("m", "second")
        service.set_registered_model_tag("m", "k", 1)
        service.delete_registered_model_tag("m", "k")
        service.create_model_version("m", "s3://b/1", run_id="r1", tags={"t": "v"})
        service.update_model_version("m", 1, "described")
        service.transition_model_version_stage("m", "1", "production", archive_existing_versions=True)
        service.set_model_version_tag("m", "1", "vk", "vv")
        service.delete_model_version_tag("m", "1", "vk")
        service.set_registered_model_alias("m", "champion", 1)
        service.delete_registered_model_alias("m", "champion")
        service.delete_model_version("m", "1")
        service.rename_registered_model("m", "n")
        service.delete_registered_model("n")
    finally:
        current_actor.reset(token)
    assert bus.flush(5)
    assert [e.name for e in recorded] == [
        "create_registered_model", "update_registered_model", "set_registered_model_tag",
        "delete_registered_model_tag", "create_model_version", "update_model_version",
        "transition_model_version_stage", "set_model_version_tag", "delete_model_version_tag",
        "set_registered_model_alias", "delete_registered_model_alias", "delete_model_version",
        "rename_registered_model", "delete_registered_model",
    ]
    assert {e.actor for e in recorded} == {"ana"}
    payloads = {e.name: e.payload.model_dump() for e in recorded}
    assert payloads["create_registered_model"] == {"name": "m", "description": "first", "tags": {"team": "a"}}
    assert payloads["set_registered_model_tag"] == {"name": "m", "key": "k", "value": "1"}
    assert payloads["create_model_version"] == {
        "name": "m", "version": "1", "source": "s3://b/1", "run_id": "r1", "model_id": None, "description": None,
        "tags": {"t": "v"},
    }
    assert payloads["transition_model_version_stage"] == {
        "name": "m", "version": "1", "stage": "Production", "archive_existing_versions": True,
    }
    assert payloads["set_registered_model_alias"] == {"name": "m", "alias": "champion", "version": "1"}
    assert payloads["rename_registered_model"] == {"name": "m", "new_name": "n"}


def test_refused_calls_raise_no_event(bus, store, recorded):
    service = RegistryService(store, bus=bus, check_sources=False)
    service.create_registered_model("m")
    for call in (
        lambda: service.create_registered_model("m"),
        lambda: service.create_model_version("missing", "s3://b"),
        lambda: service.transition_model_version_stage("m", "1", "Staging"),
        lambda: service.set_registered_model_alias("m", "v1", "1"),
        lambda: service.delete_registered_model("missing"),
    ):
        with pytest.raises(HeadwaterError):
            call()
    assert bus.flush(5)
    assert [e.name for e in recorded] == ["create_registered_model"]


def test_registered_model_sources_are_pinned_to_a_number(bus, store):
    service = RegistryService(store, bus=bus, check_sources=False)
    service.create_registered_model("base")
    service.create_model_version("base", "s3://b/1", run_id="r1")
    service.create_model_version("base", "s3://b/2", run_id="r2")
    service.transition_model_version_stage("base", "1", "Production")
    service.set_registered_model_alias("base", "champion", "2")
    service.create_registered_model("copy")
    for source, pinned, run_id in (
        ("models:/base/Production", "models:/base/1", "r1"),
        ("models:/base@champion", "models:/base/2", "r2"),
        ("models:/base/latest", "models:/base/2", "r2"),
        ("models:/base/1", "models:/base/1", "r1"),
    ):
        version = service.create_model_version("copy", source)
        assert (version.source, version.run_id) == (pinned, run_id)
        assert service.get_model_version_download_uri("copy", version.version) == f"s3://b/{pinned[-1]}"
    with pytest.raises(HeadwaterError) as info:
        service.create_model_version("copy", "models:/base/1", run_id="r2")
    assert info.value.error_code == ErrorCode.INVALID_PARAMETER_VALUE


def test_prompts_cannot_be_sources(bus, store):
    service = RegistryService(store, bus=bus, check_sources=False)
    service.create_registered_model("prompt", {"mlflow.prompt.is_prompt": "true"})
    service.create_model_version("prompt", "s3://b/p")
    service.create_registered_model("m")
    with pytest.raises(HeadwaterError, match="Prompt versions cannot be used"):
        service.create_model_version("m", "models:/prompt/1")


def test_source_checks_use_the_tracking_store(bus, store, tmp_path):
    run = SimpleNamespace(info=SimpleNamespace(artifact_uri=str(tmp_path / "run" / "artifacts")))
    tracking = SimpleNamespace(get_run=lambda run_id: run)
    service = RegistryService(store, tracking=tracking, bus=bus, check_sources=True)
    service.create_registered_model("m")
    with pytest.raises(HeadwaterError):
        service.create_model_version("m", "/etc", run_id="r1")
    assert service.create_model_version("m", str(tmp_path / "run" / "artifacts" / "model"), run_id="r1").version == "1"
    assert [v.version for v in service.search_model_versions("name = 'm'")] == ["1"]


def test_logged_model_sources_download_from_the_logged_model(bus, store):
    model_id = "m-" + "e" * 32
    tracking = SimpleNamespace(
        get_logged_model=lambda mid: SimpleNamespace(artifact_uri=f"s3://b/models/{mid}/artifacts"),
    )
    service = RegistryService(store, tracking=tracking, bus=bus, check_sources=True)
    service.create_registered_model("m")
    service.create_model_version("m", f"models:/{model_id}", model_id=model_id)
    assert service.get_model_version("m", "1").model_id == model_id
    assert service.get_model_version_download_uri("m", "1") == f"s3://b/models/{model_id}/artifacts"
