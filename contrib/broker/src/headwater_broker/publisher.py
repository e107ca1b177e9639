"""Publishing events to a JetStream stream from synchronous code.

nats-py is asyncio; the publisher runs its own event loop on a daemon thread.
``publish`` queues an event; ``flush`` (once per delivered batch) publishes
the queue in one go, pipelined, waits for every acknowledgement (the stream
has stored the message) and raises if any failed, so the outbox delivers the
batch again. The event id
goes in the ``Nats-Msg-Id`` header: within the stream's duplicate window
JetStream stores a message id once, so a batch delivered twice is stored once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from headwater.events.catalogue import Event

log = logging.getLogger("headwater.broker")

ACK_TIMEOUT_SECONDS = 10.0


class JetStreamPublisher:
    def __init__(self, url: str, stream: str = "HEADWATER", prefix: str = "headwater.events"):
        self.url = url
        self.stream = stream
        self.prefix = prefix.rstrip(".")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="headwater-nats", daemon=True)
        self._thread.start()
        self._js: Any = None
        self._pending: list[tuple[str, bytes, str]] = []

    def subject(self, event_name: str) -> str:
        return f"{self.prefix}.{event_name}"

    async def _jetstream(self) -> Any:
        if self._js is None:
            import nats
            from nats.js.errors import NotFoundError

            client = await nats.connect(self.url, connect_timeout=5, max_reconnect_attempts=-1)
            js = client.jetstream()
            try:
                await js.stream_info(self.stream)
            except NotFoundError:
                await js.add_stream(name=self.stream, subjects=[f"{self.prefix}.>"])
            self._js = js
        return self._js

    def publish(self, event: Event) -> None:
        """Queue ``event``; :meth:`flush` sends the queue."""
        self._pending.append((self.subject(event.name), event.public_json().encode("utf-8"), event.id))

    async def _publish_all(self, batch: list[tuple[str, bytes, str]]) -> list[Any]:
        js = await self._jetstream()
        return await asyncio.gather(
            *(js.publish(subject, data, headers={"Nats-Msg-Id": msg_id}, timeout=ACK_TIMEOUT_SECONDS)
              for subject, data, msg_id in batch),
            return_exceptions=True,
        )

    def flush(self) -> None:
        """Publish the queued events at once (pipelined) and wait for every acknowledgement."""
        batch, self._pending = self._pending, []
        if not batch:
            return
        future = asyncio.run_coroutine_threadsafe(self._publish_all(batch), self._loop)
        results = future.result(ACK_TIMEOUT_SECONDS * 2)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise RuntimeError(f"{len(errors)} of {len(batch)} events were not stored by JetStream: {errors[0]}")
