"""``otel-llm-cost report --ledger URL --by KEY``: spend, calls and tokens per user, tenant, feature, day ...
summed by the database (one grouped query, whatever the number of rows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from ..cli.tables import render, tokens, usd
from .query import Selection, grouped_sql
from .stores import Store


@dataclass
class Group:
    key: tuple[str, ...]
    calls: int
    errors: int
    unpriced: int
    input: int
    cache_read: int
    output: int
    cost: float | None  # None: every call of the group unpriced


def _group(row: Sequence[Any], width: int) -> Group:
    key = tuple("-" if v is None else str(v) for v in row[:width])
    calls, errors, unpriced, input_, cached, output = (int(v or 0) for v in row[width:width + 6])
    cost = row[width + 6]
    return Group(key, calls, errors, unpriced, input_, cached, output, None if cost is None else float(cost))


def collect(store: Store, keys: Sequence[str], selection: Selection) -> list[Group]:
    sql, params = grouped_sql(store.dialect, keys, selection)
    return [_group(row, len(keys)) for row in store.query(sql, params)]


def _cells(group: Group) -> list[str]:
    cost = "n/a" if group.cost is None else usd(group.cost)  # unpriced: unknown, not free
    return [*group.key, tokens(group.calls), tokens(group.errors), tokens(group.unpriced), tokens(group.input),
            tokens(group.cache_read), tokens(group.output), cost]


def total(groups: Sequence[Group], width: int, label: str) -> Group:
    costs = [g.cost for g in groups if g.cost is not None]
    return Group((label, *[""] * (width - 1)), sum(g.calls for g in groups), sum(g.errors for g in groups),
                 sum(g.unpriced for g in groups), sum(g.input for g in groups), sum(g.cache_read for g in groups),
                 sum(g.output for g in groups), sum(costs) if costs else None)


def format_report(groups: Sequence[Group], keys: Sequence[str], top: int | None, title: str) -> str:
    shown = list(groups[:top]) if top else list(groups)
    headers = (*keys, "calls", "errors", "unpriced", "in tok", "cached", "out tok", "cost USD")
    right = (*[False] * len(keys), *[True] * 7)
    rows = [_cells(g) for g in shown]
    rest = groups[len(shown):]
    if rest:
        rows.append(_cells(total(rest, len(keys), f"({len(rest)} more)")))
    grand = total(groups, len(keys), "TOTAL")
    lines = [title, "", render(headers, rows, right, _cells(grand)), "",
             f"total cost {usd(grand.cost or 0.0)} over {grand.calls:,} calls ({grand.errors:,} failed, "
             f"{grand.unpriced:,} unpriced)"]
    if grand.unpriced:
        lines.append("unpriced calls have no cost (never $0): see their unpriced_reason in `otel-llm-cost export`; "
                     "price them with OTEL_LLM_COST_PRICES_FILE")
    return "\n".join(lines)


def run(store: Store, keys: Sequence[str], selection: Selection, top: int | None, window: str,
        out: TextIO, err: TextIO) -> int:
    """0: printed; 1: no call in the window."""
    groups = collect(store, keys, selection)
    if not groups:
        err.write(f"otel-llm-cost report: the ledger at {store.location} holds no call {window}\n")
        return 1
    out.write(format_report(groups, keys, top, f"otel-llm-cost spend by {', '.join(keys)}, {window}, "
                                               f"from the ledger at {store.location}") + "\n")
    return 0
