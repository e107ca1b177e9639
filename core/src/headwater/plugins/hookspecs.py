"""Hook specifications: every way a plugin can extend Headwater.

One class per family. Each hook takes no arguments and returns an iterable of
records from :mod:`headwater.plugins.types`; a plugin implements only the hooks
it needs. Example, a complete tracking-store plugin module::

    from headwater.plugins import hookimpl
    from headwater.plugins.types import TrackingStoreProvider

    @hookimpl
    def headwater_tracking_stores():
        from my_store import MyStore          # heavy imports inside, not at top
        yield TrackingStoreProvider(name="mine", schemes=("mine",),
                                    factory=lambda uri, artifact_uri: MyStore(uri))

Register it in ``pyproject.toml``::

    [project.entry-points.headwater]
    mine = "my_store_plugin"
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

import pluggy

if TYPE_CHECKING:
    from headwater.plugins.types import (
        ArtifactRepositoryProvider,
        FlavorProvider,
        Observer,
        ProjectBackendProvider,
        RegistryStoreProvider,
        ServerExtension,
        TrackingStoreProvider,
    )

PROJECT_NAME = "headwater"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)


class TrackingStoreSpecs:
    @hookspec
    def headwater_tracking_stores(self) -> Iterable["TrackingStoreProvider"]:
        """Tracking stores this plugin offers, each for the URI schemes it claims.

        A tracking URI is routed by its scheme; database URIs are routed by the
        engine (``mysql+pymysql://`` is ``mysql``). Two plugins claiming one
        scheme is an error naming both distributions.

        Example::

            yield TrackingStoreProvider(name="sql", schemes=("sqlite", "postgresql"),
                                        factory=lambda uri, artifact_uri: SqlStore(uri, artifact_uri))
        """


class RegistryStoreSpecs:
    @hookspec
    def headwater_registry_stores(self) -> Iterable["RegistryStoreProvider"]:
        """Model-registry stores this plugin offers, by URI scheme.

        The registry URI defaults to the tracking URI.

        Example::

            yield RegistryStoreProvider(name="sql", schemes=("sqlite",), factory=SqlRegistry)
        """


class ArtifactRepositorySpecs:
    @hookspec
    def headwater_artifact_repositories(self) -> Iterable["ArtifactRepositoryProvider"]:
        """Artifact repositories this plugin offers, by URI scheme.

        Example::

            yield ArtifactRepositoryProvider(name="s3", schemes=("s3",), factory=S3Repository)
        """


class FlavorSpecs:
    @hookspec
    def headwater_flavors(self) -> Iterable["FlavorProvider"]:
        """Model flavors this plugin offers, by flavor name (as in MLmodel files).

        The flavor object follows :class:`headwater.models.flavor.Flavor`:
        ``can_save``/``save`` for saving, ``load`` for the native object, and
        ``load_pyfunc`` for the ``python_function`` loader modules it lists in
        ``loader_modules``.

        Example::

            yield FlavorProvider(name="sklearn", flavor=SklearnFlavor())
        """


class ObserverSpecs:
    @hookspec
    def headwater_observers(self) -> Iterable["Observer"]:
        """Observers of tracking events this plugin offers.

        The core connects each receiver to the blinker signal of its event
        name and delivers off the caller's path: a receiver that raises or
        blocks never affects the call that raised the event.

        Example::

            def on_metric(sender, event, **extra):
                print(event.payload)

            yield Observer(name="printer", receivers={"log_metric": on_metric})
        """


class ServerSpecs:
    @hookspec
    def headwater_server_extensions(self) -> Iterable["ServerExtension"]:
        """Routes, middleware or UI pages added to the tracking server.

        Example::

            def install(app):
                @app.get("/hello")
                def hello():
                    return {"hello": "world"}

            yield ServerExtension(name="hello", install=install)
        """


class ProjectBackendSpecs:
    @hookspec
    def headwater_project_backends(self) -> Iterable["ProjectBackendProvider"]:
        """Backends that run MLproject entry points, by name (``--backend NAME``).

        Example::

            yield ProjectBackendProvider(name="pool", factory=PoolBackend)
        """


ALL_SPECS = (
    TrackingStoreSpecs,
    RegistryStoreSpecs,
    ArtifactRepositorySpecs,
    FlavorSpecs,
    ObserverSpecs,
    ServerSpecs,
    ProjectBackendSpecs,
)
