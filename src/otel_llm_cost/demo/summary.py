"""The demo's spend table, computed from the metrics the instrumentation recorded (the same data points the
demo exports over OTLP or Prometheus), so the table and the dashboards always agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..cli.tables import render, tokens, usd
from ..core import telemetry as names

_TOKEN_COUNTERS = {
    "gen_ai.client.inference.usage.input_tokens": "input",
    "gen_ai.client.inference.usage.output_tokens": "output",
    "gen_ai.client.inference.usage.cache_read.input_tokens": "cache_read",
    "gen_ai.client.inference.usage.reasoning.output_tokens": "reasoning",
}


@dataclass
class Row:
    calls: int = 0
    priced: int = 0  # gen_ai.client.operation.cost count
    errors: int = 0
    unpriced: int = 0
    input: float = 0.0
    cache_read: float = 0.0
    output: float = 0.0
    reasoning: float = 0.0
    cost: float = 0.0
    savings: float = 0.0


@dataclass
class Summary:
    rows: dict[tuple[str, str, str], Row] = field(default_factory=lambda: defaultdict(Row))
    by_team: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    unpriced_reasons: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    operation_cost: float = 0.0  # sum of gen_ai.client.operation.cost: must equal total.cost

    def total(self) -> Row:
        out = Row()
        for row in self.rows.values():
            for name in Row.__dataclass_fields__:
                setattr(out, name, getattr(out, name) + getattr(row, name))
        return out


def _points(metrics_data: Any) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(instrument name, attributes, data point) for every point of our meter."""
    for resource_metrics in getattr(metrics_data, "resource_metrics", None) or ():
        for scope_metrics in resource_metrics.scope_metrics:
            if scope_metrics.scope.name != names.SCOPE:
                continue
            for metric in scope_metrics.metrics:
                for point in metric.data.data_points:
                    yield metric.name, dict(point.attributes or {}), point


def summarize(metrics_data: Any) -> Summary:
    """Group the cumulative metric points by provider, request model and feature."""
    summary = Summary()
    for name, attrs, point in _points(metrics_data):
        if not name.startswith("gen_ai."):
            continue  # llm_cost.price_table.age: about the process, not its calls
        key = (str(attrs.get(names.PROVIDER, "-")), str(attrs.get(names.REQUEST_MODEL, "-")),
               str(attrs.get("feature", "-")))
        row = summary.rows[key]
        if name == "gen_ai.client.operation.duration":
            row.calls += point.count
            if names.ERROR_TYPE in attrs:
                row.errors += point.count
        elif name in _TOKEN_COUNTERS:
            attr = _TOKEN_COUNTERS[name]
            setattr(row, attr, getattr(row, attr) + point.value)
        elif name == "gen_ai.client.cost":
            row.cost += point.value
            summary.by_team[str(attrs.get("team", "-"))] += point.value
        elif name == "gen_ai.client.operation.cost":
            summary.operation_cost += point.sum
            row.priced += point.count
        elif name == "gen_ai.client.cost.savings" and attrs.get(names.COST_TYPE) == "cache_read":
            row.savings += point.value
        elif name == "gen_ai.client.operation.unpriced":
            row.unpriced += int(point.value)
            summary.unpriced_reasons[(key[1], str(attrs.get(names.UNPRICED_REASON, "?")))] += int(point.value)
    for row in summary.rows.values():
        # A peer GenAI instrumentation (under opentelemetry-instrument) records the duration histogram itself,
        # so ours is absent: then the calls are at least the priced plus the unpriced ones.
        row.calls = max(row.calls, row.priced + row.unpriced)
    return summary


HEADERS = ("provider", "model", "feature", "calls", "errors", "in tok", "cached", "out tok", "reasoning",
           "cost USD", "cache saved", "unpriced")
_RIGHT = (False, False, False, *([True] * 9))


def _cells(label: tuple[str, str, str], row: Row) -> list[str]:
    cost = "n/a" if row.unpriced and not row.cost else usd(row.cost)  # unknown, not free
    return [*label, str(row.calls), str(row.errors), tokens(row.input), tokens(row.cache_read), tokens(row.output),
            tokens(row.reasoning), cost, usd(row.savings), str(row.unpriced)]


def format_summary(summary: Summary) -> str:
    """The spend table (most expensive first), totals, spend by team and why calls were unpriced."""
    ordered = sorted(summary.rows.items(), key=lambda kv: (-kv[1].cost, kv[0]))
    total = summary.total()
    lines = [render(HEADERS, [_cells(k, r) for k, r in ordered], _RIGHT, _cells(("TOTAL", "", ""), total))]
    lines.append("")
    lines.append(f"total cost {usd(total.cost)} over {total.calls} calls ({total.errors} failed, "
                 f"{total.unpriced} unpriced); prompt caching saved {usd(total.savings)}")
    teams = sorted(summary.by_team.items(), key=lambda kv: -kv[1])
    if teams:
        lines.append("by team: " + ", ".join(f"{team} {usd(cost)}" for team, cost in teams))
    for (model, reason), count in sorted(summary.unpriced_reasons.items()):
        lines.append(f"unpriced: {count} calls to {model} ({reason}): counted in "
                     "gen_ai.client.operation.unpriced, never recorded as $0; price it with OTEL_LLM_COST_PRICES_FILE")
    return "\n".join(lines)
