"""A small PromQL scanner: which metric names, label names, functions and range windows an expression uses.

Not a full parser: it knows enough PromQL structure (selectors and their matchers, ``by``/``without``/``on``/
``ignoring``/``group_*`` label lists, function calls, ``label_replace`` label arguments, ranges and offsets) to
tell a metric name from a label name from a function in every expression our dashboards and rules contain, so a
test can compare them with what the package emits and what the rule files define.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<range>\[[^\]]*\])
  | (?P<var>\$\{?\w+\}?)
  | (?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?:ms|[smhdwy])?)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<op>=~|!~|!=|==|>=|<=|[-+*/%^<>=(){},@])
""", re.VERBOSE)

KEYWORDS = {"and", "or", "unless", "offset", "bool", "inf", "nan", "Inf", "NaN", "atan2"}
LABEL_LISTS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
                "quantile"}
# PromQL functions of Prometheus 2.42 (the version the tests run)
FUNCTIONS = AGGREGATIONS | {
    "abs", "absent", "absent_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "day_of_month",
    "day_of_week", "day_of_year", "days_in_month", "delta", "deriv", "exp", "floor", "histogram_count",
    "histogram_fraction", "histogram_quantile", "histogram_sum", "holt_winters", "hour", "idelta", "increase",
    "irate", "label_join", "label_replace", "ln", "log2", "log10", "minute", "month", "predict_linear", "rate",
    "resets", "round", "scalar", "sgn", "sort", "sort_desc", "sqrt", "time", "timestamp", "vector", "year",
    "avg_over_time", "min_over_time", "max_over_time", "sum_over_time", "count_over_time", "quantile_over_time",
    "stddev_over_time", "stdvar_over_time", "last_over_time", "present_over_time", "acos", "acosh", "asin",
    "asinh", "atan", "atanh", "cos", "cosh", "sin", "sinh", "tan", "tanh", "deg", "rad", "pi",
    "start", "end",  # only after the @ modifier: `x @ end()`
}


@dataclass
class Usage:
    """What one expression refers to."""

    selectors: list[tuple[str, list[str]]] = field(default_factory=list)  # (metric, matcher label names)
    grouping: list[str] = field(default_factory=list)  # by/without/on/ignoring/group_* and label_replace labels
    functions: list[str] = field(default_factory=list)
    ranges: list[str] = field(default_factory=list)  # the text inside [...]
    variables: list[str] = field(default_factory=list)  # $var names anywhere (strings, ranges, offsets)
    errors: list[str] = field(default_factory=list)


def tokenize(expr: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(expr):
        m = TOKEN.match(expr, pos)
        if not m:
            raise ValueError(f"cannot scan {expr[pos:pos + 20]!r} in {expr!r}")
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append((kind, m.group()))
        pos = m.end()
    return out


def _matchers(tokens: list[tuple[str, str]], i: int, usage: Usage) -> tuple[list[str], int]:
    """Parse ``{label op "value", ...}`` starting at the ``{``; returns the label names and the index after ``}``."""
    labels, i = [], i + 1
    while tokens[i][1] != "}":
        kind, label = tokens[i]
        op, value = tokens[i + 1][1], tokens[i + 2]
        if kind != "ident" or op not in ("=", "!=", "=~", "!~") or value[0] != "str":
            usage.errors.append(f"bad matcher near {label!r}")
            return labels, i + 1
        labels.append(label)
        i += 3
        if tokens[i][1] == ",":
            i += 1
    return labels, i + 1


def _label_list(tokens: list[tuple[str, str]], i: int) -> tuple[list[str], int]:
    """Parse ``(a, b)`` starting at the ``(``."""
    labels, i = [], i + 1
    while tokens[i][1] != ")":
        if tokens[i][0] == "ident":
            labels.append(tokens[i][1])
        i += 1
    return labels, i + 1


def _label_replace_labels(tokens: list[tuple[str, str]], i: int) -> list[str]:
    """The destination and source label arguments (2nd and 4th) of the label_replace call opening at ``i``."""
    depth, arg, found = 0, 0, []
    for kind, text in tokens[i:]:
        if text in ("(", "{"):
            depth += 1
        elif text in (")", "}"):
            depth -= 1
            if depth == 0:
                break
        elif text == "," and depth == 1:
            arg += 1
        elif kind == "str" and depth == 1 and arg in (1, 3):
            found.append(text[1:-1])
    return found


def analyse(expr: str) -> Usage:
    usage = Usage()
    usage.variables = re.findall(r"\$\{?([A-Za-z_]\w*)\}?", expr)  # $1 in a replacement is not one
    tokens = [*tokenize(expr), ("end", "")]
    i = 0
    while tokens[i][0] != "end":
        kind, text = tokens[i]
        nxt = tokens[i + 1][1]
        if kind == "range":
            usage.ranges.append(text[1:-1].strip())
        elif kind == "ident" and text in LABEL_LISTS:
            if nxt == "(":
                labels, i = _label_list(tokens, i + 1)
                usage.grouping.extend(labels)
                continue
        elif kind == "ident" and (nxt == "(" or (text in AGGREGATIONS and nxt in ("by", "without"))):
            usage.functions.append(text)
            if text not in FUNCTIONS:
                usage.errors.append(f"unknown function {text}")
            if text == "label_replace":
                usage.grouping.extend(_label_replace_labels(tokens, i + 1))
        elif kind == "ident" and text not in KEYWORDS:
            labels: list[str] = []
            if nxt == "{":
                labels, i = _matchers(tokens, i + 1, usage)
                usage.selectors.append((text, labels))
                continue
            usage.selectors.append((text, labels))
        elif text == "{":  # a selector without a metric name: {__name__=~"..."}
            labels, i = _matchers(tokens, i, usage)
            usage.selectors.append(("", labels))
            continue
        i += 1
    return usage


LABEL_VALUES = re.compile(r"^\s*label_values\((?:(?P<expr>.*),\s*)?(?P<label>\w+)\)\s*$", re.DOTALL)


def analyse_variable_query(query: str) -> tuple[Usage, str]:
    """Grafana's ``label_values(selector, label)``: the selector's usage and the label it lists."""
    m = LABEL_VALUES.match(query)
    if not m:
        raise ValueError(f"not a label_values() query: {query!r}")
    return analyse(m.group("expr") or ""), m.group("label")
