"""Every panel query of every dashboard, run against the real pipeline after a realistic workload.

app (real SDKs -> simulated APIs, under ``opentelemetry-instrument``) -> OTLP -> our collector -> remote write ->
Prometheus 2.42 with prometheus/rules -> the dashboards' PromQL, with the template variables expanded the way
Grafana does: to real values, to multi-value selections and to "All" (the variables' allValue ``.*``).
Each query must return data (at least one finite value) whose series carry the labels its legend names, and
the overview's "Spend today" and "Calls" must equal the workload's own ledger.
"""

from __future__ import annotations

import json
import math
import re
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from stack import REPO, Stack, http_get_json, run_instrumented_app, start_stack

DASH_DIR = REPO / "grafana-dashboards"
APP = Path(__file__).with_name("dashboard_app.py")
SERVICE, ENVIRONMENT = "dash-e2e", "e2e"
RATE_INTERVAL, INTERVAL, STEP = "1m", "5s", 5
VARIABLE_LABELS = {"service": "service", "environment": "environment", "provider": "provider", "model": "model",
                   "feature": "feature", "team": "team"}
LEDGER_KEYS = {"service": None, "environment": None, "provider": "provider", "model": "model",
               "feature": "feature", "team": "team"}


@dataclass(frozen=True)
class Scenario:
    """Values of the dashboard variables; None is "All"."""

    name: str
    values: dict[str, tuple[str, ...] | None]

    def text(self, variable: str) -> str:
        """What Grafana substitutes for ``$variable``: one value, ``(a|b)`` for several, allValue for All."""
        chosen = self.values.get(variable)
        if chosen is None:
            return ".*"
        assert all(re.fullmatch(r"[\w-]+", v) for v in chosen), chosen  # nothing to regex-escape
        return chosen[0] if len(chosen) == 1 else "(" + "|".join(chosen) + ")"

    def selects(self, call: dict[str, Any]) -> bool:
        """Whether a ledger call is inside this selection (a missing label matches only All)."""
        for variable, key in LEDGER_KEYS.items():
            chosen = self.values.get(variable)
            if chosen is not None and key is not None and call[key] not in chosen:
                return False
        return True


SCENARIOS = [
    Scenario("all", {}),
    Scenario("one-service", {"service": (SERVICE,), "environment": (ENVIRONMENT,)}),
    Scenario("drill-down", {"service": (SERVICE,), "environment": (ENVIRONMENT,),
                            "provider": ("openai", "anthropic"),
                            "model": ("gpt-4o-mini", "o4-mini", "gpt-9-preview", "claude-haiku-4-5"),
                            "feature": ("search", "chat", "summarize"), "team": ("growth", "core")}),
]


@dataclass
class Loaded:
    stack: Stack
    calls: list[dict[str, Any]]
    start: float  # unix time just before the workload


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    workdir = tmp_path_factory.mktemp("dashboards-live")
    with start_stack(workdir) as stack:
        env = {**stack.app_env(service_name=SERVICE, environment=ENVIRONMENT),
               "OTEL_LLM_COST_METRIC_ATTRIBUTES": "feature,team,tenant",
               # only our instrumentation: the peers (official genai, OpenLLMetry) have tests of their own
               "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "openai,anthropic"}
        start = time.time() - 1
        ledger = workdir / "ledger.json"
        run_instrumented_app(APP, ["--out", str(ledger), "--duration", "20", "--interval", "1"], env, timeout=120)
        calls = json.loads(ledger.read_text())["calls"]
        total = sum(c["cost"] for c in calls if c["cost"] is not None)
        sel = f'{{service_name="{SERVICE}"}}'
        stack.wait_for(f"sum(gen_ai_client_operation_duration_seconds_count{sel})",
                       lambda r: bool(r) and int(float(r[0]["value"][1])) == len(calls))
        stack.wait_for(f"sum(gen_ai_client_cost_USD_total{sel})",
                       lambda r: bool(r) and math.isclose(float(r[0]["value"][1]), total, rel_tol=1e-9))
        for rule in ("llm:cost_usd:rate5m", "llm:cost_usd:increase1d", "llm:cost_usd:month_to_date",
                     "llm:cost_usd:projected_month_end", "llm:cost_per_call_usd:p95_1h", "llm:calls:rate5m",
                     "llm:unpriced_calls:rate5m", "llm:cache_savings_usd:rate5m"):
            stack.wait_for(f"{rule}{sel}", timeout=30)
        yield Loaded(stack, calls, start)


def _range_seconds(loaded: Loaded, panel: dict[str, Any], now: float) -> int:
    """Grafana's $__range: the dashboard range (here: since the workload began) or the panel's own
    ``timeFrom`` ("now/d": since 00:00 UTC, the dashboard's time zone)."""
    begin = loaded.start
    if panel.get("timeFrom") == "now/d":
        midnight = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
        begin = max(midnight, loaded.start) if midnight > loaded.start else midnight
    return math.ceil(now - begin)


def expand(expr: str, scenario: Scenario, range_s: int, now: float = 0.0) -> str:
    """Grafana's substitutions for a query at ``now`` over the last ``range_s`` seconds."""
    for variable in sorted(VARIABLE_LABELS, key=len, reverse=True):
        expr = expr.replace(f"${variable}", scenario.text(variable))
    expr = expr.replace("$__rate_interval", RATE_INTERVAL).replace("$__interval", INTERVAL)
    expr = expr.replace("$__from", f"{round((now - range_s) * 1000)}").replace("$__to", f"{round(now * 1000)}")
    return expr.replace("$__range", f"{range_s}s")


def run_target(stack: Stack, target: dict[str, Any], expr: str, range_s: int, now: float) -> list[dict[str, Any]]:
    if target["instant"]:
        data = stack.prometheus.api("/api/v1/query", query=expr, time=f"{now:.3f}")
    else:
        data = stack.prometheus.api("/api/v1/query_range", query=expr, start=f"{now - range_s:.3f}",
                                    end=f"{now:.3f}", step=str(STEP))
    if data["resultType"] == "scalar":
        return [{"metric": {}, "value": data["result"]}]
    return list(data["result"])


def finite_values(series: dict[str, Any]) -> list[float]:
    points = series.get("values") or [series["value"]]
    return [v for v in (float(p[1]) for p in points) if math.isfinite(v)]


def panels() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(DASH_DIR.glob("*.json")):
        out += [(path.stem, p) for p in json.loads(path.read_text())["panels"] if p.get("targets")]
    return out


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_every_panel_query_returns_labelled_data(loaded: Loaded, scenario: Scenario) -> None:
    now, failures, count = time.time(), [], 0
    for dashboard, panel in panels():
        range_s = _range_seconds(loaded, panel, now)
        for target in panel["targets"]:
            count += 1
            expr = expand(target["expr"], scenario, range_s, now)
            where = f"{dashboard} / {panel['title']} / {target['refId']}"
            result = run_target(loaded.stack, target, expr, range_s, now)
            if not any(finite_values(s) for s in result):
                failures.append(f"{where}: no data: {expr}")
                continue
            legend = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", target.get("legendFormat", "")))
            for series in result:
                missing = legend - set(series["metric"])
                if missing:
                    failures.append(f"{where}: series {series['metric']} lacks {sorted(missing)}")
                    break
    assert count > 50
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_variable_queries_list_the_workload(loaded: Loaded, scenario: Scenario) -> None:
    """label_values(selector, label) as Grafana runs it: /api/v1/label/<label>/values?match[]=selector."""
    dashboard = json.loads((DASH_DIR / "llm-spend-overview.json").read_text())
    expected = {"service": {SERVICE}, "environment": {ENVIRONMENT},
                "provider": {"openai", "anthropic", "aws.bedrock"},
                "feature": {c["feature"] for c in loaded.calls if c["feature"] and scenario.selects(c)},
                "team": {c["team"] for c in loaded.calls if c["team"] and scenario.selects(c)}}
    for variable in dashboard["templating"]["list"]:
        if variable["type"] != "query":
            continue
        m = re.fullmatch(r"label_values\((.*), (\w+)\)", variable["query"]["query"])
        assert m, variable["query"]
        selector = expand(m.group(1), scenario, 0)
        query = urllib.parse.urlencode({"match[]": selector, "start": f"{loaded.start:.0f}"})
        values = set(http_get_json(f"{loaded.stack.prometheus.url}/api/v1/label/{m.group(2)}/values?{query}")["data"])
        assert values, f"{variable['name']}: nothing for {selector}"
        if variable["name"] in expected:
            assert expected[variable["name"]] <= values, (variable["name"], values)


def stat_value(loaded: Loaded, title: str, scenario: Scenario) -> float:
    dashboard = json.loads((DASH_DIR / "llm-spend-overview.json").read_text())
    (panel,) = [p for p in dashboard["panels"] if p.get("title") == title]
    now = time.time()
    range_s = _range_seconds(loaded, panel, now)
    (target,) = panel["targets"]
    (series,) = run_target(loaded.stack, target, expand(target["expr"], scenario, range_s, now), range_s, now)
    return float(series["value"][1])


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_spend_today_and_calls_equal_the_workload(loaded: Loaded, scenario: Scenario) -> None:
    chosen = [c for c in loaded.calls if scenario.selects(c)]
    spend = sum(c["cost"] for c in chosen if c["cost"] is not None)
    assert spend > 0 and len(chosen) > 10
    assert stat_value(loaded, "Spend today", scenario) == pytest.approx(spend, rel=1e-9)
    assert stat_value(loaded, "Calls", scenario) == pytest.approx(len(chosen), abs=1e-9)
