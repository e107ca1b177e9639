"""Webhooks and their delivery history, in the tracking store's database.

Secrets are stored Fernet-encrypted. The key comes from
``HEADWATER_WEBHOOK_SECRET_KEY`` (any string; the Fernet key is derived from
it), else from a random key created once and kept in the ``webhook_keys``
table, so that every server process and every restart can read the secrets.
Set the variable in production: then a copy of the database alone does not
reveal them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken

from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.store.paging import decode_page_token, encode_page_token
from headwater_store_sql import dialects
from headwater_store_sql.chains import upgrade_chain
from headwater_store_sql.engine import create_engine, write_engine

from headwater_webhooks.catalog import parse_event
from headwater_webhooks.schema import HEAD_REVISION, VERSION_TABLE, webhook_deliveries, webhook_keys, webhooks

KEY_ENV = "HEADWATER_WEBHOOK_SECRET_KEY"
STATUSES = ("ACTIVE", "DISABLED")
MAX_RESULTS_LIMIT = 1000


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Webhook:
    webhook_id: str
    name: str
    description: str | None
    url: str
    events: tuple[tuple[str, str], ...]
    experiment_ids: frozenset[str] | None
    model_names: frozenset[str] | None
    status: str
    creation_timestamp: int
    last_updated_timestamp: int
    secret: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The REST form (the secret is never shown)."""
        from headwater_webhooks.catalog import event_json

        out: dict[str, Any] = {
            "webhook_id": self.webhook_id,
            "name": self.name,
            "url": self.url,
            "events": [event_json(pair) for pair in self.events],
            "status": self.status,
            "creation_timestamp": self.creation_timestamp,
            "last_updated_timestamp": self.last_updated_timestamp,
        }
        if self.description:
            out["description"] = self.description
        if self.experiment_ids is not None:
            out["experiment_ids"] = sorted(self.experiment_ids)
        if self.model_names is not None:
            out["model_names"] = sorted(self.model_names)
        return out


def _id_list(value: Any, what: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise HeadwaterError.invalid(f"Invalid value for '{what}': expected a list of strings.")
    return [str(v) for v in value]


class WebhookStore:
    def __init__(self, uri: str):
        self.engine = create_engine(uri)
        self._writer = write_engine(self.engine)
        upgrade_chain(self.engine, "headwater_webhooks:migrations", VERSION_TABLE, HEAD_REVISION)
        self._fernet = Fernet(self._key())

    # -- secrets ----------------------------------------------------------------------------------
    def _key(self) -> bytes:
        configured = os.environ.get(KEY_ENV) or os.environ.get("MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY")
        if configured:
            return base64.urlsafe_b64encode(hashlib.sha256(configured.encode("utf-8")).digest())
        with self._writer.begin() as conn:
            conn.execute(dialects.insert_ignore(self.engine.dialect.name, webhook_keys),
                         {"id": 1, "fernet_key": Fernet.generate_key().decode("ascii")})
            return conn.execute(sa.select(webhook_keys.c.fernet_key)).scalar_one().encode("ascii")

    def _encrypt(self, secret: str | None) -> str | None:
        return self._fernet.encrypt(secret.encode("utf-8")).decode("ascii") if secret else None

    def _decrypt(self, token: str | None) -> str | None:
        if not token:
            return None
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise HeadwaterError(
                f"A webhook secret cannot be decrypted: {KEY_ENV} differs from the key it was saved with.",
                ErrorCode.INTERNAL_ERROR,
            ) from None

    # -- rows ------------------------------------------------------------------------------------------
    def _webhook(self, row: Any, with_secret: bool = False) -> Webhook:
        experiment_ids = json.loads(row.experiment_ids) if row.experiment_ids else None
        model_names = json.loads(row.model_names) if row.model_names else None
        return Webhook(
            webhook_id=row.webhook_id,
            name=row.name,
            description=row.description,
            url=row.url,
            events=tuple(tuple(pair) for pair in json.loads(row.events)),  # type: ignore[misc]
            experiment_ids=frozenset(experiment_ids) if experiment_ids is not None else None,
            model_names=frozenset(model_names) if model_names is not None else None,
            status=row.status,
            creation_timestamp=row.creation_timestamp,
            last_updated_timestamp=row.last_updated_timestamp,
            secret=self._decrypt(row.secret) if with_secret else None,
        )

    @staticmethod
    def _values(fields: dict[str, Any], partial: bool) -> dict[str, Any]:
        """Validated column values from a request's fields."""
        out: dict[str, Any] = {}
        if "name" in fields or not partial:
            name = fields.get("name")
            if not isinstance(name, str) or not name.strip():
                raise HeadwaterError.invalid("Missing value for required parameter 'name'.")
            if len(name) > 256:
                raise HeadwaterError.invalid("Webhook name is longer than 256 characters.")
            out["name"] = name
        if "url" in fields or not partial:
            url = fields.get("url")
            if not isinstance(url, str) or not url:
                raise HeadwaterError.invalid("Missing value for required parameter 'url'.")
            out["url"] = url
        if "events" in fields or not partial:
            events = fields.get("events")
            if not isinstance(events, list) or not events:
                raise HeadwaterError.invalid("Missing value for required parameter 'events'.")
            out["events"] = json.dumps(sorted({parse_event(e) for e in events}))
        if "description" in fields:
            out["description"] = fields["description"]
        if "status" in fields and fields["status"] is not None:
            status = str(fields["status"]).upper()
            if status not in STATUSES:
                raise HeadwaterError.invalid(f"Invalid webhook status '{fields['status']}'. Valid: {list(STATUSES)}")
            out["status"] = status
        for key in ("experiment_ids", "model_names"):
            if key in fields:
                values = _id_list(fields[key], key)
                out[key] = json.dumps(sorted(set(values))) if values else None
        return out

    # -- CRUD ------------------------------------------------------------------------------------------
    def create(self, fields: dict[str, Any]) -> Webhook:
        values = self._values(fields, partial=False)
        t = now_ms()
        row = {
            "webhook_id": uuid.uuid4().hex, "description": None, "experiment_ids": None, "model_names": None,
            "status": "ACTIVE", **values, "secret": self._encrypt(fields.get("secret")),
            "creation_timestamp": t, "last_updated_timestamp": t,
        }
        with self._writer.begin() as conn:
            conn.execute(sa.insert(webhooks), row)
        return self.get(row["webhook_id"])

    def get(self, webhook_id: str, with_secret: bool = False) -> Webhook:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(webhooks).where(webhooks.c.webhook_id == webhook_id)).first()
        if row is None:
            raise HeadwaterError.not_found(f"Webhook with ID {webhook_id} not found.")
        return self._webhook(row, with_secret)

    def list(self, max_results: int | None = None, page_token: str | None = None) -> tuple[list[Webhook], str | None]:
        limit = 100 if max_results is None else int(max_results)
        if not 1 <= limit <= MAX_RESULTS_LIMIT:
            raise HeadwaterError.invalid(f"max_results must be between 1 and {MAX_RESULTS_LIMIT}.")
        offset = decode_page_token(page_token)
        query = (sa.select(webhooks).order_by(webhooks.c.creation_timestamp, webhooks.c.webhook_id)
                 .offset(offset).limit(limit + 1))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        token = encode_page_token(offset + limit) if len(rows) > limit else None
        return [self._webhook(r) for r in rows[:limit]], token

    def update(self, webhook_id: str, fields: dict[str, Any]) -> Webhook:
        self.get(webhook_id)
        values = self._values(fields, partial=True)
        if "secret" in fields:
            values["secret"] = self._encrypt(fields.get("secret"))
        values["last_updated_timestamp"] = now_ms()
        with self._writer.begin() as conn:
            conn.execute(sa.update(webhooks).where(webhooks.c.webhook_id == webhook_id).values(**values))
        return self.get(webhook_id)

    def delete(self, webhook_id: str) -> None:
        with self._writer.begin() as conn:
            if not conn.execute(sa.delete(webhooks).where(webhooks.c.webhook_id == webhook_id)).rowcount:
                raise HeadwaterError.not_found(f"Webhook with ID {webhook_id} not found.")
            conn.execute(sa.delete(webhook_deliveries).where(webhook_deliveries.c.webhook_id == webhook_id))

    def active(self) -> list[Webhook]:
        """Every ACTIVE webhook, secrets decrypted (what the deliveries need)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(webhooks).where(webhooks.c.status == "ACTIVE")).all()
        return [self._webhook(r, with_secret=True) for r in rows]

    # -- delivery history ------------------------------------------------------------------------------
    def record_attempts(self, attempts: list[dict[str, Any]]) -> None:
        """Add attempts to the history in one transaction; each has the columns of a first attempt."""
        d = webhook_deliveries.c
        with self._writer.begin() as conn:
            for a in attempts:
                updated = conn.execute(
                    sa.update(webhook_deliveries)
                    .where(d.webhook_id == a["webhook_id"], d.event_id == a["event_id"])
                    .values(status=a["status"], attempts=d.attempts + a["attempts"],
                            response_status=a["response_status"], last_error=a["last_error"],
                            last_attempt_at=a["last_attempt_at"])
                ).rowcount
                if not updated:
                    conn.execute(sa.insert(webhook_deliveries), a)

    def deliveries(self, webhook_id: str, max_results: int = 100) -> list[dict[str, Any]]:
        self.get(webhook_id)
        d = webhook_deliveries.c
        query = (sa.select(webhook_deliveries).where(d.webhook_id == webhook_id)
                 .order_by(d.last_attempt_at.desc()).limit(max(1, min(int(max_results), 1000))))
        with self.engine.connect() as conn:
            # str(): column names are str subclasses, which orjson refuses as keys.
            return [{str(k): v for k, v in row._asdict().items() if k != "webhook_id"} for row in conn.execute(query)]
