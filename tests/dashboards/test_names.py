"""Every metric and label a dashboard queries is one the package emits or a recording rule defines.

The emitted names come from running the package (tests/dashboards/emitted_names.py: real SDK, real Prometheus
exporter), plus the labels the collector adds (resource attributes via resource_to_telemetry_conversion, and
job/instance). Recording rules and their labels come from prometheus/rules/*.yaml.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from promql_names import analyse, analyse_variable_query
from schema_check import ROOT

DASH_DIR = ROOT / "grafana-dashboards"
RULES_DIR = ROOT / "prometheus" / "rules"
# Labels the collector's prometheusremotewrite exporter adds: resource attributes (service.name,
# deployment.environment, which the collector copies from deployment.environment.name) and job/instance.
COLLECTOR_LABELS = {"service_name", "deployment_environment", "job", "instance"}
GRAFANA_VARIABLES = {"__range", "__rate_interval", "__interval", "__range_s", "__interval_ms", "__from",
                     "__to"}
# "$__range:1m", "1m:1m", "1m": the minute-step subqueries of exact range totals and their minute increments
# (scripts/dashboards/promql.py, otel_llm_cost.cli.exact_spend)
ALLOWED_WINDOWS = {"$__rate_interval", "$__range", "$__range:1m", "1m:1m", "1m"}
# set by label_replace inside range_increase() to keep its two parts apart, summed away by range_total()
HELPER_LABELS = {"minutes"}


@pytest.fixture(scope="module")
def emitted() -> dict[str, set[str]]:
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("emitted_names.py"))],
                          capture_output=True, text=True, timeout=120, check=True)
    return {name: set(labels) | COLLECTOR_LABELS for name, labels in json.loads(done.stdout).items()}


def rule_labels(rules_dir: Path, emitted: dict[str, set[str]]) -> dict[str, set[str]]:
    """Recording rule name -> the labels its series can carry (aggregation labels and static labels)."""
    every = set().union(*emitted.values())
    out: dict[str, set[str]] = {}
    for path in sorted(rules_dir.glob("*.yaml")):
        for group in (yaml.safe_load(path.read_text()) or {}).get("groups", []):
            for rule in group.get("rules", []):
                if "record" not in rule:
                    continue
                expr = str(rule["expr"])
                usage = analyse(expr)
                labels = every if re.search(r"\bwithout\b", expr) else set(usage.grouping)
                if not re.search(r"\b(by|without)\b", expr):  # no aggregation: keeps its inputs' labels
                    labels = set().union(*(emitted.get(m, set()) for m, _ in usage.selectors))
                out.setdefault(rule["record"], set()).update(labels | set(rule.get("labels") or {}))
    return out


def dashboard_queries() -> list[tuple[str, str, str]]:
    """(dashboard, where, expr) for every panel target; variable queries are separate."""
    out = []
    for path in sorted(DASH_DIR.glob("*.json")):
        dash = json.loads(path.read_text())
        for panel in dash["panels"]:
            for t in panel.get("targets", []):
                out.append((path.stem, f"{panel['title']} / {t['refId']}", t["expr"]))
    return out


def variable_queries() -> list[tuple[str, str, str]]:
    out = []
    for path in sorted(DASH_DIR.glob("*.json")):
        for var in json.loads(path.read_text())["templating"]["list"]:
            if var["type"] == "query":
                out.append((path.stem, var["name"], var["query"]["query"]))
    return out


def problems(expr: str, known: dict[str, set[str]], variables: set[str]) -> list[str]:
    """Everything wrong with one dashboard expression (empty when it only uses known names)."""
    usage = analyse(expr)
    found = list(usage.errors)
    every = set().union(*known.values())
    for metric, labels in usage.selectors:
        if metric not in known:
            found.append(f"unknown metric {metric!r}")
            continue
        found += [f"{metric} has no label {label!r}" for label in labels if label not in known[metric]]
    found += [f"unknown label {label!r} in grouping" for label in usage.grouping
              if label not in every | HELPER_LABELS]
    found += [f"window [{r}] is not $__rate_interval/$__range/a minute step" for r in usage.ranges
              if r not in ALLOWED_WINDOWS]
    found += [f"unknown variable ${v}" for v in usage.variables if v not in variables | GRAFANA_VARIABLES]
    return found


@pytest.fixture(scope="module")
def known(emitted: dict[str, set[str]]) -> dict[str, set[str]]:
    assert RULES_DIR.is_dir(), "prometheus/rules/ is missing"
    return {**emitted, **rule_labels(RULES_DIR, emitted)}


VARIABLES = {"datasource", "service", "environment", "provider", "model", "feature", "team"}


def test_emitted_names_match_design(emitted: dict[str, set[str]]) -> None:
    """The DESIGN.md table after translation (a sanity check of the derivation itself)."""
    for name in ("gen_ai_client_cost_USD_total", "gen_ai_client_operation_cost_USD_bucket",
                 "gen_ai_client_cost_savings_USD_total", "gen_ai_client_operation_unpriced_total",
                 "gen_ai_client_operation_duration_seconds_count", "gen_ai_client_token_usage_sum",
                 "gen_ai_client_inference_usage_input_tokens_total",
                 "gen_ai_client_operation_time_to_first_chunk_seconds_bucket"):
        assert name in emitted
    assert {"feature", "team", "tenant", "gen_ai_cost_type"} <= emitted["gen_ai_client_cost_USD_total"]
    assert "error_type" in emitted["gen_ai_client_operation_duration_seconds_count"]


@pytest.mark.parametrize(("dashboard", "where", "expr"), dashboard_queries())
def test_panel_query_uses_known_names(dashboard: str, where: str, expr: str, known: dict[str, set[str]]) -> None:
    assert problems(expr, known, VARIABLES) == [], f"{dashboard}: {where}: {expr}"


@pytest.mark.parametrize(("dashboard", "name", "query"), variable_queries())
def test_variable_query_uses_known_names(dashboard: str, name: str, query: str,
                                         known: dict[str, set[str]]) -> None:
    usage, label = analyse_variable_query(query)
    assert [m for m, _ in usage.selectors] and all(m in known for m, _ in usage.selectors), query
    for metric, labels in usage.selectors:
        assert label in known[metric] and set(labels) <= known[metric], query


def test_every_recording_rule_a_dashboard_uses_exists(known: dict[str, set[str]]) -> None:
    used = {m for _, _, e in dashboard_queries() for m, _ in analyse(e).selectors if ":" in m}
    assert used and used <= set(known), used - set(known)


BAD: list[tuple[str, str]] = [
    ('sum(rate(gen_ai_client_cost_usd_total{service_name=~"$service"}[$__rate_interval]))', "unknown metric"),
    ('sum(rate(gen_ai_client_cost_USD_total{gen_ai_system="openai"}[$__rate_interval]))', "has no label"),
    ('sum by (gen_ai_model) (rate(gen_ai_client_cost_USD_total[$__rate_interval]))', "unknown label"),
    ("sum(rate(gen_ai_client_cost_USD_total[5m]))", "window [5m]"),
    ('sum(rate(gen_ai_client_cost_USD_total{team=~"$squad"}[$__rate_interval]))', "unknown variable"),
    ("sum(rates(gen_ai_client_cost_USD_total[$__rate_interval]))", "unknown function"),
    ('label_replace(llm:cost_usd:rate5m, "tennant", "(none)", "tennant", "")', "unknown label 'tennant'"),
    ("sum(llm:cost_usd:rate_5m)", "unknown metric"),
    ('sum(llm:budget_usd:monthly{service_name="x", tier="gold"})', "has no label 'tier'"),
]


@pytest.mark.parametrize(("expr", "complaint"), BAD)
def test_bad_names_are_caught(expr: str, complaint: str, known: dict[str, set[str]]) -> None:
    found = problems(expr, known, VARIABLES)
    assert any(complaint in p for p in found), found


def test_scanner_reads_structure() -> None:
    usage = analyse('sum by (a, b) (rate(m1{x=~"$v", y!=""}[$__range] offset 1w)) / on(c) group_left(d) '
                    'label_replace(m2, "e", "$1", "f", "(.*)") * 3600 or vector(0)')
    assert usage.selectors == [("m1", ["x", "y"]), ("m2", [])]
    assert usage.grouping == ["a", "b", "c", "d", "e", "f"]
    assert usage.functions == ["sum", "rate", "label_replace", "vector"]
    assert usage.ranges == ["$__range"] and usage.variables == ["v", "__range"]


def _rules_labels_example(tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "r.yaml").write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [
        {"record": "a:b:c", "expr": "sum by (service_name) (rate(x[5m]))"},
        {"record": "a:budget", "expr": "vector(10)", "labels": {"scope": "total"}}]}]}))
    return rule_labels(tmp_path, {"x": {"service_name", "team"}})


def test_rule_labels_follow_aggregation(tmp_path: Path) -> None:
    assert _rules_labels_example(tmp_path) == {"a:b:c": {"service_name"}, "a:budget": {"scope"}}
