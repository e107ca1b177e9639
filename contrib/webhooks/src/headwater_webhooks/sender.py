"""Sending one delivery: the body, MLflow's headers and signature, and what a failure means.

Headers (as MLflow's webhooks send them): ``X-MLflow-Delivery-Id`` (a UUID,
the same on every attempt at one event, so receivers can drop repeats),
``X-MLflow-Timestamp`` (Unix seconds) and, when the webhook has a secret,
``X-MLflow-Signature: v1,<base64 HMAC-SHA256 of "<delivery id>.<timestamp>.<body>">``.
``X-Headwater-Event-Id`` carries the event id.

One call is one attempt; retrying is the outbox dispatcher's job. A 2xx is
delivered; 408, 429 and 5xx, timeouts and connection errors are retried
(``Retry-After`` honoured); any other status or a refused address is parked.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import requests

from headwater.events.catalogue import Event
from headwater.events.delivery import GiveUp, RetryLater

from headwater_webhooks.catalog import body as event_body
from headwater_webhooks.security import AddressRefused

_NAMESPACE = uuid.UUID("6f1d2c1e-7b0a-4c38-9d1e-2f8a4b6c0d13")
RETRY_STATUSES = {408, 429, 500, 502, 503, 504}
USER_AGENT = "headwater-webhooks/0.1"


def delivery_id(webhook_id: str, event_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{webhook_id}:{event_id}"))


def signature(secret: str, delivery: str, timestamp: str, payload: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"{delivery}.{timestamp}.{payload}".encode("utf-8"),
                      hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def request_for(webhook: Any, event: Event, delivery: str) -> tuple[str, dict[str, str]]:
    payload = json.dumps(event_body(event), separators=(",", ":"), allow_nan=False)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-MLflow-Delivery-Id": delivery,
        "X-MLflow-Timestamp": timestamp,
        "X-Headwater-Event-Id": event.id,
    }
    if webhook.secret:
        headers["X-MLflow-Signature"] = signature(webhook.secret, delivery, timestamp, payload)
    return payload, headers


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time()) if when else None


@dataclass
class Outcome:
    success: bool
    response_status: int | None = None
    response_body: str | None = None
    error: str | None = None
    retry: bool = False
    retry_after: float | None = None


def send(session: requests.Session, webhook: Any, event: Event, timeout: float) -> Outcome:
    """POST ``event`` to ``webhook`` once."""
    payload, headers = request_for(webhook, event, delivery_id(webhook.webhook_id, event.id))
    try:
        response = session.post(webhook.url, data=payload.encode("utf-8"), headers=headers, timeout=timeout,
                                allow_redirects=False)
    except AddressRefused as exc:
        return Outcome(False, error=str(exc))
    except requests.RequestException as exc:
        return Outcome(False, error=f"{type(exc).__name__}: {exc}", retry=True)
    text = response.text[:1000]
    if 200 <= response.status_code < 300:
        return Outcome(True, response.status_code, text)
    retry = response.status_code in RETRY_STATUSES
    return Outcome(False, response.status_code, text, f"HTTP {response.status_code}: {text[:200]}", retry,
                   _retry_after(response) if retry else None)


def raise_for(outcome: Outcome) -> None:
    """Turn a failed outcome into what the dispatcher understands."""
    if outcome.success:
        return
    if outcome.retry:
        raise RetryLater(outcome.error or "delivery failed", outcome.retry_after)
    raise GiveUp(outcome.error or "delivery refused")
