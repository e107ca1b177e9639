"""The lark grammar of search filters and order_by items.

The grammar accepts a little more than the language allows (``OR``,
parenthesised groups, ``;``, ``<>``, unquoted values, numbers or lists
anywhere) so that :mod:`headwater.search.parser` can reject those with the
messages MLflow clients know, and with the position of the offending token,
instead of a generic syntax error.
"""

from __future__ import annotations

from functools import lru_cache

from lark import Lark

GRAMMAR = r"""
filter: conjunction (SEMICOLON conjunction?)*
conjunction: _clause (_joiner _clause)*
_joiner: AND | OR
_clause: comparison | group
group: LPAR conjunction RPAR

comparison: identifier COMPARATOR value     -> binary
          | identifier LIKE value           -> binary
          | identifier ILIKE value          -> binary
          | identifier IN value_list        -> in_list
          | identifier NOT IN value_list    -> not_in_list
          | identifier IS NULL              -> is_null
          | identifier IS NOT NULL          -> is_not_null

order_item: identifier [BARE]

identifier: ENTITY prefixed_key -> identifier
          | key                 -> bare_identifier
key: BARE | BACKTICKED | DOUBLE_QUOTED | SINGLE_QUOTED
prefixed_key: KEY_WORD | BACKTICKED | DOUBLE_QUOTED | SINGLE_QUOTED

value: SINGLE_QUOTED | DOUBLE_QUOTED | INT | FLOAT | BARE | BACKTICKED | value_list
value_list: LPAR [value ("," value)*] RPAR

// An entity prefix is the name before the FIRST dot: `tags.mlflow.runName`
// is the tag `mlflow.runName`. Its priority beats BARE, which may hold dots.
ENTITY.3: /[^\W\d]\w*\./
BARE: /[^\W\d]\w*(?:\.\w+)*/
// After a prefix a key may also start with a digit (`metrics.1st`).
KEY_WORD: /\w+(?:\.\w+)*/

// Quotes are doubled or backslashed inside; values are never unescaped.
SINGLE_QUOTED: /'(?:''|\\'|[^'])*'/
DOUBLE_QUOTED: /"(?:""|\\"|[^"])*"/
BACKTICKED: /`(?:``|[^`])*`/

FLOAT.2: /-?(?:\d+(?:\.\d+)?[eE][-+]?\d+|\d+\.\d*|\.\d+)/
INT: /-?\d+/

COMPARATOR: "<=" | ">=" | "!=" | "<>" | "==" | "=" | "<" | ">"
AND.2: /and\b/i
OR.2: /or\b/i
LIKE.2: /like\b/i
ILIKE.2: /ilike\b/i
IN.2: /in\b/i
NOT.2: /not\b/i
IS.2: /is\b/i
NULL.2: /null\b/i
LPAR: "("
RPAR: ")"
SEMICOLON: ";"

%import common.WS
%ignore WS
"""


@lru_cache(maxsize=1)
def search_parser() -> Lark:
    """The LALR parser; start at ``filter`` or ``order_item``."""
    return Lark(
        GRAMMAR,
        start=["filter", "order_item"],
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=True,
    )
