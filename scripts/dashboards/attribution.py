"""LLM spend attribution: who spends (service, feature, team, tenant), cost per call, movers versus last week."""

from __future__ import annotations

from typing import Any

from . import frame
from . import grafana as g
from . import promql as q
from .promql import FEATURE, MODEL, SERVICE, TEAM, TENANT, sel

UID = "llm-spend-attribution"
TENANT_NOTE = ("`tenant` is a metric label only when you add it to OTEL_LLM_COST_METRIC_ATTRIBUTES "
               "(e.g. feature,team,tenant) and tag calls with otel_llm_cost.attributes(tenant=...); otherwise "
               "everything shows as (none). Mind the cardinality cap (OTEL_LLM_COST_MAX_ATTRIBUTE_VALUES).")


def _by_owner(lay: g.Layout) -> None:
    cost = sel(q.COST)
    for label, title, note in ((SERVICE, "Spend by service", "service.name of the calling application."),
                               (FEATURE, "Spend by feature", "Attribution key `feature`; (none) = calls made "
                                                             "outside any attributes(feature=...) block."),
                               (TEAM, "Spend by team", "Attribution key `team`; (none) = unattributed."),
                               (TENANT, "Spend by tenant", TENANT_NOTE)):
        expr = q.none_label(q.range_total(cost, label), label)
        lay.add(g.bargauge(title, f"USD over the dashboard's time range. {note}",
                           [g.target(f"sort_desc({expr})", g.legend(label), instant=True)], g.USD), 6, 9)


def _over_time(lay: g.Layout) -> None:
    rate = sel(q.R_COST_RATE)
    for label, title in ((SERVICE, "Spend rate by service (USD/h)"), (FEATURE, "Spend rate by feature (USD/h)"),
                         (TEAM, "Spend rate by team (USD/h)")):
        expr = q.none_label(f"sum by ({label}) ({rate}) * 3600", label)
        lay.add(g.timeseries(title, "llm:cost_usd:rate5m per hour.", [g.target(expr, g.legend(label))], g.USD,
                             stacked=True), 6, 8)
    tenant = q.none_label(f"{q.rate(sel(q.COST), TENANT)} * 3600", TENANT)
    lay.add(g.timeseries("Spend rate by tenant (USD/h)", f"Raw cost counter (no recording rule keeps tenant). "
                         f"{TENANT_NOTE}", [g.target(tenant, g.legend(TENANT))], g.USD, stacked=True), 6, 8)


def _cost_per_call(lay: g.Layout) -> None:
    buckets = sel(f"{q.CALL_COST}_bucket")
    lay.add(g.heatmap("Cost per call distribution", "Priced calls per cost bucket (gen_ai.client.operation.cost "
                      "histogram, 1e-6 .. 100 USD buckets). A new band higher up means calls got pricier.",
                      [g.target(f"sum by (le) (increase({buckets}[$__rate_interval]))", "{{le}}",
                                fmt="heatmap")], g.USD), 12, 9)
    p95 = sel(q.R_P95_1H, dims=(SERVICE, MODEL))
    lay.add(g.timeseries("Cost per call p95 by model (1h)", "llm:cost_per_call_usd:p95_1h: the 95th percentile "
                         "of one call's cost over the last hour. Follows service and model only.",
                         [g.target(f"max by ({SERVICE}, {MODEL}) ({p95})",
                                   g.legend(SERVICE, MODEL))], g.USD, decimals=5), 12, 9)


def _movers(lay: g.Layout) -> None:
    labels = (SERVICE, FEATURE, MODEL)
    now = f"sum by ({', '.join(labels)}) ({sel(q.R_COST_1D)})"
    week_ago = f"sum by ({', '.join(labels)}) ({sel(q.R_COST_1D)} offset 1w)"
    before = f"({week_ago} or {now} * 0)"  # a combination not seen a week ago spent $0 then
    change = f"({now} - {before}) or -{week_ago}"  # ... and one gone since then dropped to $0

    def t(expr: str, ref: str) -> dict[str, Any]:
        return g.target(q.none_label(expr, FEATURE), g.legend(SERVICE, FEATURE, MODEL), ref,
                        instant=True, fmt="table")

    columns = {"A": ("Last 24h", g.USD), "B": ("Same 24h last week", g.USD), "C": ("Change", g.USD)}
    lay.add(g.table("Biggest movers vs last week", "Spend in the last 24 hours (llm:cost_usd:increase1d) against "
                    "the same 24 hours one week earlier, by service, feature and model; largest increase first.",
                    [t(now, "A"), t(before, "B"), t(change, "C")], columns, "Change"), 24, 10)


def build() -> dict[str, Any]:
    return frame.build(UID, "LLM spend attribution", "LLM spend by service, feature, team and tenant; the "
                       "distribution of cost per call; what changed since last week.",
                       [("Who spends (time range)", _by_owner), ("Spend over time", _over_time),
                        ("Cost per call", _cost_per_call), ("Biggest movers", _movers)])
