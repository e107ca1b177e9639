"""The plugin manager: registration, discovery, blocking, conflicts, lookups."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from headwater.exceptions import PluginError
from headwater.plugins import hookimpl, hookspecs
from headwater.plugins.manager import make_plugin_manager, uri_scheme
from headwater.plugins.types import (
    ArtifactRepositoryProvider,
    FlavorProvider,
    Observer,
    ProjectBackendProvider,
    RegistryStoreProvider,
    ServerExtension,
    TrackingStoreProvider,
)

FAKE_DIST = Path(__file__).parent / "data" / "fake_plugins"
ROOT = Path(__file__).resolve().parents[2]


def make_plugin(name, **hooks):
    """A throwaway plugin object whose hooks return the given records."""
    namespace = {"__name__": name}
    for hook_name, records in hooks.items():
        def impl(records=records):
            return list(records)
        impl.__name__ = hook_name
        namespace[hook_name] = hookimpl(impl)
    return type(name, (), {k: staticmethod(v) if callable(v) else v for k, v in namespace.items()})


@pytest.fixture
def manager():
    return make_plugin_manager(load_entrypoints=False, environ={})


def register(manager, plugin, name, dist=None):
    return manager.register(plugin, name=name, distribution=dist or f"dist-{name}", version="1.0")


# -- one test per hook -----------------------------------------------------------------

def test_hook_headwater_tracking_stores(manager):
    provider = TrackingStoreProvider(name="t", schemes=("tee",), factory=lambda uri, root: {"uri": uri, "root": root})
    register(manager, make_plugin("p", headwater_tracking_stores=[provider]), "p")
    assert manager.tracking_store("tee://x", "/art") == {"uri": "tee://x", "root": "/art"}
    # Built once per URI and reused.
    assert manager.tracking_store("tee://x", "/art") is manager.tracking_store("tee://x", "/art")


def test_hook_headwater_registry_stores(manager):
    provider = RegistryStoreProvider(name="r", schemes=("reg",), factory=lambda uri: ("registry", uri))
    register(manager, make_plugin("p", headwater_registry_stores=[provider]), "p")
    assert manager.registry_store("reg://db") == ("registry", "reg://db")


def test_hook_headwater_artifact_repositories(manager):
    provider = ArtifactRepositoryProvider(name="a", schemes=("", "file"), factory=lambda uri: ("repo", uri))
    register(manager, make_plugin("p", headwater_artifact_repositories=[provider]), "p")
    assert manager.artifact_repository("/tmp/x") == ("repo", "/tmp/x")
    assert manager.artifact_repository("file:///tmp/x") == ("repo", "file:///tmp/x")


def test_hook_headwater_flavors(manager):
    flavor = object()
    register(manager, make_plugin("p", headwater_flavors=[FlavorProvider(name="cool", flavor=flavor)]), "p")
    assert manager.flavor("cool") is flavor
    with pytest.raises(PluginError, match="cool"):
        manager.flavor("missing")


def test_hook_headwater_observers(manager):
    receiver = lambda sender, event, **extra: None  # noqa: E731
    register(manager, make_plugin("p", headwater_observers=[Observer(name="o", receivers={"log_metric": receiver})]), "p")
    [(observer, record)] = manager.observers()
    assert observer.receivers["log_metric"] is receiver and record.name == "p"


def test_hook_headwater_server_extensions(manager):
    installed = []
    ext = ServerExtension(name="hello", install=installed.append)
    register(manager, make_plugin("p", headwater_server_extensions=[ext]), "p")
    for extension, _ in manager.server_extensions():
        extension.install("app")
    assert installed == ["app"]


def test_hook_headwater_project_backends(manager):
    factory = lambda **kw: "backend"  # noqa: E731
    register(manager, make_plugin("p", headwater_project_backends=[ProjectBackendProvider(name="pool", factory=factory)]), "p")
    assert manager.project_backend("pool") is factory
    with pytest.raises(PluginError, match="pool"):
        manager.project_backend("nope")


# -- lookups and conflicts -------------------------------------------------------------------

@pytest.mark.parametrize(
    "uri,scheme",
    [
        ("sqlite:///x.db", "sqlite"),
        ("mysql+pymysql://u@h/db", "mysql"),
        ("postgresql+psycopg://h/db", "postgresql"),
        ("/abs/path", ""),
        ("relative/path", ""),
        ("C:\\data\\x", ""),
        ("HTTP://host", "http"),
        ("s3://bucket/key", "s3"),
    ],
)
def test_uri_scheme(uri, scheme):
    assert uri_scheme(uri) == scheme


def test_unknown_scheme_lists_installed_schemes(manager):
    provider = TrackingStoreProvider(name="t", schemes=("alpha", "beta"), factory=lambda uri, root: None)
    register(manager, make_plugin("p", headwater_tracking_stores=[provider]), "p")
    with pytest.raises(PluginError) as err:
        manager.tracking_store("gamma://x")
    assert "'gamma'" in str(err.value) and "'alpha'" in str(err.value) and "'beta'" in str(err.value)
    assert err.value.error_code.value == "INVALID_PARAMETER_VALUE"


def test_scheme_conflict_names_both_distributions(manager):
    for name in ("one", "two"):
        provider = TrackingStoreProvider(name=name, schemes=("same",), factory=lambda uri, root: name)
        register(manager, make_plugin(name, headwater_tracking_stores=[provider]), name, dist=f"headwater-store-{name}")
    with pytest.raises(PluginError) as err:
        manager.tracking_store("same://x")
    assert "headwater-store-one" in str(err.value) and "headwater-store-two" in str(err.value)


def test_flavor_conflict_names_both_distributions(manager):
    for name in ("one", "two"):
        register(manager, make_plugin(name, headwater_flavors=[FlavorProvider(name="dup", flavor=name)]), name,
                 dist=f"flavor-{name}")
    with pytest.raises(PluginError, match="flavor-one.*flavor-two|flavor-two.*flavor-one"):
        manager.flavor("dup")


def test_hook_that_raises_marks_plugin_failed(manager):
    class Broken:
        __name__ = "broken"

        @staticmethod
        @hookimpl
        def headwater_flavors():
            raise RuntimeError("boom")

    record = register(manager, Broken, "broken")
    assert manager.flavor_providers() == {}
    assert record.status == "failed" and "boom" in record.error


# -- discovery through entry points --------------------------------------------------------------

@pytest.fixture
def fake_dist(monkeypatch):
    monkeypatch.syspath_prepend(str(FAKE_DIST))


def test_entry_points_load_and_failures_are_recorded(fake_dist):
    manager = make_plugin_manager(environ={})
    records = manager.records
    assert records["fake_ok"].status == "active"
    assert records["fake_ok"].distribution == "headwater-fake-plugins"
    assert records["fake_ok"].version == "1.0"
    assert records["fake_ok"].hooks == ["headwater_flavors", "headwater_tracking_stores"]
    assert records["fake_missing"].status == "failed"
    assert "fake_module_that_does_not_exist" in records["fake_missing"].error
    assert records["fake_bad_hook"].status == "failed"
    assert "headwater_tracking_storez" in records["fake_bad_hook"].error
    assert manager.tracking_store("fake://x") == ("fake-store", "fake://x")


def test_disable_plugins_blocks_by_name(fake_dist):
    manager = make_plugin_manager(environ={"HEADWATER_DISABLE_PLUGINS": "fake_ok"})
    assert manager.records["fake_ok"].status == "blocked"
    assert "fake" not in manager.tracking_store_providers()


def test_load_plugins_is_an_allow_list(fake_dist):
    manager = make_plugin_manager(environ={"HEADWATER_LOAD_PLUGINS": "fake_ok"})
    statuses = {name: r.status for name, r in manager.records.items() if name.startswith("fake")}
    assert statuses == {"fake_ok": "active", "fake_missing": "blocked", "fake_bad_hook": "blocked"}


def test_empty_load_plugins_loads_nothing(fake_dist):
    manager = make_plugin_manager(environ={"HEADWATER_LOAD_PLUGINS": ""})
    assert all(r.status == "blocked" for r in manager.records.values())


def test_describe_lists_what_each_plugin_provides(fake_dist):
    manager = make_plugin_manager(environ={})
    described = {r.name: r for r in manager.describe()}
    assert described["fake_ok"].provides == ["tracking store fake (fake)", "flavor fake_flavor"]


def test_managers_are_independent():
    first = make_plugin_manager(load_entrypoints=False, environ={})
    second = make_plugin_manager(load_entrypoints=False, environ={})
    register(first, make_plugin("p", headwater_flavors=[FlavorProvider(name="x", flavor=1)]), "p")
    assert "x" in first.flavor_providers() and "x" not in second.flavor_providers()


# -- meta: every hook is tested and documented ------------------------------------------------------

def _spec_names():
    return [name for spec in hookspecs.ALL_SPECS for name, _ in inspect.getmembers(spec, inspect.isfunction)
            if name.startswith("headwater_")]


def test_every_hook_has_a_test():
    tests = {name for name in globals() if name.startswith("test_hook_")}
    missing = [name for name in _spec_names() if f"test_hook_{name}" not in tests]
    assert not missing, f"hooks without a test_hook_<name>: {missing}"


def test_every_hook_is_documented_with_its_signature():
    doc = (ROOT / "docs" / "plugins" / "hooks.md").read_text()
    headings = set(re.findall(r"^### `(headwater_\w+\(.*\))", doc, re.M))
    for spec in hookspecs.ALL_SPECS:
        for name, fn in inspect.getmembers(spec, inspect.isfunction):
            if name.startswith("headwater_"):
                assert f"{name}()" in headings, f"docs/plugins/hooks.md lacks a heading for {name}()"
