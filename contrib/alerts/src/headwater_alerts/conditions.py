"""Alert conditions: a small grammar beside the run search grammar.

    metrics.val_loss > 2.5            a metric's logged value compared with a number
    metrics.`val loss` >= 1e3         (backticks for keys with spaces or dots)
    metrics.loss is NaN               a metric value that is NaN
    status = FAILED                   a run ending with that status (FINISHED, FAILED, KILLED)
    no metrics for 10 minutes         a running run that logged no metric for that long

A malformed condition is refused with the position of the error
(:class:`headwater.search.errors.SearchSyntaxError`, ``.position``).
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from functools import lru_cache

from lark import Lark, Token, UnexpectedEOF, UnexpectedInput

from headwater.search.errors import SearchSyntaxError

_GRAMMAR = r"""
?start: metric_compare | metric_nan | status | silence
metric_compare: METRIC OP NUMBER
metric_nan: METRIC "is"i "nan"i
status: "status"i ("=" | "==") STATUS
silence: "no"i ("metric"i | "metrics"i) "for"i NUMBER UNIT
METRIC: "metrics." (/[A-Za-z0-9_\-\/\.:]+/ | /`[^`]+`/)
OP: ">=" | "<=" | "!=" | "==" | ">" | "<" | "="
NUMBER: /[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/
STATUS: /FINISHED|FAILED|KILLED/i | /'(FINISHED|FAILED|KILLED)'/i
UNIT: /seconds?|minutes?|hours?/i
%import common.WS
%ignore WS
"""

_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
        "=": operator.eq, "==": operator.eq, "!=": operator.ne}
_UNITS = {"second": 1, "minute": 60, "hour": 3600}


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(_GRAMMAR, parser="lalr")


@dataclass(frozen=True)
class Condition:
    kind: str  # "metric" | "nan" | "status" | "silence"
    metric: str | None = None
    op: str | None = None
    threshold: float | None = None
    status: str | None = None
    seconds: float | None = None

    def metric_fires(self, key: str, value: float) -> bool:
        if self.metric != key:
            return False
        if self.kind == "nan":
            return math.isnan(value)
        if self.kind == "metric":
            return not math.isnan(value) and _OPS[self.op](value, self.threshold)  # type: ignore[index]
        return False

    def describe(self, value: float | None = None) -> str:
        if self.kind == "metric":
            return f"{self.metric} {self.op} {self.threshold:g} (value {value:g})" if value is not None else \
                f"{self.metric} {self.op} {self.threshold:g}"
        if self.kind == "nan":
            return f"{self.metric} is NaN"
        if self.kind == "status":
            return f"run ended {self.status}"
        return f"no metrics for {self.seconds:g} s"


def _metric_key(token: Token) -> str:
    key = str(token)[len("metrics."):]
    return key[1:-1] if key.startswith("`") else key


def parse_condition(text: str) -> Condition:
    """The condition ``text`` describes; SearchSyntaxError (with ``.position``) if it is malformed."""
    if not isinstance(text, str) or not text.strip():
        raise SearchSyntaxError("Missing alert condition", 0)
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as err:
        token = getattr(err, "token", None)
        at_end = isinstance(err, UnexpectedEOF) or getattr(token, "type", None) == "$END"
        position = len(text.rstrip()) if at_end else (getattr(err, "pos_in_stream", None) or 0)
        shown = text[position:position + 20] or "end of input"
        raise SearchSyntaxError(f"Invalid alert condition: unexpected '{shown}'", position,
                                "Expected e.g. 'metrics.loss > 2.5', 'metrics.loss is NaN', 'status = FAILED'"
                                " or 'no metrics for 10 minutes'.") from None
    kind = tree.data
    children = tree.children
    if kind == "metric_compare":
        return Condition("metric", metric=_metric_key(children[0]), op=str(children[1]), threshold=float(children[2]))
    if kind == "metric_nan":
        return Condition("nan", metric=_metric_key(children[0]))
    if kind == "status":
        return Condition("status", status=str(children[0]).strip("'").upper())
    number, unit = float(children[0]), str(children[1]).lower().rstrip("s")
    if number <= 0:
        raise SearchSyntaxError("The silence must be longer than zero", children[0].start_pos)
    return Condition("silence", seconds=number * _UNITS[unit])
