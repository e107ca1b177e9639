"""Fixtures for plugin authors, loaded by pytest through the ``pytest11`` entry point.

- ``headwater_plugin_manager``: a fresh plugin manager with only the core's
  built-ins (no installed entry points), so a test sees exactly the plugins it
  registers.
- ``register_headwater_plugin``: registers a throwaway plugin object on that
  manager and unregisters it when the test ends.

The store conformance suite is :class:`headwater.testing.TrackingStoreConformance`.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

# The kit's modules are imported later, from test files; rewrite their asserts
# so failures show the compared values.
pytest.register_assert_rewrite(
    "headwater.testing.conformance", "headwater.testing.registry_conformance", "headwater.testing.artifact_conformance"
)

from headwater.plugins.manager import HeadwaterPluginManager, make_plugin_manager  # noqa: E402


@pytest.fixture
def headwater_plugin_manager() -> Iterator[HeadwaterPluginManager]:
    """A plugin manager with the built-ins only; closed (stores included) at teardown."""
    manager = make_plugin_manager(load_entrypoints=False)
    yield manager
    manager.close()


@pytest.fixture
def register_headwater_plugin(
    headwater_plugin_manager: HeadwaterPluginManager,
) -> Iterator[Callable[..., Any]]:
    """``register(plugin, name=None)`` adds a plugin for this test only.

    ``plugin`` is a module, class or object with ``@hookimpl`` functions. The
    returned :class:`~headwater.plugins.manager.PluginRecord` tells whether it
    loaded (``status``/``error``). Everything registered is removed at teardown.
    """
    registered: list[tuple[Any, str]] = []

    def register(plugin: Any, name: str | None = None, distribution: str = "test-plugin", version: str = "0"):
        plugin_name = name or f"test-{getattr(plugin, '__name__', type(plugin).__name__)}"
        record = headwater_plugin_manager.register(plugin, plugin_name, distribution, version)
        registered.append((plugin, plugin_name))
        return record

    yield register
    for plugin, plugin_name in reversed(registered):
        if headwater_plugin_manager.pm.is_registered(plugin):
            headwater_plugin_manager.pm.unregister(plugin)
        headwater_plugin_manager.records.pop(plugin_name, None)
