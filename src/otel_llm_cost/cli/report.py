"""``otel-llm-cost report``: a terminal spend report from a Prometheus that holds otel-llm-cost metrics.

Amounts are exact totals over the window in whole minutes, ``(end of the current minute - since, now]``: the
counters' minute-by-minute increments (exact_spend.py), the same arithmetic as the recording rules, so a series
born inside the window, a process that exported once and counter resets (app restarts) all count exactly.
Works with the collector's remote write (``service_name`` label) and with a direct scrape (``job`` label).
"""

from __future__ import annotations

import math
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from .exact_spend import duration_seconds, minute_end, whole_minutes_total
from .prom import DURATION, PrometheusClient, PrometheusError
from .tables import render, tokens, usd

GROUP = ("service_name", "job", "gen_ai_provider_name", "gen_ai_request_model", "feature")
SERIES = {
    "cost": "gen_ai_client_cost_USD_total",
    "saved": 'gen_ai_client_cost_savings_USD_total{gen_ai_cost_type="cache_read"}',
    "calls": "gen_ai_client_operation_duration_seconds_count",
    "priced": "gen_ai_client_operation_cost_USD_count",
    "errors": 'gen_ai_client_operation_duration_seconds_count{error_type!=""}',
    "input": "gen_ai_client_inference_usage_input_tokens_total",
    "output": "gen_ai_client_inference_usage_output_tokens_total",
    "unpriced": "gen_ai_client_operation_unpriced_total",
}
OUR_METRICS = ("gen_ai_client_cost_USD_total", "gen_ai_client_operation_unpriced_total",
               "gen_ai_client_operation_duration_seconds_count")


def holds_our_data(client: PrometheusClient) -> bool:
    """True when the TSDB has any of our series (fresh or stale)."""
    return bool(set(client.metric_names("gen_ai_client_")) & set(OUR_METRICS))


def window_increase(selector: str, since: str, now: float) -> str:
    """PromQL, to evaluate at ``now``: each series' exact increase over ``since`` (see the module docstring)."""
    seconds = duration_seconds(since)
    start = minute_end(now) - seconds
    return whole_minutes_total(selector, f"{math.ceil(seconds) + 60}s", f"{start:.3f}")


@dataclass
class Line:
    calls: float = 0.0
    priced: float = 0.0
    errors: float = 0.0
    input: float = 0.0
    output: float = 0.0
    cost: float = 0.0
    saved: float = 0.0
    unpriced: float = 0.0


def _service(labels: dict[str, str]) -> str:
    return labels.get("service_name") or (f"job:{labels['job']}" if labels.get("job") else "-")


def collect(client: PrometheusClient, since: str) -> dict[tuple[str, str, str, str], Line]:
    """(service, provider, model, feature) -> amounts over the window."""
    rows: dict[tuple[str, str, str, str], Line] = defaultdict(Line)
    by = ", ".join(GROUP)
    now = time.time()
    for field, selector in SERIES.items():
        for labels, value in client.query(f"sum by ({by}) ({window_increase(selector, since, now)})", at=now):
            key = (_service(labels), labels.get("gen_ai_provider_name", "-"),
                   labels.get("gen_ai_request_model", "-"), labels.get("feature", "-"))
            line = rows[key]
            setattr(line, field, getattr(line, field) + value)
    for line in rows.values():
        # calls seen by a peer instrumentation's duration histogram only (no feature label there): at least
        # the priced plus the unpriced calls
        line.calls = max(line.calls, line.priced + line.unpriced)
    return rows


def _budget_lines(client: PrometheusClient) -> list[str]:
    """Month to date, projection and budget from the recording rules, when Prometheus has them loaded."""
    names = set(client.rule_names())
    if "llm:cost_usd:month_to_date" not in names:
        return ["(recording rules llm:* not loaded in this Prometheus: no month-to-date or budget view; "
                "see prometheus/README.md)"]

    def total(expr: str) -> float | None:
        result = client.query(expr)
        overall = [v for labels, v in result if labels.get("scope") == "total" or (
            "scope" not in labels and "service_name" not in labels)]
        values = overall or [v for _l, v in result]
        return sum(values) if values else None

    parts = []
    for label, expr in (("trailing 24h", "llm:cost_usd:increase1d"),
                        ("month to date", "llm:cost_usd:month_to_date"),
                        ("projected month end", "llm:cost_usd:projected_month_end"),
                        ("monthly budget", 'llm:budget_usd:monthly{scope="total"}'),
                        ("daily budget", 'llm:budget_usd:daily{scope="total"}')):
        value = total(expr) if expr.split("{")[0] in names else None
        if value is not None:
            parts.append(f"{label} {usd(value, 2 if 'budget' in label else 4)}")
    return [", ".join(parts)] if parts else []


def _rollup(rows: dict[tuple[str, str, str, str], Line], index: int) -> str:
    sums: dict[str, Line] = defaultdict(Line)
    for key, line in rows.items():
        sums[key[index]].cost += line.cost
        sums[key[index]].unpriced += line.unpriced
    return ", ".join(f"{name} {usd(s.cost) if s.cost or not s.unpriced else 'n/a (unpriced)'}"
                     for name, s in sorted(sums.items(), key=lambda kv: -kv[1].cost))


def format_report(rows: dict[tuple[str, str, str, str], Line], since: str, url: str) -> str:
    headers = ("service", "provider", "model", "feature", "calls", "errors", "in tok", "out tok", "cost USD",
               "cache saved", "unpriced")
    right = (False, False, False, False, *([True] * 7))

    def cells(key: tuple[str, str, str, str], line: Line) -> list[str]:
        cost = "n/a" if line.unpriced and not line.cost else usd(line.cost)
        return [*key, tokens(line.calls), tokens(line.errors), tokens(line.input), tokens(line.output), cost,
                usd(line.saved), tokens(line.unpriced)]

    total = Line()
    for line in rows.values():
        for name in Line.__dataclass_fields__:
            setattr(total, name, getattr(total, name) + getattr(line, name))
    ordered = sorted(rows.items(), key=lambda kv: (-kv[1].cost, kv[0]))
    table = render(headers, [cells(k, v) for k, v in ordered], right, cells(("TOTAL", "", "", ""), total))
    out = [f"otel-llm-cost spend, last {since}, from {url}", "", table, "",
           f"total cost {usd(total.cost)} over {tokens(total.calls)} calls ({tokens(total.errors)} failed, "
           f"{tokens(total.unpriced)} unpriced); prompt caching saved {usd(total.saved)}"]
    for title, index in (("by provider", 1), ("by service", 0), ("by feature", 3)):
        out.append(f"{title}: {_rollup(rows, index)}")
    if total.unpriced:
        out.append("unpriced calls have no cost (never $0): find them with gen_ai_client_operation_unpriced_total; "
                   "price them with OTEL_LLM_COST_PRICES_FILE")
    return "\n".join(out)


def run_report(url: str, since: str, out: TextIO | None = None, err: TextIO | None = None,
               client_factory: Callable[[str], PrometheusClient] = PrometheusClient) -> int:
    """0: printed; 1: Prometheus holds no otel-llm-cost data (in the window); 2: unreachable or bad input."""
    out, err = out or sys.stdout, err or sys.stderr
    if not DURATION.match(since):
        err.write(f"otel-llm-cost report: --since {since!r} is not a Prometheus duration (e.g. 30m, 24h, 7d)\n")
        return 2
    client = client_factory(url)
    try:
        if not holds_our_data(client):
            err.write(f"otel-llm-cost report: Prometheus at {client.url} holds no otel-llm-cost data (no "
                      "gen_ai_client_* series). Is the collector's prometheusremotewrite exporter pointing at it "
                      "(collector-config/README.md), or is it scraping your app? Try `otel-llm-cost demo --otlp` "
                      "against the local stack.\n")
            return 1
        rows = collect(client, since)
        if not any(line.calls or line.cost or line.unpriced for line in rows.values()):
            err.write(f"otel-llm-cost report: no otel-llm-cost data in the last {since} at {client.url} "
                      "(older data exists: try a longer --since)\n")
            return 1
        out.write(format_report(rows, since, client.url) + "\n")
        for line in _budget_lines(client):
            out.write(line + "\n")
    except PrometheusError as error:
        err.write(f"otel-llm-cost report: {error}\n")
        return 2
    return 0
