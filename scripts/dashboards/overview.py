"""LLM spend overview: the dashboard a team opens every morning (spend, budget, burn, top spenders)."""

from __future__ import annotations

from typing import Any

from . import frame
from . import grafana as g
from . import promql as q
from .promql import MODEL, PROVIDER, SERVICE, sel

UID = "llm-spend-overview"
PRICED_CALLS = f"{q.CALL_COST}_count"
CALLS = f"{q.DURATION}_count"
SERVICE_ONLY = (q.SERVICE, q.ENV)
BUDGET_STEPS = g.thresholds((None, "green"), (80, "orange"), (100, "red"))


def _spend_stats(lay: g.Layout) -> None:
    cost = sel(q.COST)
    lay.add(g.stat("Spend today", "USD spent since 00:00 UTC by the selected calls, exact (minute-by-minute "
                   "counter increments, see grafana-dashboards/README.md).",
                   [g.target(q.range_total(cost), "spend today", instant=True)], g.USD, decimals=2,
                   time_from="now/d"), 4, 5)
    mtd = sel(q.R_MTD, 'scope="service"', dims=SERVICE_ONLY)
    lay.add(g.stat("Month to date", "USD spent this calendar month (UTC), from the llm:cost_usd:month_to_date "
                   "recording rule. Follows the service and environment variables only.",
                   [g.target(f"sum({mtd})", "month to date", instant=True)], g.USD, decimals=2), 4, 5)
    projected = sel(q.R_PROJECTED, 'scope="service"', dims=SERVICE_ONLY)
    lay.add(g.stat("Projected month-end vs budget", "Month-end spend at the current pace "
                   "(llm:cost_usd:projected_month_end) next to the monthly budget (llm:budget_usd:monthly, "
                   "edit prometheus/rules/llm-budgets.yaml). Follows service and environment only.",
                   [g.target(f"sum({projected})", "projected", "A", instant=True),
                    g.target(f'sum({q.R_BUDGET_MONTHLY}{{scope="total"}})', "budget", "B", instant=True)],
                   g.USD, decimals=0), 4, 5)
    lay.add(g.stat("Burn rate", "Current spend per hour (last 5 minutes, llm:cost_usd:rate5m).",
                   [g.target(f"sum({sel(q.R_COST_RATE)}) * 3600", "USD/h", instant=True)], g.USD, decimals=2,
                   no_value="no calls in the last 5 min"), 4, 5)
    lay.add(g.stat("Cost per 1k calls", "USD per 1000 priced calls over the dashboard's time range.",
                   [g.target(f"1000 * {q.range_total(cost)} / {q.range_total(sel(PRICED_CALLS))}",
                             "per 1k calls", instant=True)], g.USD, decimals=3), 4, 5)
    savings = sel(q.SAVINGS, 'gen_ai_cost_type="cache_read"')
    lay.add(g.stat("Cache savings", "USD that prompt caching saved over the time range (cached input tokens "
                   "billed at the cache-read rate instead of the input rate).",
                   [g.target(f"{q.range_total(savings)} or vector(0)", "cache savings", instant=True)],
                   g.USD, decimals=2), 4, 5)


def _budget_row(lay: g.Layout) -> None:
    unpriced = f"({q.range_total(sel(q.UNPRICED))} or vector(0))"
    priced = f"({q.range_total(sel(PRICED_CALLS))} or vector(0))"
    lay.add(g.stat("Unpriced call share", "Calls the price table could not price (unknown model, no usage) "
                   "over all calls that reported usage. Never counted as $0: fix them with a price override "
                   "(OTEL_LLM_COST_PRICES_FILE); see the usage dashboard for which models.",
                   [g.target(f"{unpriced} / ({priced} + {unpriced})", "unpriced share", instant=True)],
                   "percentunit", decimals=1,
                   steps=g.thresholds((None, "green"), (0.001, "orange"), (0.05, "red"))), 4, 5)
    lay.add(g.stat("Calls", "LLM calls over the time range (all outcomes).",
                   [g.target(q.range_total(sel(CALLS)), "calls", instant=True)], "short", decimals=0), 4, 5)
    total_mtd = sel(q.R_MTD, 'scope="total"', dims=())
    lay.add(g.gauge("Monthly budget used", "Month-to-date spend of all services as a share of the monthly budget "
                    "(llm:budget_usd:monthly, scope=\"total\"). Orange at 80%, red at 100%.",
                    [g.target(f'100 * sum({total_mtd}) / sum({q.R_BUDGET_MONTHLY}{{scope="total"}})',
                              "month to date", instant=True)], "percent", steps=BUDGET_STEPS, max_value=120), 8, 5)
    lay.add(g.gauge("Daily budget used", "Spend of all services in the trailing 24 hours (llm:cost_usd:increase1d) as "
                    "a share of the daily budget (llm:budget_usd:daily, scope=\"total\"): what the "
                    "LLMDailyBudgetExceeded alert compares.",
                    [g.target(f'100 * sum({q.R_COST_1D}) / sum({q.R_BUDGET_DAILY}{{scope="total"}})',
                              "trailing 24h", instant=True)], "percent", steps=BUDGET_STEPS, max_value=120), 8, 5)


def _over_time(lay: g.Layout) -> None:
    rate = sel(q.R_COST_RATE)
    lay.add(g.timeseries("Spend rate by provider (USD/h)", "llm:cost_usd:rate5m summed by provider, per hour.",
                         [g.target(f"sum by ({PROVIDER}) ({rate}) * 3600", g.legend(PROVIDER))], g.USD,
                         stacked=True), 12, 9)
    lay.add(g.timeseries("Spend rate by model (USD/h)", "llm:cost_usd:rate5m summed by request model, per hour.",
                         [g.target(f"sum by ({PROVIDER}, {MODEL}) ({rate}) * 3600",
                                   g.legend(PROVIDER, MODEL))], g.USD, stacked=True), 12, 9)
    lay.add(g.timeseries("Calls per second by model", "llm:calls:rate5m (priced calls) by model.",
                         [g.target(f"sum by ({MODEL}) ({sel(q.R_CALLS_RATE)})", g.legend(MODEL))],
                         "reqps", stacked=True), 12, 8)
    lay.add(g.timeseries("Cache savings rate (USD/h)", "llm:cache_savings_usd:rate5m by model: what prompt "
                         "caching saves per hour.",
                         [g.target(f"sum by ({MODEL}) ({sel(q.R_SAVINGS_RATE)}) * 3600", g.legend(MODEL))],
                         g.USD, stacked=True), 12, 8)


def spend_table(title: str, labels: tuple[str, ...], legend: str, none: str | None = None) -> dict[str, Any]:
    """Calls, tokens, cost and cost per call over the time range, one row per ``labels`` combination."""
    def q_(expr: str) -> str:
        return q.none_label(expr, none) if none else expr

    cost = q.range_total(sel(q.COST), *labels)
    targets = [
        g.target(q_(cost), legend, "A", instant=True, fmt="table"),
        g.target(q_(q.range_total(sel(CALLS), *labels)), legend, "B", instant=True, fmt="table"),
        g.target(q_(q.range_total(sel(q.TOKENS_IN), *labels)), legend, "C", instant=True, fmt="table"),
        g.target(q_(q.range_total(sel(q.TOKENS_OUT), *labels)), legend, "D", instant=True, fmt="table"),
        g.target(q_(f"{cost} / {q.range_total(sel(PRICED_CALLS), *labels)}"), legend, "E", instant=True,
                 fmt="table"),
    ]
    columns = {"A": ("Cost", g.USD), "B": ("Calls", "short"), "C": ("Input tokens", g.TOKENS),
               "D": ("Output tokens", g.TOKENS), "E": ("Cost per priced call", g.USD)}
    return g.table(title, "Over the dashboard's time range. Calls include failed and unpriced calls; cost per "
                   "call divides by priced calls only.", targets, columns, "Cost")


def _top_spenders(lay: g.Layout) -> None:
    lay.add(spend_table("Top models", (PROVIDER, MODEL), g.legend(PROVIDER, MODEL)), 24, 9)
    lay.add(spend_table("Top services", (SERVICE, q.ENV), g.legend(SERVICE)), 12, 8)
    lay.add(spend_table("Top features", (q.FEATURE,), g.legend(q.FEATURE), none=q.FEATURE), 12, 8)


def _at_a_glance(lay: g.Layout) -> None:
    _spend_stats(lay)
    _budget_row(lay)


def build() -> dict[str, Any]:
    return frame.build(UID, "LLM spend overview", "Where the LLM money goes: spend today, month to date and "
                       "projected against budget, burn rate, and the models, services and features that spend it.",
                       [("Spend at a glance", _at_a_glance), ("Spend over time", _over_time),
                        ("Top spenders (time range)", _top_spenders)])
