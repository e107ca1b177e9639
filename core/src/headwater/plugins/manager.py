"""Building the plugin manager and asking it for stores, flavors and observers.

``make_plugin_manager()`` is the only constructor: nothing is registered at
import time. It registers the core's built-in plugins and every entry point of
the ``headwater`` group through the same code path, honours
``HEADWATER_LOAD_PLUGINS`` (allow-list) and ``HEADWATER_DISABLE_PLUGINS``
(block-list), records plugins that failed to load and why, and validates every
hook implementation against the specs.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import urlparse

import pluggy

from headwater.exceptions import PluginError
from headwater.plugins import hookspecs
from headwater.plugins.types import (
    ArtifactRepositoryProvider,
    FlavorProvider,
    Observer,
    ProjectBackendProvider,
    RegistryStoreProvider,
    ServerExtension,
    TrackingStoreProvider,
)

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "headwater"

# Core modules holding hookimpls, registered exactly like installed plugins.
DEFAULT_PLUGINS: tuple[str, ...] = ("headwater.projects.local_backend",)

_DB_ENGINES = ("postgresql", "mysql", "sqlite", "mssql")
_DRIVE_RE = re.compile(r"^[a-zA-Z]:[\\/]")


@dataclass
class PluginRecord:
    """What ``headwater plugins`` shows about one plugin."""

    name: str
    distribution: str
    version: str
    builtin: bool = False
    status: str = "active"  # active | blocked | failed
    error: str | None = None
    hooks: list[str] = field(default_factory=list)
    provides: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "builtin": self.builtin,
            "status": self.status,
            "error": self.error,
            "hooks": self.hooks,
            "provides": self.provides,
        }


def uri_scheme(uri: str) -> str:
    """The scheme that selects a store: DB URIs by engine, local paths as ``""``."""
    if _DRIVE_RE.match(uri):
        return ""
    scheme = urlparse(uri).scheme.lower()
    for engine in _DB_ENGINES:
        if scheme.startswith(engine):
            return engine
    return scheme


def _split_names(value: str | None) -> set[str] | None:
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


class HeadwaterPluginManager:
    """A typed facade over a :class:`pluggy.PluginManager`."""

    def __init__(self, environ: Mapping[str, str] | None = None):
        env = os.environ if environ is None else environ
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        for spec in hookspecs.ALL_SPECS:
            self.pm.add_hookspecs(spec)
        self.records: dict[str, PluginRecord] = {}
        self._allow = _split_names(env.get("HEADWATER_LOAD_PLUGINS"))
        self._block = _split_names(env.get("HEADWATER_DISABLE_PLUGINS")) or set()
        self._trace = env.get("HEADWATER_TRACE_PLUGINS", "") not in ("", "0", "false")
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], Any] = {}

    # -- registration --------------------------------------------------------
    def _allowed(self, name: str, distribution: str) -> bool:
        if name in self._block or distribution in self._block:
            return False
        return self._allow is None or name in self._allow or distribution in self._allow

    def register(self, plugin: Any, name: str, distribution: str, version: str, builtin: bool = False) -> PluginRecord:
        """Register one plugin object (a module or an object with hookimpls)."""
        record = PluginRecord(name=name, distribution=distribution, version=version, builtin=builtin)
        existing = self.records.get(name)
        if existing is not None and existing.status == "active":
            record.status = "failed"
            record.error = (
                f"plugin name {name!r} is already used by distribution {existing.distribution!r}"
            )
            self.records[f"{name} ({distribution})"] = record
            return record
        self.records[name] = record
        if not self._allowed(name, distribution):
            record.status = "blocked"
            self.pm.set_blocked(name)
            return record
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:  # pluggy validation errors, duplicate objects
            record.status, record.error = "failed", f"{type(exc).__name__}: {exc}"
            return record
        unknown = [c.name for c in (self.pm.get_hookcallers(plugin) or []) if not c.has_spec()]
        if unknown:
            self.pm.unregister(plugin)
            record.status = "failed"
            record.error = f"implements unknown hook(s): {', '.join(sorted(unknown))}"
            return record
        record.hooks = sorted(c.name for c in self.pm.get_hookcallers(plugin) or [])
        return record

    def load_builtins(self, modules: Iterable[str] = DEFAULT_PLUGINS) -> None:
        from headwater import __version__

        for module_name in modules:
            self._load(lambda m=module_name: importlib.import_module(m), module_name, "headwater", __version__, True)

    def load_entrypoints(self, group: str = ENTRY_POINT_GROUP) -> None:
        for ep in entry_points(group=group):
            dist = ep.dist.name if ep.dist is not None else "unknown"
            version = ep.dist.version if ep.dist is not None else "unknown"
            self._load(ep.load, ep.name, dist, version, False, ep)

    def _load(
        self,
        loader: Callable[[], Any],
        name: str,
        distribution: str,
        version: str,
        builtin: bool,
        ep: EntryPoint | None = None,
    ) -> None:
        if not self._allowed(name, distribution):
            self.register(None, name, distribution, version, builtin)
            return
        try:
            plugin = loader()
        except Exception as exc:
            log.warning("plugin %s (%s) failed to load: %s", name, distribution, exc)
            self.records[name] = PluginRecord(
                name=name,
                distribution=distribution,
                version=version,
                builtin=builtin,
                status="failed",
                error=f"{type(exc).__name__}: {exc}",
            )
            return
        self.register(plugin, name, distribution, version, builtin)

    # -- calling hooks ---------------------------------------------------------
    def _results(self, hook_name: str) -> list[tuple[Any, PluginRecord]]:
        """Every record every active plugin returns from a hook, with its origin."""
        out: list[tuple[Any, PluginRecord]] = []
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            record = self.records[impl.plugin_name]
            try:
                items = list(impl.function() or ())
            except Exception as exc:
                log.warning("plugin %s: %s raised %s", impl.plugin_name, hook_name, exc)
                record.status, record.error = "failed", f"{hook_name} raised {type(exc).__name__}: {exc}"
                continue
            if self._trace:
                log.warning("trace %s -> %s: %r", hook_name, impl.plugin_name, items)
            out.extend((item, record) for item in items)
        return out

    def _by_key(self, hook_name: str, keys: Callable[[Any], Iterable[str]], what: str) -> dict[str, tuple[Any, PluginRecord]]:
        table: dict[str, tuple[Any, PluginRecord]] = {}
        for item, record in self._results(hook_name):
            for key in keys(item):
                if key in table and table[key][1].name != record.name:
                    other = table[key][1]
                    raise PluginError(
                        f"Two plugins claim the {what} {key!r}: {other.distribution}"
                        f" (plugin {other.name!r}) and {record.distribution} (plugin {record.name!r})."
                        f" Uninstall one, or block one with HEADWATER_DISABLE_PLUGINS={record.name}."
                    )
                table[key] = (item, record)
        return table

    def tracking_store_providers(self) -> dict[str, tuple[TrackingStoreProvider, PluginRecord]]:
        return self._by_key("headwater_tracking_stores", lambda p: p.schemes, "tracking URI scheme")

    def registry_store_providers(self) -> dict[str, tuple[RegistryStoreProvider, PluginRecord]]:
        return self._by_key("headwater_registry_stores", lambda p: p.schemes, "registry URI scheme")

    def artifact_repository_providers(self) -> dict[str, tuple[ArtifactRepositoryProvider, PluginRecord]]:
        return self._by_key("headwater_artifact_repositories", lambda p: p.schemes, "artifact URI scheme")

    def flavor_providers(self) -> dict[str, tuple[FlavorProvider, PluginRecord]]:
        return self._by_key("headwater_flavors", lambda p: (p.name,), "flavor")

    def project_backend_providers(self) -> dict[str, tuple[ProjectBackendProvider, PluginRecord]]:
        return self._by_key("headwater_project_backends", lambda p: (p.name,), "project backend")

    def observers(self) -> list[tuple[Observer, PluginRecord]]:
        return self._results("headwater_observers")

    def server_extensions(self) -> list[tuple[ServerExtension, PluginRecord]]:
        return self._results("headwater_server_extensions")

    # -- typed lookups ---------------------------------------------------------
    def _lookup(self, table: Mapping[str, tuple[Any, PluginRecord]], uri: str, what: str) -> Any:
        scheme = uri_scheme(uri)
        if scheme not in table:
            installed = ", ".join(repr(s) for s in sorted(table)) or "none"
            raise PluginError(
                f"No {what} plugin handles the URI scheme {scheme!r} of {uri!r}."
                f" Installed schemes: {installed}."
            )
        return table[scheme][0]

    def tracking_store(self, store_uri: str, artifact_uri: str | None = None) -> Any:
        """The tracking store for ``store_uri``, built once per URI and reused."""
        key = ("tracking", f"{store_uri}\0{artifact_uri}")
        with self._lock:
            if key not in self._cache:
                provider = self._lookup(self.tracking_store_providers(), store_uri, "tracking store")
                self._cache[key] = provider.factory(store_uri, artifact_uri)
            return self._cache[key]

    def registry_store(self, store_uri: str) -> Any:
        key = ("registry", store_uri)
        with self._lock:
            if key not in self._cache:
                provider = self._lookup(self.registry_store_providers(), store_uri, "registry store")
                self._cache[key] = provider.factory(store_uri)
            return self._cache[key]

    def artifact_repository(self, artifact_uri: str) -> Any:
        provider = self._lookup(self.artifact_repository_providers(), artifact_uri, "artifact repository")
        return provider.factory(artifact_uri)

    def flavor(self, name: str) -> Any:
        table = self.flavor_providers()
        if name not in table:
            raise PluginError(f"No plugin provides the flavor {name!r}. Installed flavors: {sorted(table)}.")
        return table[name][0].flavor

    def project_backend(self, name: str) -> Any:
        table = self.project_backend_providers()
        if name not in table:
            raise PluginError(f"No project backend {name!r}. Installed backends: {sorted(table)}.")
        return table[name][0].factory

    def close(self) -> None:
        """Close every store built by this manager."""
        with self._lock:
            for store in self._cache.values():
                close = getattr(store, "close", None)
                if close is not None:
                    close()
            self._cache.clear()

    # -- listing ----------------------------------------------------------------
    def describe(self) -> list[PluginRecord]:
        """Every plugin seen, with the hooks it implements and what it provides."""
        for record in self.records.values():
            record.provides = []
        describers: dict[str, Callable[[Any], str]] = {
            "headwater_tracking_stores": lambda p: f"tracking store {p.name} ({', '.join(p.schemes)})",
            "headwater_registry_stores": lambda p: f"registry store {p.name} ({', '.join(p.schemes)})",
            "headwater_artifact_repositories": lambda p: f"artifact repository {p.name} ({', '.join(repr(s) for s in p.schemes)})",
            "headwater_flavors": lambda p: f"flavor {p.name}",
            "headwater_observers": lambda p: f"observer {p.name} ({', '.join(sorted(p.receivers))})",
            "headwater_server_extensions": lambda p: f"server extension {p.name}",
            "headwater_project_backends": lambda p: f"project backend {p.name}",
        }
        for hook_name, describe in describers.items():
            for item, record in self._results(hook_name):
                record.provides.append(describe(item))
        return list(self.records.values())


def make_plugin_manager(
    load_entrypoints: bool = True,
    environ: Mapping[str, str] | None = None,
    builtins: Iterable[str] = DEFAULT_PLUGINS,
) -> HeadwaterPluginManager:
    """Build a plugin manager with the built-ins and (by default) installed plugins."""
    manager = HeadwaterPluginManager(environ)
    manager.load_builtins(builtins)
    if load_entrypoints:
        manager.load_entrypoints()
    manager.pm.check_pending()
    return manager


_default: HeadwaterPluginManager | None = None
_default_lock = threading.Lock()


def get_plugin_manager() -> HeadwaterPluginManager:
    """The process's plugin manager, built on first use (never at import)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = make_plugin_manager()
        return _default


def reset_plugin_manager(manager: HeadwaterPluginManager | None = None) -> None:
    """Replace (or drop, with None) the process's plugin manager; for tests and embedding."""
    global _default
    with _default_lock:
        if _default is not None and _default is not manager:
            _default.close()
        _default = manager
