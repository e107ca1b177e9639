"""The parsed form of search filters and order_by clauses.

Parsers in :mod:`headwater.search` turn MLflow's filter grammar into these
records after checking every rule of the grammar; stores compile them (the SQL
store into SQL) and never see the original strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Union

Entity = Literal["metric", "param", "tag", "attribute", "dataset"]
Operator = Literal[
    "=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL"
]
Value = Union[str, int, float, tuple[str, ...], None]


@dataclass(frozen=True)
class Comparison:
    """``entity.key op value``.

    ``key`` is canonical: attribute aliases are resolved (``created`` is
    ``start_time``, ``run name`` is ``run_name``), and quotes/backticks are
    removed. ``value`` is a number for numeric comparisons, a string for string
    ones, a tuple of strings for IN / NOT IN, and None for IS [NOT] NULL.
    Strings are not unescaped (``'it''s'`` stays ``it''s``), as in MLflow.
    ``position`` is the character offset of the comparison in the filter.
    """

    entity: Entity
    key: str
    op: Operator
    value: Value
    position: int = 0


@dataclass(frozen=True)
class OrderKey:
    """One order_by item: ``entity.key ASC|DESC`` with the key canonical."""

    entity: Entity
    key: str
    ascending: bool = True
