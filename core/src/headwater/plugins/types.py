"""Records that plugins return from their hooks.

Each hook of :mod:`headwater.plugins.hookspecs` returns an iterable of one of
these frozen records. The plugin manager reads them, checks that no two
distributions claim the same scheme or name, and hands the factories to the
core when a URI or flavor asks for them.
"""

from __future__ import annotations

from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, field_validator


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)


class _SchemeRecord(_Record):
    name: str
    schemes: tuple[str, ...]

    @field_validator("schemes")
    @classmethod
    def _lower(cls, schemes: tuple[str, ...]) -> tuple[str, ...]:
        if not schemes:
            raise ValueError("a provider must claim at least one URI scheme")
        return tuple(s.lower() for s in schemes)


class TrackingStoreProvider(_SchemeRecord):
    """Builds a :class:`~headwater.store.TrackingStore` for the URIs it claims.

    ``factory(store_uri, artifact_uri)`` returns the store; ``artifact_uri`` is
    the default artifact root for new experiments (None: the store decides).
    """

    factory: Callable[[str, str | None], Any]


class RegistryStoreProvider(_SchemeRecord):
    """Builds a :class:`~headwater.store.RegistryStore`; ``factory(store_uri)``."""

    factory: Callable[[str], Any]


class ArtifactRepositoryProvider(_SchemeRecord):
    """Builds an :class:`~headwater.store.ArtifactRepository`; ``factory(artifact_uri)``.

    The empty scheme ``""`` stands for plain local paths.
    """

    factory: Callable[[str], Any]


class FlavorProvider(_Record):
    """A model flavor: how to save, load and predict one kind of model.

    ``flavor`` is the flavor object, following :class:`headwater.models.flavor.Flavor`
    (``can_save``, ``save``, ``load``, ``load_pyfunc``, ``loader_modules``,
    ``specificity``); ``load_flavor`` needs only ``load(model_path, flavor_conf)``.
    See docs/plugins/hooks.md.
    """

    name: str
    flavor: Any


class Observer(_Record):
    """Receivers for tracking events.

    ``receivers`` maps an event name (or ``"*"`` for every event) to a
    callable ``receiver(sender, event=..., **extra)``. Return values are
    ignored and exceptions are logged, never raised into the caller.

    On the server, delivery is durable (docs/observers.md): a receiver that
    raises gets the event again later, and the optional hooks apply:
    ``flush()`` runs after each delivered batch (raise to have the batch
    delivered again), ``tick()`` about once a second in the one server
    process that delivers to this observer, and ``subscriptions()`` returns
    the observer's current :class:`~headwater.events.delivery.Subscription`
    records, each delivered as a lane of its own (one per webhook, say).
    """

    name: str
    receivers: dict[str, Callable[..., Any]] = {}
    flush: Callable[[], None] | None = None
    tick: Callable[[], None] | None = None
    subscriptions: Callable[[], Any] | None = None


class ServerExtension(_Record):
    """Extra routes or middleware for the tracking server.

    ``install(app)`` is called with the server's ASGI application before it
    starts serving.
    """

    name: str
    install: Callable[[Any], None]


class ProjectBackendProvider(_Record):
    """Runs an MLproject entry point somewhere; selected by ``--backend NAME``."""

    name: str
    factory: Callable[..., Any]
