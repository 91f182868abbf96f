"""The shipped rules in a real pipeline: app under ``opentelemetry-instrument`` -> OTLP -> our built collector ->
remote write -> Prometheus 2.42 evaluating prometheus/rules -> Alertmanager (deploy/alertmanager.yml) -> webhook.

The rule files are the shipped ones. Only what a user edits is changed, programmatically: the daily budget
(tiny, so a few cents of workload exceed it) and every alert's ``for:`` (1s instead of minutes). The expressions
are asserted unchanged. Seven days of history of the hourly per-service spend are backfilled with
``promtool tsdb create-blocks-from openmetrics`` (as if the rules had run for a week, at a few cents an hour), so
that the rule comparing with the same hour of previous days has data, and the workload is a spike against it (the
spike alert's noise floor is lowered to match the workload's size).
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from stack import REPO, RULES_DIR, Stack, finish_app, require, spawn_instrumented_app, start_stack

APP = Path(__file__).with_name("cost_app.py")
SERVICE, ENVIRONMENT = "rules-e2e", "test"
DAILY_BUDGET = 0.01  # USD; one round of the workload costs more
SPIKE_FLOOR = 0.1  # USD in the hour (default 1); the workload spends about $1 in its run
HISTORY_USD = [0.01 * days for days in range(1, 8)]  # the same hour 1..7 days ago: $0.04 on average
# Long enough for minute-to-minute differences in the current hour (month_to_date) and two 5m-rate samples.
APP_SECONDS = 130


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def records(rules_dir: Path) -> list[str]:
    names = [rule["record"] for path in sorted(rules_dir.glob("*.yaml")) for group in load(path)["groups"]
             for rule in group["rules"] if "record" in rule]
    return list(dict.fromkeys(names))


def expressions(rules_dir: Path) -> list[tuple[str, str]]:
    return [(rule.get("record") or rule["alert"], rule["expr"]) for path in sorted(rules_dir.glob("*.yaml"))
            if path.name != "llm-budgets.yaml" for group in load(path)["groups"] for rule in group["rules"]]


def rule_copies(target: Path) -> Path:
    """Copies of the shipped rules with a tiny daily budget, a low spike floor and 1s ``for:`` durations."""
    target.mkdir()
    shutil.copy(RULES_DIR / "llm-cost-recording.yaml", target)
    alerts = load(RULES_DIR / "llm-cost-alerts.yaml")
    for group in alerts["groups"]:
        for rule in group["rules"]:
            rule["for"] = "1s"
    (target / "llm-cost-alerts.yaml").write_text(yaml.safe_dump(alerts, sort_keys=False))
    budgets = load(RULES_DIR / "llm-budgets.yaml")
    (daily,) = [r for r in budgets["groups"][0]["rules"]
                if r.get("record") == "llm:budget_usd:daily" and r["labels"] == {"scope": "total"}]
    daily["expr"] = f"vector({DAILY_BUDGET})"
    (floor,) = [r for r in budgets["groups"][0]["rules"] if r.get("record") == "llm:threshold:spike_min_usd_per_hour"]
    floor["expr"] = f"vector({SPIKE_FLOOR})"
    (target / "llm-budgets.yaml").write_text(yaml.safe_dump(budgets, sort_keys=False))
    assert expressions(target) == expressions(RULES_DIR)  # the shipped expressions, unchanged
    return target



def backfill_history(promtool: Path, data_dir: Path, workdir: Path) -> None:
    """llm_service:cost_usd:increase1h of our service around the current time of day, 1 to 7 days ago."""
    now = int(time.time())
    lines = ["# TYPE llm_service:cost_usd:increase1h gauge"]
    for days in range(7, 0, -1):
        for minute in range(-20, 21):
            ts = now - days * 86400 + minute * 60
            lines.append(f'llm_service:cost_usd:increase1h{{deployment_environment="{ENVIRONMENT}",'
                         f'service_name="{SERVICE}"}} {HISTORY_USD[days - 1]} {ts}')
    lines.append("# EOF")
    source = workdir / "history.om"
    source.write_text("\n".join(lines) + "\n")
    data_dir.mkdir(parents=True)
    done = subprocess.run([str(promtool), "tsdb", "create-blocks-from", "openmetrics", str(source), str(data_dir)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def use_shipped_alertmanager_config(stack: Stack) -> None:
    """Reload the stack's Alertmanager with deploy/alertmanager.yml: same routes, the test webhook, 1s waits."""
    assert stack.alertmanager is not None
    config = load(REPO / "deploy" / "alertmanager.yml")
    for route in [config["route"], *config["route"].get("routes", [])]:
        for key in ("group_wait", "group_interval"):
            if key in route:
                route[key] = "1s"
    (receiver,) = config["receivers"]
    (webhook,) = receiver["webhook_configs"]
    webhook["url"] = stack.webhook.url
    stack.alertmanager.config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    request = urllib.request.Request(f"{stack.alertmanager.url}/-/reload", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
    with urllib.request.urlopen(f"{stack.alertmanager.url}/api/v2/status", timeout=10) as response:
        status = json.loads(response.read())
    assert stack.webhook.url in status["config"]["original"]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Path]]:
    """The stack with the test rule copies and backfilled history; our app ran through it for APP_SECONDS."""
    promtool = require("promtool", "otelcol", "prometheus", "alertmanager")["promtool"]
    workdir = tmp_path_factory.mktemp("rules-e2e")
    rules = rule_copies(workdir / "rules")
    backfill_history(promtool, workdir / "prometheus-data", workdir)
    with start_stack(workdir, rule_files=[rules / "*.yaml"]) as stack:
        use_shipped_alertmanager_config(stack)
        app = spawn_instrumented_app(APP, ["--out", str(workdir / "ledger.json"), "--duration", str(APP_SECONDS),
                                           "--interval", "1"], stack.app_env(SERVICE, ENVIRONMENT))
        try:
            # The budget alert must arrive while the app is still calling.
            stack.wait_for_alert("LLMDailyBudgetExceeded", timeout=90)
        finally:
            finish_app(app, timeout=APP_SECONDS + 120)
        yield stack, rules


def test_daily_budget_alert_reaches_the_webhook(pipeline: tuple[Stack, Path]) -> None:
    stack, _ = pipeline
    (alert, *_) = stack.firing_alerts("LLMDailyBudgetExceeded")
    assert alert["labels"] == {"alertname": "LLMDailyBudgetExceeded", "severity": "critical", "scope": "total"}
    annotations = alert["annotations"]
    assert annotations["summary"] == "LLM spend of the last 24 h is over the daily budget (all services)."
    assert annotations["description"].startswith("All services together spent $")
    assert annotations["description"].endswith(f"the daily budget is ${DAILY_BUDGET:.2f}.")
    assert "prometheus/README.md#llmdailybudgetexceeded" in annotations["runbook"]
    # Routed by deploy/alertmanager.yml: its receiver, grouped by alertname and service_name (none: the total).
    payload = next(p for p in stack.webhook.received()
                   if any(a["labels"]["alertname"] == "LLMDailyBudgetExceeded" for a in p["alerts"]))
    assert payload["receiver"] == "llm-cost-webhook"
    assert payload["groupLabels"] == {"alertname": "LLMDailyBudgetExceeded"}
    # The spend in the description is what Prometheus holds (to the cent, within the workload's growth).
    spent = float(annotations["description"].split("$")[1].split(" ")[0])
    held = stack.query_value("sum(llm:cost_usd:increase1d)")
    # The description rounds to the cent: the alert fired above the budget, so the printed value is at least
    # the budget rounded down.
    assert held is not None and DAILY_BUDGET - 0.005 <= spent <= held + 0.005


def test_unpriced_model_alert_reaches_the_webhook(pipeline: tuple[Stack, Path]) -> None:
    """The workload calls one model the price table does not know (gpt-9-preview)."""
    stack, _ = pipeline
    alerts = stack.wait_for_alert("LLMUnpricedCalls", timeout=30)
    labels = alerts[0]["labels"]
    assert (labels["service_name"], labels["deployment_environment"]) == (SERVICE, ENVIRONMENT)
    assert (labels["gen_ai_request_model"], labels["llm_cost_unpriced_reason"]) == ("gpt-9-preview",
                                                                                    "unknown_model")
    assert "could not be priced (reason: unknown_model)" in alerts[0]["annotations"]["description"]


def test_every_recording_rule_returns_data(pipeline: tuple[Stack, Path]) -> None:
    stack, rules = pipeline
    names = records(rules)
    assert len(names) >= 20
    # The hourly tile holds the previous hour, written in minutes 10 to 19: this fresh stack has none (its
    # values are in prometheus/tests/exact_spend_test.yaml; its health is checked below).
    names.remove("llm:cost_usd:hour_tile")
    empty = []
    for name in names:
        try:
            stack.wait_for(name, bool, timeout=20)
        except AssertionError:
            empty.append(name)
    assert empty == []
    unhealthy = [(r["name"], r.get("lastError")) for r in stack.prometheus.rules() if r["health"] != "ok"]
    assert unhealthy == []


def test_recorded_values_are_consistent(pipeline: tuple[Stack, Path]) -> None:
    stack, _ = pipeline
    ours = f'service_name="{SERVICE}",deployment_environment="{ENVIRONMENT}"'
    # The workload's attribution arrives as dimensions.
    features = {r["metric"].get("feature") for r in stack.query(f"llm:cost_usd:rate5m{{{ours}}}")}
    assert features == {"search", "chat", "summarize"}
    # Month to date is exactly what the counters hold (the app has finished; a fresh Prometheus).
    held = stack.query_value(f"sum(gen_ai_client_cost_USD_total{{{ours}}})")
    assert held is not None and held > 0
    mtd = stack.wait_for(f'llm:cost_usd:month_to_date{{scope="service",{ours}}}',
                         lambda r: bool(r) and math.isclose(float(r[0]["value"][1]), held, rel_tol=1e-9),
                         timeout=30)
    month_to_date = float(mtd[0]["value"][1])
    total = stack.query_value('llm:cost_usd:month_to_date{scope="total"}')
    assert total is not None and total >= month_to_date
    projected = stack.query_value(f'llm:cost_usd:projected_month_end{{scope="service",{ours}}}')
    assert projected is not None and projected > month_to_date
    # The same-hour history: 7 backfilled days.
    days = stack.query(f"llm_service:cost_usd:increase1h_same_hour_past7d{{{ours}}}")
    assert sorted(r["metric"]["days_ago"] for r in days) == [str(d) for d in range(1, 8)]
    # The budget constant the alert compared with is the edited one.
    assert stack.query_value('llm:budget_usd:daily{scope="total"}') == DAILY_BUDGET


def test_spend_spike_against_the_same_hour_of_previous_days(pipeline: tuple[Stack, Path]) -> None:
    stack, _ = pipeline
    alerts = stack.wait_for_alert("LLMSpendRateSpike", timeout=30)
    assert alerts[0]["labels"] == {"alertname": "LLMSpendRateSpike", "severity": "warning",
                                   "service_name": SERVICE, "deployment_environment": ENVIRONMENT}
    average = sum(HISTORY_USD) / len(HISTORY_USD)
    assert alerts[0]["annotations"]["description"].endswith(
        f"in the same hour of the previous days it spent ${average:.2f} on average.")
