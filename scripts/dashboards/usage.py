"""LLM usage and performance: token rates, cache hit ratio, latency, time to first chunk, errors, unpriced calls."""

from __future__ import annotations

from typing import Any

from . import frame
from . import grafana as g
from . import promql as q
from .promql import MODEL, PROVIDER, sel

UID = "llm-usage-performance"
ERRORS = 'error_type!=""'
UNPRICED_REASON = "llm_cost_unpriced_reason"


def _tokens(lay: g.Layout) -> None:
    kinds = (("input", q.TOKENS_IN), ("output", q.TOKENS_OUT), ("cache read", q.TOKENS_CACHE_READ),
             ("reasoning", q.TOKENS_REASONING))
    lay.add(g.timeseries("Token rate by type", "Input includes cached input; output includes reasoning "
                         "(GenAI conventions), so the lines overlap rather than add up.",
                         [g.target(q.rate(sel(metric)), name, chr(ord("A") + i)) for i, (name, metric)
                          in enumerate(kinds)], g.TOKEN_RATE), 12, 8)
    cached = q.rate(sel(q.TOKENS_CACHE_READ), MODEL)
    inputs = q.rate(sel(q.TOKENS_IN), MODEL)
    lay.add(g.timeseries("Cache hit ratio by model", "Share of input tokens read from the provider's prompt cache "
                         "(billed at the cache-read rate). 0 for models that reported no cached tokens.",
                         [g.target(f"({cached} or {inputs} * 0) / {inputs}", g.legend(MODEL))],
                         "percentunit"), 12, 8)
    for name, metric in kinds[:2] + kinds[3:]:
        lay.add(g.timeseries(f"{name.capitalize()} tokens by model", f"{name} tokens per second by model.",
                             [g.target(q.rate(sel(metric), MODEL), g.legend(MODEL))], g.TOKEN_RATE,
                             stacked=True), 8, 8)


def _quantiles(metric: str, qs: tuple[float, ...]) -> list[dict[str, Any]]:
    buckets = sel(f"{metric}_bucket")
    return [g.target(f"histogram_quantile({v}, sum by (le, {MODEL}) (rate({buckets}[$__rate_interval])))",
                     f"{g.legend(MODEL)} p{round(v * 100)}", chr(ord("A") + i)) for i, v in enumerate(qs)]


def _latency(lay: g.Layout) -> None:
    lay.add(g.timeseries("Latency p50 / p95 / p99 by model", "gen_ai.client.operation.duration: whole call, "
                         "including streaming until the last chunk.",
                         _quantiles(q.DURATION, (0.5, 0.95, 0.99)), g.SECONDS), 12, 9)
    lay.add(g.timeseries("Time to first chunk p50 / p95 by model", "Streams only: from request start to the "
                         "first streamed chunk.", _quantiles(q.TTFC, (0.5, 0.95)), g.SECONDS), 12, 9)


def _errors(lay: g.Layout) -> None:
    calls = f"{q.DURATION}_count"
    lay.add(g.timeseries("Errors by error.type", "Failed calls per second by error.type (exception class or HTTP "
                         "status the SDK raised).",
                         [g.target(q.rate(sel(calls, ERRORS), "error_type"), g.legend("error_type"))], "reqps",
                         stacked=True), 12, 8)
    lay.add(g.timeseries("Error ratio by model", "Failed calls over all calls, per model.",
                         [g.target(f"{q.rate(sel(calls, ERRORS), MODEL)} / {q.rate(sel(calls), MODEL)}",
                                   g.legend(MODEL))], "percentunit"), 12, 8)


def _unpriced(lay: g.Layout) -> None:
    lay.add(g.timeseries("Unpriced calls by model", "llm:unpriced_calls:rate5m: calls that got no price (unknown "
                         "model, no usage reported). Add the model to a price override file "
                         "(OTEL_LLM_COST_PRICES_FILE) or an alias.",
                         [g.target(f"sum by ({PROVIDER}, {MODEL}, {UNPRICED_REASON}) ({sel(q.R_UNPRICED_RATE)})",
                                   g.legend(PROVIDER, MODEL, UNPRICED_REASON))], "reqps", stacked=True), 12, 8)
    labels = (PROVIDER, MODEL, UNPRICED_REASON)
    lay.add(g.table("Unpriced calls (time range)", "Count of unpriced calls by model and reason over the "
                    "dashboard's time range.",
                    [g.target(q.range_total(sel(q.UNPRICED), *labels), g.legend(*labels), instant=True,
                              fmt="table")], {"A": ("Unpriced calls", "short")}, "Unpriced calls"), 12, 8)


def build() -> dict[str, Any]:
    return frame.build(UID, "LLM usage & performance", "Token rates, prompt-cache hit ratio, latency and time to "
                       "first chunk by model, errors by type, and calls the price table could not price.",
                       [("Tokens", _tokens), ("Latency", _latency), ("Errors", _errors),
                        ("Unpriced calls", _unpriced)])
