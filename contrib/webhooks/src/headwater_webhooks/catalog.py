"""Webhook events as (entity, action) pairs, and the bodies receivers get.

The registry events MLflow's webhooks send keep MLflow's names and ``data``
fields (spec: registered_model.created, model_version.created,
model_version_tag.set/deleted, model_version_alias.created/deleted); every
other catalogue event gets a Headwater entity and action, with the event's
payload as ``data``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from headwater.events.catalogue import EVENT_PAYLOADS, Event
from headwater.exceptions import HeadwaterError

#: catalogue name -> (entity, action)
PAIRS: dict[str, tuple[str, str]] = {
    "create_experiment": ("experiment", "created"),
    "rename_experiment": ("experiment", "renamed"),
    "delete_experiment": ("experiment", "deleted"),
    "restore_experiment": ("experiment", "restored"),
    "set_experiment_tag": ("experiment_tag", "set"),
    "delete_experiment_tag": ("experiment_tag", "deleted"),
    "create_run": ("run", "created"),
    "update_run": ("run", "updated"),
    "delete_run": ("run", "deleted"),
    "restore_run": ("run", "restored"),
    "log_param": ("run_param", "logged"),
    "log_metric": ("run_metric", "logged"),
    "log_batch": ("run_batch", "logged"),
    "set_tag": ("run_tag", "set"),
    "delete_tag": ("run_tag", "deleted"),
    "log_inputs": ("run_inputs", "logged"),
    "log_artifact": ("run_artifacts", "logged"),
    "create_logged_model": ("logged_model", "created"),
    "finalize_logged_model": ("logged_model", "finalized"),
    "delete_logged_model": ("logged_model", "deleted"),
    "set_logged_model_tags": ("logged_model_tag", "set"),
    "delete_logged_model_tag": ("logged_model_tag", "deleted"),
    "log_logged_model_params": ("logged_model_params", "logged"),
    "log_outputs": ("run_outputs", "logged"),
    "create_registered_model": ("registered_model", "created"),
    "rename_registered_model": ("registered_model", "renamed"),
    "update_registered_model": ("registered_model", "updated"),
    "delete_registered_model": ("registered_model", "deleted"),
    "set_registered_model_tag": ("registered_model_tag", "set"),
    "delete_registered_model_tag": ("registered_model_tag", "deleted"),
    "create_model_version": ("model_version", "created"),
    "update_model_version": ("model_version", "updated"),
    "transition_model_version_stage": ("model_version", "stage_transitioned"),
    "delete_model_version": ("model_version", "deleted"),
    "set_model_version_tag": ("model_version_tag", "set"),
    "delete_model_version_tag": ("model_version_tag", "deleted"),
    "set_registered_model_alias": ("model_version_alias", "created"),
    "delete_registered_model_alias": ("model_version_alias", "deleted"),
}
EVENT_FOR_PAIR = {pair: name for name, pair in PAIRS.items()}
ACTIONS: dict[str, list[str]] = {}
for _entity, _action in PAIRS.values():
    ACTIONS.setdefault(_entity, []).append(_action)

# MLflow's data fields for the events its webhooks send.
_MLFLOW_FIELDS = {
    "create_registered_model": ("name", "tags", "description"),
    "create_model_version": ("name", "version", "source", "run_id", "tags", "description"),
    "set_model_version_tag": ("name", "version", "key", "value"),
    "delete_model_version_tag": ("name", "version", "key"),
    "set_registered_model_alias": ("name", "alias", "version"),
    "delete_registered_model_alias": ("name", "alias"),
}


def parse_event(item: Any) -> tuple[str, str]:
    """``{"entity": "MODEL_VERSION", "action": "CREATED"}`` (any case) -> ("model_version", "created")."""
    if not isinstance(item, dict):
        raise HeadwaterError.invalid(f"Invalid webhook event {item!r}: expected {{'entity': ..., 'action': ...}}.")
    entity = str(item.get("entity", "")).lower()
    action = str(item.get("action", "")).lower()
    if entity not in ACTIONS:
        raise HeadwaterError.invalid(f"Invalid entity '{entity}'. Valid entities are: {sorted(ACTIONS)}")
    if action not in ACTIONS[entity]:
        raise HeadwaterError.invalid(
            f"Invalid action '{action}' for entity '{entity}'. Valid actions are: {ACTIONS[entity]}")
    return entity, action


def event_json(pair: tuple[str, str]) -> dict[str, str]:
    """A pair as the REST API shows it (proto enum names, as MLflow's clients parse them)."""
    return {"entity": pair[0].upper(), "action": pair[1].upper()}


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).isoformat()


def body(event: Event) -> dict[str, Any]:
    """The JSON body a receiver gets for ``event``."""
    entity, action = PAIRS[event.name]
    data = event.public_dict()["payload"]
    fields = _MLFLOW_FIELDS.get(event.name)
    if fields is not None:
        data = {k: data.get(k) for k in fields}
    return {"entity": entity, "action": action, "timestamp": _iso(event.timestamp), "data": data}


def sample_event(name: str) -> Event:
    """An event with example values, for ``POST webhooks/{id}/test``."""
    examples = {"name": "example-model", "version": "1", "source": "models:/m-example", "key": "example-key",
                "value": "example-value", "alias": "champion", "run_id": "0" * 32, "experiment_id": "0",
                "new_name": "renamed-example", "stage": "Staging"}
    payload_type = EVENT_PAYLOADS[name]
    values: dict[str, Any] = {}
    for field_name, info in payload_type.model_fields.items():
        if field_name == "value" and "float" in str(info.annotation):
            values[field_name] = 0.5
        elif field_name in examples:
            values[field_name] = examples[field_name]
        elif info.is_required():
            annotation = str(info.annotation)
            values[field_name] = 1 if "int" in annotation else 0.5 if "float" in annotation else "example"
    return Event(name=name, actor="headwater-webhook-test", payload=payload_type(**values))
