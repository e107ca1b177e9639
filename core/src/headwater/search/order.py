"""``parse_order_by``: order_by items in, checked :class:`OrderKey` records out."""

from __future__ import annotations

from typing import Sequence

from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.search.ast import OrderKey
from headwater.search.errors import SearchSyntaxError
from headwater.search.parser import identifier_of, parse_tree, prefix_and_key
from headwater.search.rules import KindRules, rules_for


def parse_order_by(order_by: Sequence[str] | None, kind: str) -> list[OrderKey]:
    """Parse order_by items (``identifier [ASC|DESC]``) into checked order keys.

    No tie-breakers are added; stores append their own. Naming one field twice
    raises INTERNAL_ERROR, as MLflow does.
    """
    rules = rules_for(kind)
    keys: list[OrderKey] = []
    for item in order_by or []:
        if not item or not item.strip():
            raise HeadwaterError.invalid(f"Invalid order_by clause {item!r}: it is empty.")
        keys.append(_order_key(item, rules))
    seen: set[tuple[str, str]] = set()
    for key in keys:
        if (key.entity, key.key) in seen:
            raise HeadwaterError(
                f"`order_by` contains duplicate fields: {list(order_by or [])}",
                ErrorCode.INTERNAL_ERROR,
            )
        seen.add((key.entity, key.key))
    return keys


def _order_key(item: str, rules: KindRules) -> OrderKey:
    tree = parse_tree(item, "order_item")
    identifier, direction = tree.children
    entity, key, key_token = identifier_of(identifier, rules)
    if entity == "attribute":
        if key not in rules.order_attributes:
            valid = ", ".join(sorted(rules.order_attributes))
            raise SearchSyntaxError(
                f"Invalid order_by key '{key}' in {item!r}",
                key_token.start_pos,
                f"Valid keys for ordering {rules.kind} are: {valid}.",
            )
        key = rules.order_attributes[key]
    elif entity not in rules.order_entities:
        prefix_token, _ = prefix_and_key(identifier)
        raise SearchSyntaxError(f"Invalid order_by entity: {entity}", prefix_token.start_pos)
    ascending = True
    if direction is not None:
        if str(direction).upper() not in ("ASC", "DESC"):
            raise SearchSyntaxError(
                f"Invalid ordering key in order_by clause {item!r}: '{direction}'",
                direction.start_pos,
                "Use ASC or DESC.",
            )
        ascending = str(direction).upper() == "ASC"
    return OrderKey(entity=entity, key=key, ascending=ascending)
