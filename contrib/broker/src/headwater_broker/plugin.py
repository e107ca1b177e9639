"""Entry point of the ``broker`` plugin: an observer of every event, active when a NATS URL is set.

Settings: ``HEADWATER_NATS_URL`` (required to enable), ``HEADWATER_NATS_STREAM``
(default ``HEADWATER``), ``HEADWATER_NATS_SUBJECT_PREFIX`` (default
``headwater.events``: events go to ``headwater.events.<event name>``).
"""

from __future__ import annotations

import os
from typing import Any, Iterator

from headwater.plugins import hookimpl
from headwater.plugins.types import Observer

URL_ENV = "HEADWATER_NATS_URL"


@hookimpl
def headwater_observers() -> Iterator[Observer]:
    url = os.environ.get(URL_ENV)
    if not url:
        return
    from headwater_broker.publisher import JetStreamPublisher

    publisher = JetStreamPublisher(
        url,
        stream=os.environ.get("HEADWATER_NATS_STREAM", "HEADWATER"),
        prefix=os.environ.get("HEADWATER_NATS_SUBJECT_PREFIX", "headwater.events"),
    )

    def publish(sender: Any, event: Any, **extra: Any) -> None:
        publisher.publish(event)

    # Publishes are pipelined: flush() waits for the stream's acks of the whole batch.
    yield Observer(name="nats", receivers={"*": publish}, flush=publisher.flush)
