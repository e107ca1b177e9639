"""The metrics, where they come from, and the ``/metrics`` route.

- ``headwater_events_total{event}``: events this process committed, counted
  from the in-process ``ANY`` signal (every event, whether or not an observer
  is installed).
- ``headwater_http_request_duration_seconds{method,route,status}``: API
  latency, labelled with the route's path template (``/api/2.0/mlflow/runs/get``,
  ``/api/2.0/mlflow/webhooks/{webhook_id}``), never the raw path.
- ``headwater_outbox_unrouted``, ``headwater_outbox_lane_lag{lane}``,
  ``headwater_outbox_parked{lane}``: outbox depth, read from the database at
  scrape time (shared by all processes of the database).
- ``headwater_event_delivery_failures_total{lane,parked}`` and
  ``headwater_events_delivered_total{lane}``: this process's delivery outcomes.

Each process has its own registry: with ``--workers N`` scrape each worker,
or run one worker per port.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from headwater.events.delivery import delivered, delivery_failed
from headwater.events.signals import ANY

log = logging.getLogger("headwater.prometheus")

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class OutboxCollector:
    """Outbox depth and lane state, read when Prometheus scrapes (at most once a second)."""

    def __init__(self, state: Any):
        self.state = state
        self._cached: tuple[float, list[Any]] = (0.0, [])

    def _outboxes(self) -> list[Any]:
        found = []
        for store in (getattr(self.state, "store", None), getattr(getattr(self.state, "registry", None), "store", None)):
            outbox = getattr(store, "event_outbox", None)
            if outbox is not None and all(outbox.key != other.key for other in found):
                found.append(outbox)
        return found

    def collect(self) -> Any:
        at, families = self._cached
        if time.monotonic() - at < 1.0:
            return iter(families)
        unrouted = GaugeMetricFamily("headwater_outbox_unrouted", "Committed events not yet routed to lanes")
        lag = GaugeMetricFamily("headwater_outbox_lane_lag", "Events a lane has not been delivered yet", labels=["lane"])
        parked = GaugeMetricFamily("headwater_outbox_parked", "Deliveries parked after their last attempt",
                                   labels=["lane"])
        total = 0
        for outbox in self._outboxes():
            try:
                status = outbox.status()
            except Exception:
                log.exception("reading the outbox status failed")
                continue
            total += status["unrouted"]
            for lane in status["lanes"]:
                lag.add_metric([lane["lane"]], lane["lag"])
                parked.add_metric([lane["lane"]], lane["parked"])
        unrouted.add_metric([], total)
        families = [unrouted, lag, parked]
        self._cached = (time.monotonic(), families)
        return iter(families)


class Exporter:
    def __init__(self, state: Any):
        self.registry = CollectorRegistry()
        self.events = Counter("headwater_events", "Events committed by this process", ["event"],
                              registry=self.registry)
        self.latency = Histogram("headwater_http_request_duration_seconds", "API request latency",
                                 ["method", "route", "status"], buckets=_BUCKETS, registry=self.registry)
        self.failures = Counter("headwater_event_delivery_failures", "Failed delivery attempts",
                                ["lane", "parked"], registry=self.registry)
        self.delivered = Counter("headwater_events_delivered", "Events delivered to a lane", ["lane"],
                                 registry=self.registry)
        self.registry.register(OutboxCollector(state))
        # Weak: when the app (which holds this exporter) goes, so do the receivers.
        ANY.connect(self._on_event)
        delivery_failed.connect(self._on_failure)
        delivered.connect(self._on_delivered)

    def close(self) -> None:
        ANY.disconnect(self._on_event)
        delivery_failed.disconnect(self._on_failure)
        delivered.disconnect(self._on_delivered)

    def _on_event(self, sender: Any, event: Any, **extra: Any) -> None:
        self.events.labels(event.name).inc()

    def _on_failure(self, lane: str, parked: bool = False, **extra: Any) -> None:
        self.failures.labels(lane, "true" if parked else "false").inc()

    def _on_delivered(self, lane: str, count: int = 0, **extra: Any) -> None:
        self.delivered.labels(lane).inc(count)

    def metrics(self, request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class LatencyMiddleware:
    """ASGI middleware timing each HTTP request, labelled by the matched route's template."""

    def __init__(self, app: Any, histogram: Histogram, routes: Any = None):
        self.app = app
        self.histogram = histogram
        self._routes = routes
        self._templates: dict[Any, str] | None = None

    def template(self, scope: dict[str, Any]) -> str:
        """The matched route's path template (the router leaves the endpoint in the scope)."""
        route = scope.get("route")
        if route is not None and getattr(route, "path", None):
            return route.path
        if self._templates is None and self._routes is not None:
            self._templates = {getattr(r, "endpoint", None): r.path for r in self._routes() if hasattr(r, "path")}
        return (self._templates or {}).get(scope.get("endpoint"), "(unmatched)")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = {"code": 500}

        async def send_wrapper(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.histogram.labels(scope.get("method", ""), self.template(scope), str(status["code"])).observe(
                time.perf_counter() - started)


def install_exporter(app: Any) -> Exporter:
    exporter = Exporter(app.state)
    app.state.prometheus = exporter
    app.router.routes.insert(0, Route(f"{app.state.static_prefix}/metrics", exporter.metrics, methods=["GET"]))
    app.add_middleware(LatencyMiddleware, histogram=exporter.latency, routes=lambda: app.router.routes)
    return exporter
