"""``parse_filter``: a filter string in, checked :class:`Comparison` records out.

lark builds the tree (see :mod:`headwater.search.grammar`); this module walks it,
rejects what the grammar only tolerates (OR, groups, ``;``), and checks every
comparison against the rules of the search kind (:mod:`headwater.search.rules`).
"""

from __future__ import annotations

import re

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from headwater.search.ast import Comparison, Entity
from headwater.search.errors import SearchSyntaxError
from headwater.search.grammar import search_parser
from headwater.search.rules import KeyRule, KindRules, rules_for

_QUOTED = ("SINGLE_QUOTED", "DOUBLE_QUOTED")
_INTEGER = re.compile(r"-?\d+")
_TOKEN_NAMES = {
    "ENTITY": "an entity prefix such as 'metrics.'",
    "BARE": "a name",
    "KEY_WORD": "a name",
    "SINGLE_QUOTED": "a quoted string",
    "DOUBLE_QUOTED": "a quoted string",
    "BACKTICKED": "a `quoted` name",
    "INT": "a number",
    "FLOAT": "a number",
    "COMPARATOR": "a comparator",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "SEMICOLON": "';'",
    "$END": "the end",
}


def parse_filter(filter_string: str | None, kind: str) -> list[Comparison]:
    """Parse a search filter of the given kind into checked comparisons.

    ``kind`` is "runs", "experiments", "registered_models" or "model_versions".
    An empty or blank filter gives ``[]`` (everything matches). Raises
    :class:`SearchSyntaxError` (INVALID_PARAMETER_VALUE) on any violation.
    """
    rules = rules_for(kind)
    if filter_string is None or not filter_string.strip():
        return []
    tree = parse_tree(filter_string, "filter")
    conjunction = _single_statement(tree, filter_string)
    _reject_invalid_clauses(conjunction, filter_string)
    return [_comparison(node, rules) for node in conjunction.children if isinstance(node, Tree)]


# -- tree walking -------------------------------------------------------------


def parse_tree(text: str, start: str) -> Tree:
    try:
        return search_parser().parse(text, start=start)
    except UnexpectedInput as error:
        raise _syntax_error(error, text) from None


def _syntax_error(error: UnexpectedInput, text: str) -> SearchSyntaxError:
    if isinstance(error, UnexpectedCharacters):
        where = error.pos_in_stream
        return SearchSyntaxError(f"Unexpected character {text[where]!r}", where)
    expected = sorted({_TOKEN_NAMES.get(name, name) for name in getattr(error, "expected", ()) or ()})
    hint = f"Expected {', '.join(expected)}." if expected else None
    if isinstance(error, UnexpectedEOF) or (
        isinstance(error, UnexpectedToken) and error.token.type == "$END"
    ):
        return SearchSyntaxError("Unexpected end of input", len(text), hint)
    assert isinstance(error, UnexpectedToken)
    return SearchSyntaxError(f"Unexpected {str(error.token)!r}", error.token.start_pos, hint)


def _single_statement(tree: Tree, text: str) -> Tree:
    statements = [c for c in tree.children if isinstance(c, Tree)]
    semicolons = [c for c in tree.children if isinstance(c, Token)]
    if len(statements) > 1:
        raise SearchSyntaxError(
            f"Search filter contained multiple expression {text!r}",
            semicolons[0].start_pos,
            "Provide AND-ed expression list.",
        )
    if semicolons:
        raise SearchSyntaxError(
            "Invalid clause(s) in filter string: ';'", semicolons[0].start_pos
        )
    return statements[0]


def _reject_invalid_clauses(conjunction: Tree, text: str) -> None:
    """OR and parenthesised groups parse, but only AND-ed comparisons are allowed."""
    invalid = [
        (node.start_pos, str(node))
        if isinstance(node, Token)
        else (node.meta.start_pos, text[node.meta.start_pos : node.meta.end_pos])
        for node in conjunction.children
        if (isinstance(node, Token) and node.type == "OR")
        or (isinstance(node, Tree) and node.data == "group")
    ]
    if invalid:
        clauses = ", ".join(f"'{clause}'" for _, clause in invalid)
        raise SearchSyntaxError(
            f"Invalid clause(s) in filter string: {clauses}",
            invalid[0][0],
            "Only comparisons joined by AND are supported (no OR, no parentheses).",
        )


def _comparison(node: Tree, rules: KindRules) -> Comparison:
    identifier, *rest = node.children
    entity, key, key_token = identifier_of(identifier, rules)
    position = node.meta.start_pos
    if node.data == "binary":
        op_token, value = rest
        op = str(op_token).upper()
    elif node.data in ("is_null", "is_not_null"):
        op_token, value = rest[0], None
        op = "IS NULL" if node.data == "is_null" else "IS NOT NULL"
    else:
        op_token, value = rest[0], rest[-1]
        op = "IN" if node.data == "in_list" else "NOT IN"
    key_rule = _key_rule(entity, key, key_token, rules)
    _check_operator(entity, key, op, op_token, key_rule, rules)
    checked = None if value is None else _value(entity, key, op, value, key_rule)
    return Comparison(entity, key, op, checked, position)  # type: ignore[arg-type]


def prefix_and_key(node: Tree) -> tuple[Token | None, Token]:
    """The entity prefix token (None when absent) and the key token of an identifier."""
    *prefix, key_node = node.children
    (key_token,) = key_node.children
    return (prefix[0] if prefix else None), key_token


def identifier_of(node: Tree, rules: KindRules) -> tuple[Entity, str, Token]:
    prefix_token, key_token = prefix_and_key(node)
    prefix = str(prefix_token)[:-1] if prefix_token is not None else ""
    if prefix not in rules.prefixes:
        valid = ", ".join(sorted(p for p in rules.prefixes if p))
        raise SearchSyntaxError(
            f"Invalid entity type '{prefix}'",
            prefix_token.start_pos,
            f"Valid entity types for searching {rules.kind} are: {valid}.",
        )
    entity = rules.prefixes[prefix]
    key = _unquote(key_token)
    if entity == "attribute":
        key = rules.aliases.get(key, key)
    return entity, key, key_token


def _unquote(token: Token) -> str:
    text = str(token)
    return text[1:-1] if token.type in (*_QUOTED, "BACKTICKED") else text


def _key_rule(entity: Entity, key: str, key_token: Token, rules: KindRules) -> KeyRule:
    entity_rule = rules.filters.get(entity)
    key_rule = entity_rule.rule_for(key) if entity_rule else None
    if key_rule is None:
        valid = ", ".join(sorted(entity_rule.keys)) if entity_rule else ""
        raise SearchSyntaxError(
            f"Invalid {entity} key '{key}'",
            key_token.start_pos,
            f"Valid keys for searching {rules.kind} are: {valid}.",
        )
    return key_rule


def _check_operator(
    entity: Entity, key: str, op: str, op_token: Token, key_rule: KeyRule, rules: KindRules
) -> None:
    if op in key_rule.ops:
        return
    where = op_token.start_pos
    if op == "<>":
        raise SearchSyntaxError("Invalid comparator '<>'", where, "Use '!=' instead.")
    if op in ("IN", "NOT IN"):
        raise SearchSyntaxError(
            f"Only {rules.list_keys()} support comparison with a list of quoted string values;"
            f" not {entity} '{key}'",
            where,
        )
    if op in ("IS NULL", "IS NOT NULL"):
        nullable = rules.null_entities()
        supported = f"only supported for {' and '.join(nullable)}" if nullable else "not supported"
        raise SearchSyntaxError(
            f"IS NULL / IS NOT NULL is {supported} when searching {rules.kind},"
            f" not for {entity} '{key}'",
            where,
        )
    allowed = ", ".join(sorted(key_rule.ops))
    raise SearchSyntaxError(
        f"Invalid comparator '{op_token}' for {entity} '{key}'", where, f"Valid comparators: {allowed}."
    )


def _value(entity: Entity, key: str, op: str, node: Tree, key_rule: KeyRule):
    if op in ("IN", "NOT IN"):
        return _string_list(node, entity, key, key_rule)
    (token,) = node.children
    if isinstance(token, Tree):
        raise SearchSyntaxError(
            f"A list of values needs IN or NOT IN, not '{op}'", token.meta.start_pos
        )
    kind = key_rule.value
    if kind == "number":
        if token.type == "INT":
            return int(token)
        if token.type == "FLOAT":
            return float(token)
        raise SearchSyntaxError(
            f"Expected numeric value type for {entity} '{key}'. Found {token}", token.start_pos
        )
    if kind == "integer":
        if token.type == "INT":
            return int(token)
        raise SearchSyntaxError(
            f"Expected an integer value for {entity} '{key}'. Found {token}", token.start_pos
        )
    if kind == "version":
        if token.type == "INT" or (token.type in _QUOTED and _INTEGER.fullmatch(_unquote(token))):
            return int(_unquote(token))
        raise SearchSyntaxError(
            f"Expected an integer (or quoted integer) for {key}. Found {token}", token.start_pos
        )
    return _string(token, entity, key, kind == "integer_string")


def _string(token: Token, entity: Entity, key: str, integer: bool) -> str:
    if token.type in ("BARE", "BACKTICKED"):
        raise SearchSyntaxError(
            "Parameter value is either not quoted or unidentified quote types used for string"
            f" value {token}",
            token.start_pos,
            "Use either single or double quotes.",
        )
    if token.type not in _QUOTED:
        raise SearchSyntaxError(
            f"Expected a quoted string value for {entity} '{key}' (e.g. 'my-value'). Got value {token}",
            token.start_pos,
        )
    text = _unquote(token)
    if integer and not _INTEGER.fullmatch(text):
        raise SearchSyntaxError(
            f"Expected a quoted integer for {key}. Got value {token}", token.start_pos
        )
    return text


def _string_list(node: Tree, entity: Entity, key: str, key_rule: KeyRule) -> tuple[str, ...]:
    lpar, *items, _rpar = node.children
    items = [item for item in items if item is not None]
    if not items:
        raise SearchSyntaxError(
            "While parsing a list in the query, expected a non-empty list of string values,"
            " but got empty list",
            lpar.start_pos,
        )
    values = []
    for item in items:
        (token,) = item.children
        if isinstance(token, Tree) or token.type not in _QUOTED:
            where = token.meta.start_pos if isinstance(token, Tree) else token.start_pos
            raise SearchSyntaxError(
                f"While parsing a list in the query, expected only quoted strings for {entity} '{key}'",
                where,
            )
        values.append(_string(token, entity, key, key_rule.value == "integer_string"))
    return tuple(values)
