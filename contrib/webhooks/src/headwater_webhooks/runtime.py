"""The webhooks of one server: the store, a lane per active webhook, and each delivery attempt."""

from __future__ import annotations

import functools
import os
import threading
import time
from typing import Any

import requests

from headwater.events.catalogue import Event
from headwater.events.delivery import Subscription

from headwater_webhooks.catalog import EVENT_FOR_PAIR, parse_event, sample_event
from headwater_webhooks.security import NetworkPolicy, guarded_session
from headwater_webhooks.sender import Outcome, delivery_id, raise_for, send
from headwater_webhooks.store import Webhook, WebhookStore

TIMEOUT_ENV = "HEADWATER_WEBHOOK_TIMEOUT"
# How long a process may use a stale list of webhooks (a change made through another process).
REFRESH_SECONDS = 1.0


class WebhookRuntime:
    def __init__(self, database_uri: str, policy: NetworkPolicy | None = None, timeout: float | None = None):
        self.store = WebhookStore(database_uri)
        self.policy = policy or NetworkPolicy.from_env()
        self.timeout = timeout if timeout is not None else float(os.environ.get(TIMEOUT_ENV, "30"))
        self._local = threading.local()
        self._lock = threading.Lock()
        self._active: dict[str, Webhook] = {}
        self._loaded_at = 0.0
        self._attempts: dict[str, dict[str, dict[str, Any]]] = {}

    def session(self) -> requests.Session:
        """One guarded session per thread (each lane delivers on a thread of its own)."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = guarded_session(self.policy)
        return session

    # -- lanes ---------------------------------------------------------------------------------------
    def _refresh(self) -> dict[str, Webhook]:
        with self._lock:
            if time.monotonic() - self._loaded_at > REFRESH_SECONDS:
                self._active = {w.webhook_id: w for w in self.store.active()}
                self._loaded_at = time.monotonic()
            return self._active

    def forget_cache(self) -> None:
        with self._lock:
            self._loaded_at = 0.0

    def subscriptions(self) -> list[Subscription]:
        return [
            Subscription(
                key=w.webhook_id,
                deliver=functools.partial(self.deliver, w.webhook_id),
                events=frozenset(EVENT_FOR_PAIR[pair] for pair in w.events),
                experiment_ids=w.experiment_ids,
                model_names=w.model_names,
                since=w.creation_timestamp,
                flush=functools.partial(self.flush, w.webhook_id),
            )
            for w in self._refresh().values()
        ]

    def deliver(self, webhook_id: str, event: Event) -> None:
        webhook = self._refresh().get(webhook_id)
        if webhook is None:  # deleted or disabled since: nothing to send
            return
        outcome = send(self.session(), webhook, event, self.timeout)
        status = "delivered" if outcome.success else ("failed" if outcome.retry else "refused")
        t = int(time.time() * 1000)
        attempts = self._attempts.setdefault(webhook_id, {})
        earlier = attempts.get(event.id)
        attempts[event.id] = {
            "webhook_id": webhook_id, "event_id": event.id, "delivery_id": delivery_id(webhook_id, event.id),
            "event": event.name, "status": status, "attempts": (earlier["attempts"] if earlier else 0) + 1,
            "response_status": outcome.response_status, "last_error": outcome.error,
            "first_attempt_at": earlier["first_attempt_at"] if earlier else t, "last_attempt_at": t,
        }
        raise_for(outcome)

    def flush(self, webhook_id: str) -> None:
        """Save the batch's attempts to the history in one transaction (each lane runs on one thread)."""
        attempts = self._attempts.pop(webhook_id, None)
        if attempts:
            self.store.record_attempts(list(attempts.values()))

    # -- REST helpers --------------------------------------------------------------------------------
    def check(self, fields: dict[str, Any]) -> None:
        if fields.get("url"):
            self.policy.check_url(str(fields["url"]))

    def test(self, webhook_id: str, event: Any = None) -> Outcome:
        webhook = self.store.get(webhook_id, with_secret=True)
        pair = parse_event(event) if event else webhook.events[0]
        sample = sample_event(EVENT_FOR_PAIR[pair])
        return send(self.session(), webhook, sample, self.timeout)
