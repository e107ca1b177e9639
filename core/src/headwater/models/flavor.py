"""The flavor contract, and finding the flavor plugin for a model or a loader module.

A flavor plugin yields ``FlavorProvider(name=..., flavor=<Flavor>)`` from its
``headwater_flavors`` hook. The flavor object subclasses :class:`Flavor` (or
just has the same methods); the core calls:

- ``can_save(model)`` to pick a flavor when ``save_model`` is given none
  (the highest ``specificity`` among those that accept the object wins);
- ``save(model, path, mlmodel, code=..., **options)`` to write the model's
  files and add its flavor entries (and, with
  :func:`~headwater.models.mlmodel.add_pyfunc`, the ``python_function``
  entry) to ``mlmodel``; it may return the pip requirements of what it
  wrote (else ``default_requirements()`` is used); requirements.txt pins
  them to the installed versions;
- ``load(model_path, flavor_conf)`` for the native object (``load_flavor``);
- ``load_pyfunc(model_path, pyfunc_conf, model_config)`` for an object with
  ``predict(data, params=None)``; it serves every ``loader_module`` named in
  ``loader_modules``, which is how models written by MLflow (``mlflow.sklearn``)
  find the Headwater plugin that reads them.

Loading a model deserialises what its files hold; for pickle-based formats
that runs code from the model directory. Load only models you trust.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from headwater.exceptions import ErrorCode, HeadwaterError


class Flavor:
    """Base class of flavor objects; override what the flavor supports."""

    name: str = ""
    loader_modules: tuple[str, ...] = ()
    specificity: int = 0
    distribution: str | None = None  # the package that provides this flavor, for error messages

    def can_save(self, model: Any) -> bool:
        return False

    def save(self, model: Any, path: str, mlmodel: Any, **options: Any) -> list[str] | None:
        raise HeadwaterError(f"The {self.name} flavor cannot save models.", ErrorCode.NOT_IMPLEMENTED)

    def default_requirements(self) -> list[str]:
        return []

    def load(self, model_path: str, flavor_conf: dict[str, Any]) -> Any:
        raise HeadwaterError(f"The {self.name} flavor cannot load models.", ErrorCode.NOT_IMPLEMENTED)

    def load_pyfunc(self, model_path: str, pyfunc_conf: dict[str, Any], model_config: dict[str, Any] | None = None) -> Any:
        raise HeadwaterError(f"The {self.name} flavor has no python_function loader.", ErrorCode.NOT_IMPLEMENTED)


def _manager(plugin_manager: Any = None) -> Any:
    if plugin_manager is not None:
        return plugin_manager
    from headwater.plugins.manager import get_plugin_manager

    return get_plugin_manager()


def suggested_distribution(flavor_name: str) -> str:
    return f"headwater-flavor-{flavor_name.replace('_', '-')}"


def installed_flavors(plugin_manager: Any = None) -> dict[str, Any]:
    """Flavor name → flavor object, for every installed flavor plugin."""
    return {name: provider.flavor for name, (provider, _) in _manager(plugin_manager).flavor_providers().items()}


def unknown_flavor_error(flavor_name: str, plugin_manager: Any = None, loader_module: str | None = None) -> HeadwaterError:
    installed = sorted(installed_flavors(plugin_manager))
    via = f" (python_function loader_module {loader_module!r})" if loader_module else ""
    return HeadwaterError(
        f"No installed plugin provides the model flavor {flavor_name!r}{via}. Installed flavors:"
        f" {installed or 'none'}. Install the plugin that provides it, e.g."
        f" `pip install {suggested_distribution(flavor_name)}`.",
        ErrorCode.RESOURCE_DOES_NOT_EXIST,
    )


def get_flavor(name: str, plugin_manager: Any = None) -> Any:
    """The installed flavor called ``name``; a clear error naming the installed ones otherwise."""
    flavors = installed_flavors(plugin_manager)
    if name not in flavors:
        raise unknown_flavor_error(name, plugin_manager)
    return flavors[name]


def flavor_for_loader_module(loader_module: str, plugin_manager: Any = None) -> Any | None:
    for flavor in installed_flavors(plugin_manager).values():
        if loader_module in tuple(getattr(flavor, "loader_modules", ()) or ()):
            return flavor
    return None


def flavor_for_model(model: Any, plugin_manager: Any = None) -> Any:
    """The installed flavor that can save ``model``: the most specific one that accepts it."""
    candidates = [
        flavor for flavor in installed_flavors(plugin_manager).values()
        if getattr(flavor, "can_save", None) is not None and flavor.can_save(model)
    ]
    if not candidates:
        raise HeadwaterError.invalid(
            f"No installed flavor can save a {type(model).__module__}.{type(model).__qualname__}."
            f" Installed flavors: {sorted(installed_flavors(plugin_manager)) or 'none'}. Pass flavor=<name>,"
            " install a flavor plugin for this kind of model, or wrap it in a PythonModel."
        )
    candidates.sort(key=lambda f: getattr(f, "specificity", 0), reverse=True)
    best = candidates[0]
    ties = [f.name for f in candidates if getattr(f, "specificity", 0) == getattr(best, "specificity", 0)]
    if len(ties) > 1:
        raise HeadwaterError.invalid(f"Several flavors can save this model: {ties}. Pass flavor=<name>.")
    return best


def import_loader_module(loader_module: str, flavor_hint: str) -> Any:
    """MLflow's generic contract: a module with ``_load_pyfunc``, when no plugin claims it."""
    try:
        found = importlib.util.find_spec(loader_module) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise unknown_flavor_error(flavor_hint, loader_module=loader_module)
    module = importlib.import_module(loader_module)
    if not hasattr(module, "_load_pyfunc"):
        raise HeadwaterError.invalid(f"The loader module {loader_module!r} has no _load_pyfunc function.")
    return module
