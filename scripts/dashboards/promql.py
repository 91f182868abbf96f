"""PromQL pieces shared by every dashboard: metric names, the variable filter, and exact range totals.

Names are those of DESIGN.md after Prometheus translation (raw series) and of PIPELINE-CONTRACT.md (recording
rules in prometheus/rules/). tests/dashboards/test_names.py checks each one against what the package emits and
what the rule files define.
"""

from __future__ import annotations

from otel_llm_cost.cli.exact_spend import minute_increments

# --- raw series (the package's instruments after the collector's translation) -------------------------------
COST = "gen_ai_client_cost_USD_total"
CALL_COST = "gen_ai_client_operation_cost_USD"  # histogram: _bucket/_sum/_count (one sample per priced call)
SAVINGS = "gen_ai_client_cost_savings_USD_total"
UNPRICED = "gen_ai_client_operation_unpriced_total"
DURATION = "gen_ai_client_operation_duration_seconds"  # every call, failures carry error_type
TTFC = "gen_ai_client_operation_time_to_first_chunk_seconds"
TOKENS_IN = "gen_ai_client_inference_usage_input_tokens_total"
TOKENS_OUT = "gen_ai_client_inference_usage_output_tokens_total"
TOKENS_CACHE_READ = "gen_ai_client_inference_usage_cache_read_input_tokens_total"
TOKENS_REASONING = "gen_ai_client_inference_usage_reasoning_output_tokens_total"

# --- recording rules (prometheus/rules/) ----------------------------------------------------------------------
R_COST_RATE = "llm:cost_usd:rate5m"
R_COST_1D = "llm:cost_usd:increase1d"
R_MTD = "llm:cost_usd:month_to_date"
R_PROJECTED = "llm:cost_usd:projected_month_end"
R_CALLS_RATE = "llm:calls:rate5m"
R_UNPRICED_RATE = "llm:unpriced_calls:rate5m"
R_SAVINGS_RATE = "llm:cache_savings_usd:rate5m"
R_P95_1H = "llm:cost_per_call_usd:p95_1h"
R_BUDGET_DAILY = "llm:budget_usd:daily"
R_BUDGET_MONTHLY = "llm:budget_usd:monthly"

# --- labels -----------------------------------------------------------------------------------------------------
SERVICE, ENV = "service_name", "deployment_environment"
PROVIDER, MODEL = "gen_ai_provider_name", "gen_ai_request_model"
FEATURE, TEAM, TENANT = "feature", "team", "tenant"

# label -> dashboard variable; the order is the order of the variables in the dashboard header
VARIABLES: dict[str, str] = {SERVICE: "service", ENV: "environment", PROVIDER: "provider", MODEL: "model",
                             FEATURE: "feature", TEAM: "team"}
ALL_DIMS = tuple(VARIABLES)


def sel(metric: str, *extra: str, dims: tuple[str, ...] = ALL_DIMS) -> str:
    """``metric{label=~"$var", ...}`` restricted to the variables that exist as labels on that series."""
    matchers = [f'{label}=~"${VARIABLES[label]}"' for label in dims] + list(extra)
    return f"{metric}{{{', '.join(matchers)}}}"


def by(*labels: str) -> str:
    return f" by ({', '.join(labels)})" if labels else ""


def range_increase(selector: str) -> str:
    """Per-series exact increase over the dashboard range ``(from, to]``, in whole minutes up to now.

    The counters' minute-by-minute increments (otel_llm_cost.cli.exact_spend, the arithmetic of the recording rules):
    no extrapolation (``increase()`` shows more than was spent), a series born inside the range (a process that
    started today, a script that exported once at exit) counts with its first export, and restarts count
    exactly. A ``$__range`` subquery steps through the whole minutes of the range; the minute in progress at
    ``to`` is a second, one-step subquery ending at the end of that minute (Grafana ranges cannot be lengthened
    by a minute). Each minute belongs to the range when it ends after ``from``.
    """
    increments = minute_increments(selector)
    whole = f"sum_over_time(({increments} and on() vector(time()) > $__from / 1000)[$__range:1m])"
    current = f"sum_over_time(({increments} and on() vector(time()) > $__to / 1000)[1m:1m] offset -59s999ms)"
    return (f'label_replace({whole}, "minutes", "whole", "", "")'
            f' or label_replace({current}, "minutes", "current", "", "")')


def range_total(selector: str, *labels: str) -> str:
    """``sum by (labels)`` of :func:`range_increase`: the spend, calls or tokens in the dashboard's range."""
    return f"sum{by(*labels)} ({range_increase(selector)})"


def rate(selector: str, *labels: str) -> str:
    return f"sum{by(*labels)} (rate({selector}[$__rate_interval]))"


def none_label(expr: str, label: str) -> str:
    """Name the series without ``label`` "(none)" so unattributed spend is visible, not a blank legend."""
    return f'label_replace({expr}, "{label}", "(none)", "{label}", "")'
