"""Alert rules: stored, validated when saved, and evaluated against events and running runs.

A rule has a ``filter`` in the run search grammar (which runs it watches; empty:
all), a ``condition`` (:mod:`headwater_alerts.conditions`), the ``url`` the
notification is POSTed to, and a ``format``: ``slack`` (``{"text": ...,
"blocks": [...]}``, what Slack-compatible incoming webhooks take) or ``json``.
Each rule notifies once per run. Notifications go through the webhooks'
guarded session: the same SSRF rules apply, checked on the connected address.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from headwater.entities import Run
from headwater.events.catalogue import Event
from headwater.events.delivery import GiveUp, RetryLater
from headwater.exceptions import HeadwaterError
from headwater.search import parse_filter
from headwater.search.errors import SearchSyntaxError
from headwater.search.evaluate import matches_run
from headwater_store_sql import dialects
from headwater_store_sql.chains import upgrade_chain
from headwater_store_sql.engine import create_engine, write_engine
from headwater_webhooks.security import AddressRefused, NetworkPolicy, guarded_session

from headwater_alerts.conditions import Condition, parse_condition
from headwater_alerts.schema import HEAD_REVISION, VERSION_TABLE, alert_firings, alert_rules

FORMATS = ("slack", "json")
WATCHED_EVENTS = frozenset({"log_metric", "log_batch", "update_run"})


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Rule:
    rule_id: str
    name: str
    filter: str | None
    condition: str
    url: str
    format: str
    status: str
    creation_timestamp: int

    @property
    def parsed(self) -> Condition:
        return parse_condition(self.condition)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def validate(fields: dict[str, Any], policy: NetworkPolicy) -> dict[str, Any]:
    """Column values for a new rule; refused with the position of a malformed filter or condition."""
    name = fields.get("name")
    if not isinstance(name, str) or not name.strip():
        raise HeadwaterError.invalid("Missing value for required parameter 'name'.")
    condition = fields.get("condition")
    if not isinstance(condition, str):
        raise HeadwaterError.invalid("Missing value for required parameter 'condition'.")
    parse_condition(condition)
    filter_string = fields.get("filter") or None
    if filter_string is not None:
        try:
            parse_filter(filter_string, "runs")
        except SearchSyntaxError as err:
            raise SearchSyntaxError(f"Invalid alert filter: {err.message.split(' at position')[0]}",
                                    err.position) from None
    url = fields.get("url")
    if not isinstance(url, str) or not url:
        raise HeadwaterError.invalid("Missing value for required parameter 'url'.")
    policy.check_url(url)
    fmt = str(fields.get("format") or "slack").lower()
    if fmt not in FORMATS:
        raise HeadwaterError.invalid(f"Invalid alert format '{fmt}'. Valid formats are: {list(FORMATS)}")
    return {"name": name, "filter": filter_string, "condition": condition, "url": url, "format": fmt}


class AlertEngine:
    """The rules of one server, the alerts lane's receiver and its periodic silence check."""

    def __init__(self, database_uri: str, tracking_store: Any, policy: NetworkPolicy | None = None,
                 timeout: float = 10.0, base_url: str | None = None):
        self.engine = create_engine(database_uri)
        self._writer = write_engine(self.engine)
        upgrade_chain(self.engine, "headwater_alerts:migrations", VERSION_TABLE, HEAD_REVISION)
        self.tracking = tracking_store
        self.policy = policy or NetworkPolicy.from_env()
        self.timeout = timeout
        self.base_url = base_url
        self._session = None
        self._rules: tuple[float, list[Rule]] = (0.0, [])
        self._last_silence_check = 0.0

    # -- rules ----------------------------------------------------------------------------------------
    def create(self, fields: dict[str, Any]) -> Rule:
        row = {"rule_id": uuid.uuid4().hex, **validate(fields, self.policy), "status": "ACTIVE",
               "creation_timestamp": now_ms()}
        with self._writer.begin() as conn:
            conn.execute(sa.insert(alert_rules), row)
        self._rules = (0.0, [])
        return Rule(**row)

    def list(self) -> list[Rule]:
        with self.engine.connect() as conn:
            return [Rule(**r._asdict()) for r in conn.execute(sa.select(alert_rules).order_by(
                alert_rules.c.creation_timestamp))]

    def get(self, rule_id: str) -> Rule:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(alert_rules).where(alert_rules.c.rule_id == rule_id)).first()
        if row is None:
            raise HeadwaterError.not_found(f"Alert rule with ID {rule_id} not found.")
        return Rule(**row._asdict())

    def delete(self, rule_id: str) -> None:
        with self._writer.begin() as conn:
            if not conn.execute(sa.delete(alert_rules).where(alert_rules.c.rule_id == rule_id)).rowcount:
                raise HeadwaterError.not_found(f"Alert rule with ID {rule_id} not found.")
            conn.execute(sa.delete(alert_firings).where(alert_firings.c.rule_id == rule_id))
        self._rules = (0.0, [])

    def firings(self, rule_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(alert_firings).where(alert_firings.c.rule_id == rule_id)
                                .order_by(alert_firings.c.fired_at))
            return [{str(k): v for k, v in r._asdict().items()} for r in rows]

    def active_rules(self) -> list[Rule]:
        at, rules = self._rules
        if time.monotonic() - at > 1.0:
            rules = [r for r in self.list() if r.status == "ACTIVE"]
            self._rules = (time.monotonic(), rules)
        return rules

    # -- evaluation ---------------------------------------------------------------------------------
    def deliver(self, event: Event) -> None:
        """The alerts lane's receiver: check the rules an event may trigger."""
        rules = self.active_rules()
        if not rules or event.name not in WATCHED_EVENTS:
            return
        payload = event.payload
        if event.name == "update_run":
            for rule in rules:
                condition = rule.parsed
                if condition.kind == "status" and payload.status == condition.status:
                    self._maybe_fire(rule, payload.run_id, condition.describe())
            return
        points = [(payload.key, payload.value)] if event.name == "log_metric" else \
            [(m.key, m.value) for m in payload.metrics]
        for rule in rules:
            condition = rule.parsed
            for key, value in points:
                if condition.metric_fires(key, value):
                    self._maybe_fire(rule, payload.run_id, condition.describe(value))
                    break

    def tick(self) -> None:
        """Every 30 s: running runs of silence rules that logged no metric for too long."""
        if time.monotonic() - self._last_silence_check < 30:
            return
        self._last_silence_check = time.monotonic()
        self.check_silence()

    def check_silence(self) -> None:
        now = now_ms()
        for rule in self.active_rules():
            condition = rule.parsed
            if condition.kind != "silence":
                continue
            wanted = "attributes.status = 'RUNNING'" + (f" and {rule.filter}" if rule.filter else "")
            experiments = [e.experiment_id for e in self.tracking.search_experiments(max_results=1000).items]
            if not experiments:
                continue
            for run in self.tracking.search_runs(experiments, wanted, max_results=1000).items:
                last = max((m.timestamp for m in run.data.latest_metrics), default=run.info.start_time or now)
                if now - last >= (condition.seconds or 0) * 1000:
                    self._maybe_fire(rule, run.info.run_id, condition.describe(), run)

    def _maybe_fire(self, rule: Rule, run_id: str, what: str, run: Run | None = None) -> None:
        if self._fired(rule.rule_id, run_id):
            return
        if run is None:
            try:
                run = self.tracking.get_run(run_id)
            except HeadwaterError:
                return
        if rule.filter and not matches_run(run, parse_filter(rule.filter, "runs")):
            return
        message = self.notify(rule, run, what)
        with self._writer.begin() as conn:
            conn.execute(dialects.insert_ignore(self.engine.dialect.name, alert_firings),
                         {"rule_id": rule.rule_id, "run_id": run_id, "fired_at": now_ms(), "message": message})

    def _fired(self, rule_id: str, run_id: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(alert_firings.c.run_id).where(
                alert_firings.c.rule_id == rule_id, alert_firings.c.run_id == run_id)).first() is not None

    # -- notifying -------------------------------------------------------------------------------------
    def body(self, rule: Rule, run: Run, what: str) -> tuple[str, dict[str, Any]]:
        info = run.info
        link = f"{self.base_url.rstrip('/')}/#/experiments/{info.experiment_id}/runs/{info.run_id}" \
            if self.base_url else None
        message = f"Alert '{rule.name}': run '{info.run_name}' ({info.run_id}) in experiment {info.experiment_id}: {what}"
        if rule.format == "json":
            return message, {
                "alert": rule.name, "rule_id": rule.rule_id, "condition": rule.condition, "filter": rule.filter,
                "run_id": info.run_id, "run_name": info.run_name, "experiment_id": info.experiment_id,
                "status": info.status.value if hasattr(info.status, "value") else str(info.status),
                "message": message, "link": link,
                "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(),
            }
        text = f":rotating_light: *{rule.name}*: run `{info.run_name}` — {what}" + (f" (<{link}|open>)" if link else "")
        return message, {
            "text": message,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
        }

    def notify(self, rule: Rule, run: Run, what: str) -> str:
        message, body = self.body(rule, run, what)
        if self._session is None:
            self._session = guarded_session(self.policy)
        try:
            response = self._session.post(rule.url, data=json.dumps(body).encode("utf-8"),
                                          headers={"Content-Type": "application/json"}, timeout=self.timeout,
                                          allow_redirects=False)
        except AddressRefused as exc:
            raise GiveUp(f"alert '{rule.name}': {exc}") from exc
        except Exception as exc:
            raise RetryLater(f"alert '{rule.name}' could not be sent: {exc}") from exc
        if response.status_code >= 300:
            raise RetryLater(f"alert '{rule.name}': HTTP {response.status_code}")
        return message
