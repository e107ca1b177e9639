"""What each search accepts: entity prefixes, keys, operators and value types.

One :class:`KindRules` per search ("runs", "experiments", "registered_models",
"model_versions"), written as data so that the differences between the four
searches (see the search-grammar spec) can be read side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Mapping

from headwater.exceptions import HeadwaterError
from headwater.search.ast import Entity

NUMERIC_OPS = frozenset({"=", "!=", "<", "<=", ">", ">="})
STRING_OPS = frozenset({"=", "!=", "LIKE", "ILIKE"})
LIST_OPS = frozenset({"IN", "NOT IN"})
NULL_OPS = frozenset({"IS NULL", "IS NOT NULL"})

# How a value must be written and what it becomes:
#   number          INT or FLOAT token -> int / float
#   integer         INT token -> int
#   string          'quoted' or "quoted" -> str (not unescaped)
#   integer_string  quoted digits -> str ("1"), as experiment ids travel
#   version         INT token or quoted integer -> int
ValueKind = Literal["number", "integer", "string", "integer_string", "version"]


@dataclass(frozen=True)
class KeyRule:
    ops: frozenset[str]
    value: ValueKind

    @property
    def takes_lists(self) -> bool:
        return "IN" in self.ops


@dataclass(frozen=True)
class EntityRule:
    """Rules for one entity; ``keys`` None means any key (metrics, params, tags)."""

    any_key: KeyRule | None = None
    keys: Mapping[str, KeyRule] = field(default_factory=dict)

    def rule_for(self, key: str) -> KeyRule | None:
        return self.any_key if self.any_key is not None else self.keys.get(key)


@dataclass(frozen=True)
class KindRules:
    kind: str
    # Accepted prefix spelling -> canonical entity; "" is "no prefix".
    prefixes: Mapping[str, Entity]
    filters: Mapping[Entity, EntityRule]
    # Attribute spellings -> canonical key (both in filters and order_by).
    aliases: Mapping[str, str]
    # order_by: non-attribute entities that sort, and attribute spelling -> canonical key.
    order_entities: frozenset[Entity]
    order_attributes: Mapping[str, str]

    def list_keys(self) -> list[str]:
        """Keys that take IN / NOT IN, for the error message."""
        return sorted(
            key if entity == "attribute" else f"{entity}.{key}"
            for entity, rule in self.filters.items()
            for key, key_rule in rule.keys.items()
            if key_rule.takes_lists
        )

    def null_entities(self) -> list[str]:
        return sorted(
            f"{entity}s"
            for entity, rule in self.filters.items()
            if rule.any_key is not None and "IS NULL" in rule.any_key.ops
        )


_STRING = KeyRule(STRING_OPS, "string")
_STRING_OR_LIST = KeyRule(STRING_OPS | LIST_OPS, "string")
_NULLABLE_STRING = KeyRule(STRING_OPS | NULL_OPS, "string")

RUNS = KindRules(
    kind="runs",
    prefixes={
        "metric": "metric",
        "metrics": "metric",
        "parameter": "param",
        "parameters": "param",
        "param": "param",
        "params": "param",
        "tag": "tag",
        "tags": "tag",
        "attribute": "attribute",
        "attributes": "attribute",
        "attr": "attribute",
        "run": "attribute",
        "": "attribute",
        "dataset": "dataset",
        "datasets": "dataset",
    },
    filters={
        "metric": EntityRule(any_key=KeyRule(NUMERIC_OPS, "number")),
        "param": EntityRule(any_key=_NULLABLE_STRING),
        "tag": EntityRule(any_key=_NULLABLE_STRING),
        "attribute": EntityRule(
            keys={
                "run_id": _STRING_OR_LIST,
                "run_name": _STRING,
                "status": _STRING,
                "user_id": _STRING,
                "artifact_uri": _STRING,
                "start_time": KeyRule(NUMERIC_OPS, "number"),
                "end_time": KeyRule(NUMERIC_OPS, "number"),
            }
        ),
        "dataset": EntityRule(
            keys={"name": _STRING_OR_LIST, "digest": _STRING_OR_LIST, "context": _STRING_OR_LIST}
        ),
    },
    aliases={
        "created": "start_time",
        "Created": "start_time",
        "run name": "run_name",
        "Run name": "run_name",
        "Run Name": "run_name",
    },
    order_entities=frozenset({"metric", "param", "tag"}),
    order_attributes={
        key: key
        for key in (
            "start_time", "end_time", "run_name", "status", "user_id", "artifact_uri", "run_id"
        )
    }
    | {"created": "start_time"},
)

EXPERIMENTS = KindRules(
    kind="experiments",
    prefixes={
        "attribute": "attribute",
        "attributes": "attribute",
        "": "attribute",
        "tag": "tag",
        "tags": "tag",
    },
    filters={
        "attribute": EntityRule(
            keys={
                "name": _STRING,
                "experiment_id": KeyRule(frozenset({"=", "!="}) | LIST_OPS, "integer_string"),
                "creation_time": KeyRule(NUMERIC_OPS, "integer"),
                "last_update_time": KeyRule(NUMERIC_OPS, "integer"),
            }
        ),
        "tag": EntityRule(any_key=_NULLABLE_STRING),
    },
    aliases={},
    order_entities=frozenset(),
    order_attributes={k: k for k in ("name", "experiment_id", "creation_time", "last_update_time")},
)

REGISTERED_MODELS = KindRules(
    kind="registered_models",
    prefixes={"attribute": "attribute", "": "attribute", "tag": "tag", "tags": "tag"},
    filters={
        "attribute": EntityRule(keys={"name": _STRING_OR_LIST}),
        "tag": EntityRule(any_key=_STRING),
    },
    aliases={},
    order_entities=frozenset(),
    order_attributes={
        "name": "name",
        "timestamp": "last_updated_timestamp",
        "last_updated_timestamp": "last_updated_timestamp",
    },
)

MODEL_VERSIONS = KindRules(
    kind="model_versions",
    prefixes={"attribute": "attribute", "": "attribute", "tag": "tag", "tags": "tag"},
    filters={
        "attribute": EntityRule(
            keys={
                "name": _STRING_OR_LIST,
                "run_id": _STRING_OR_LIST,
                "source_path": _STRING,
                "version_number": KeyRule(NUMERIC_OPS, "version"),
            }
        ),
        "tag": EntityRule(any_key=_STRING),
    },
    aliases={},
    order_entities=frozenset(),
    order_attributes={
        k: k for k in ("name", "version_number", "creation_timestamp", "last_updated_timestamp")
    },
)

LOGGED_MODELS = KindRules(
    kind="logged_models",
    prefixes={
        "attribute": "attribute",
        "attributes": "attribute",
        "": "attribute",
        "metric": "metric",
        "metrics": "metric",
        "param": "param",
        "params": "param",
        "tag": "tag",
        "tags": "tag",
    },
    filters={
        "attribute": EntityRule(
            keys={
                **{key: _STRING_OR_LIST for key in ("name", "model_id", "model_type", "status", "source_run_id")},
                "creation_timestamp": KeyRule(NUMERIC_OPS, "number"),
                "last_updated_timestamp": KeyRule(NUMERIC_OPS, "number"),
            }
        ),
        "metric": EntityRule(any_key=KeyRule(NUMERIC_OPS, "number")),
        "param": EntityRule(any_key=_STRING_OR_LIST),
        "tag": EntityRule(any_key=_STRING_OR_LIST),
    },
    aliases={"creation_time": "creation_timestamp", "run_id": "source_run_id"},
    order_entities=frozenset({"metric", "param", "tag"}),
    order_attributes={
        k: k for k in ("name", "model_id", "creation_timestamp", "last_updated_timestamp", "status", "model_type")
    },
)

KINDS: dict[str, KindRules] = {
    rules.kind: rules for rules in (RUNS, EXPERIMENTS, REGISTERED_MODELS, MODEL_VERSIONS, LOGGED_MODELS)
}


def rules_for(kind: str) -> KindRules:
    try:
        return KINDS[kind]
    except KeyError:
        raise HeadwaterError(f"Unknown search kind {kind!r}; expected one of {sorted(KINDS)}") from None
