"""The shipped Prometheus rules, their promtool unit tests and the Prometheus/Alertmanager example configs.

Runs the real promtool and amtool (Debian prometheus 2.42 / prometheus-alertmanager 0.25; installed by
scripts/setup.d). A missing binary skips, or fails when OTEL_LLM_COST_E2E_REQUIRED=1 (CI).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e.stack import require
from otel_llm_cost.cli.exact_spend import minute_increments

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "prometheus" / "rules"
UNIT_TESTS = REPO / "prometheus" / "tests"
README = REPO / "prometheus" / "README.md"
ALERTS = ("LLMDailyBudgetExceeded", "LLMMonthlyBudgetProjectedOverrun", "LLMSpendRateSpike",
          "LLMServiceSpendRunaway", "LLMUnpricedCalls", "LLMCostPerCallP95Jump", "LLMCostTelemetryMissing",
          "LLMPriceTableStale")
# Names other parts of the project query (grafana-dashboards, the report command): see PIPELINE-CONTRACT.
CONTRACT_RECORDS = ("llm:cost_usd:rate5m", "llm:cost_usd:increase1h", "llm:cost_usd:increase1d",
                    "llm:cost_usd:month_to_date", "llm:cost_usd:projected_month_end", "llm:calls:rate5m",
                    "llm:unpriced_calls:rate5m", "llm:cache_savings_usd:rate5m", "llm:cost_per_call_usd:p95_1h",
                    "llm:budget_usd:daily", "llm:budget_usd:monthly")


def run(*argv: str | Path, cwd: Path = REPO, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          check=False)


def rule_files() -> list[Path]:
    return sorted(RULES.glob("*.yaml"))


def all_rules() -> list[dict[str, Any]]:
    return [rule for path in rule_files() for group in yaml.safe_load(path.read_text())["groups"]
            for rule in group["rules"]]


@pytest.fixture(scope="module")
def promtool() -> Path:
    return Path(require("promtool")["promtool"])


def test_check_rules(promtool: Path) -> None:
    done = run(promtool, "check", "rules", *rule_files())
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("SUCCESS") == len(rule_files())


def test_unit_tests_pass(promtool: Path) -> None:
    tests = sorted(UNIT_TESTS.glob("*_test.yaml"))
    assert len(tests) >= 4
    done = run(promtool, "test", "rules", *tests)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("SUCCESS") == len(tests), done.stdout


def test_unit_tests_depend_on_the_budget_file(promtool: Path, tmp_path: Path) -> None:
    """A changed daily budget must break the alert tests: they really evaluate llm-budgets.yaml."""
    shutil.copytree(REPO / "prometheus", tmp_path / "prometheus")
    budgets = tmp_path / "prometheus" / "rules" / "llm-budgets.yaml"
    text = budgets.read_text()
    assert text.count("expr: vector(100)") == 1
    budgets.write_text(text.replace("expr: vector(100)", "expr: vector(1000)"))
    done = run(promtool, "test", "rules", tmp_path / "prometheus" / "tests" / "alerts_test.yaml")
    assert done.returncode != 0
    assert "LLMDailyBudgetExceeded" in done.stdout + done.stderr


def test_check_rules_rejects_a_broken_expression(promtool: Path, tmp_path: Path) -> None:
    """The check is not vacuous: a rule file with an unclosed parenthesis fails."""
    broken = tmp_path / "broken.yaml"
    broken.write_text((RULES / "llm-cost-recording.yaml").read_text().replace(
        "rate(gen_ai_client_cost_USD_total[5m])", "rate(gen_ai_client_cost_USD_total[5m]", 1))
    done = run(promtool, "check", "rules", broken)
    assert done.returncode != 0 and "parse" in (done.stdout + done.stderr).lower()


def test_check_prometheus_config(promtool: Path) -> None:
    done = run(promtool, "check", "config", REPO / "prometheus" / "prometheus.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(rule_files())} rule files found" in done.stdout


def test_check_alertmanager_config() -> None:
    amtool = require("amtool")["amtool"]
    done = run(amtool, "check-config", REPO / "deploy" / "alertmanager.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_contract_record_names_exist() -> None:
    records = {rule["record"] for rule in all_rules() if "record" in rule}
    assert set(CONTRACT_RECORDS) <= records


def test_every_alert_is_complete_and_documented() -> None:
    alerts = {rule["alert"]: rule for rule in all_rules() if "alert" in rule}
    assert set(alerts) == set(ALERTS)
    readme = README.read_text()
    headings = {h.strip().lower() for h in re.findall(r"^#{2,4} +(\w+)\s*$", readme, flags=re.MULTILINE)}
    for name, rule in alerts.items():
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, name
        assert {"summary", "description", "runbook"} <= set(rule["annotations"]), name
        assert "$value" in rule["annotations"]["description"] or name == "LLMCostTelemetryMissing", name
        assert rule.get("for"), f"{name} has no for: (flapping)"
        assert f"prometheus/README.md#{name.lower()}" in rule["annotations"]["runbook"], name
        assert name.lower() in headings, f"README has no runbook section for {name}"


def test_every_alert_is_unit_tested_firing_and_not_firing() -> None:
    cases: dict[str, set[bool]] = {name: set() for name in ALERTS}
    for path in UNIT_TESTS.glob("*_test.yaml"):
        for group in yaml.safe_load(path.read_text())["tests"]:
            for case in group.get("alert_rule_test", []):
                cases[case["alertname"]].add(bool(case.get("exp_alerts")))
    assert {name: fired for name, fired in cases.items() if fired != {True, False}} == {}


def test_thresholds_live_only_in_the_budget_file() -> None:
    """Alerts read budgets/thresholds from llm-budgets.yaml series, never from numbers of their own."""
    budget_records = {rule["record"] for rule in yaml.safe_load((RULES / "llm-budgets.yaml").read_text())
                      ["groups"][0]["rules"]}
    alert_text = (RULES / "llm-cost-alerts.yaml").read_text()
    for record in budget_records:
        assert record in alert_text, f"{record} is not used by any alert"
    for rule in all_rules():
        if "alert" in rule:
            # The only literals: 0 (any unpriced call), 3 (days of history), 3600 (per hour), 0.5 (median).
            numbers = set(re.findall(r"(?<![\w:.\[])\d+(?:\.\d+)?(?![\w\]])", rule["expr"]))
            assert numbers <= {"0", "3", "3600", "0.5"}, (rule["alert"], numbers)


def test_spend_rules_use_the_shared_minute_increments() -> None:
    """The rules, ``report`` and the dashboards add up the same per-minute increments (otel_llm_cost.cli.exact_spend);
    none of the spend figures extrapolates with increase()."""
    by_name: dict[str, str] = {}
    for rule in all_rules():
        if "record" in rule:  # month_to_date has two rules (scope service, scope total): both texts
            by_name[rule["record"]] = by_name.get(rule["record"], "") + rule["expr"]
    cost = minute_increments("gen_ai_client_cost_USD_total")
    for name in ("llm:cost_usd:increase1h", "llm:cost_usd:increase1d", "llm:cost_usd:hour_tile",
                 "llm:cost_usd:month_to_date"):
        assert cost in by_name[name], name
        assert "increase(" not in by_name[name], name
    assert minute_increments("gen_ai_client_operation_unpriced_total") in by_name["llm:unpriced_calls:increase1h"]


def test_every_recording_rule_is_documented() -> None:
    readme = README.read_text()
    missing = {rule["record"] for rule in all_rules() if "record" in rule} - set(re.findall(r"`([\w:]+)`", readme))
    assert {name for name in missing if not name.startswith(("llm:budget_usd:", "llm:threshold:"))} == set()
