"""One blinker signal per catalogue event, plus ``ANY`` that carries every event.

Receivers take ``(sender, event, **extra)``; their return values are ignored.
Plugins that announce events of their own should use their own Namespace.
"""

from __future__ import annotations

from blinker import Namespace, NamedSignal

from headwater.events.catalogue import EVENT_NAMES

_namespace = Namespace()

ANY: NamedSignal = _namespace.signal("*", doc="Sent for every event, after its own signal.")


def signal(name: str) -> NamedSignal:
    """The signal for an event name (``"*"`` is :data:`ANY`)."""
    return _namespace.signal(name)


# Create the catalogue's signals up front so they can be imported by name.
CATALOGUE = {name: signal(name) for name in EVENT_NAMES}
