"""``otel-llm-cost budgets rules`` (checked by the real promtool: the alerts fire at the enforced limit),
``budgets status`` reading a real redis-server, and doctor's budget checks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from redis_server import RedisServer

from otel_llm_cost.budgets.file import load_budget_file
from otel_llm_cost.budgets.guard import Guard
from otel_llm_cost.budgets.redis_store import RedisStore

BIN = Path(sys.executable).with_name("otel-llm-cost")
RULES = Path(__file__).resolve().parents[2] / "prometheus" / "rules"
BUDGETS = """
[[budget]]
name = "checkout-daily"
scope = { service = "checkout" }
limit_usd = 20
window = "day"

[[budget]]
name = "checkout-monthly"
scope = { service = "checkout" }
limit_usd = 400.5
window = "month"
action = "warn"

[[budget]]
name = "free-users"
scope = { plan = "free", user_id = "*" }
limit_usd = 0.5
window = "day"

[[budget]]
name = "hourly"
limit_usd = 5
window = "hour"
"""


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=60, env=env)


def test_rules_are_the_alerts_budget_series(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is not installed: run scripts/setup.d/10-observability.sh")
    budgets = tmp_path / "budgets.toml"
    budgets.write_text(BUDGETS)
    out = tmp_path / "enforced-budgets.yaml"
    done = cli("budgets", "rules", str(budgets), "-o", str(out))
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "labels: {scope: \"service\", service_name: \"checkout\"}" in text
    assert "expr: vector(20)" in text and "expr: vector(400.5)" in text
    assert '"free-users" has no alert series: scope (plan=free, user_id=*)' in text
    assert '"hourly" has no alert series: window \'hour\'' in text
    check = subprocess.run([promtool, "check", "rules", str(out)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0 and "SUCCESS: 2 rules found" in check.stdout, check.stdout + check.stderr
    # The shipped daily alert fires for the service at the limit the app enforces ($20), not before.
    series = ('gen_ai_client_cost_USD_total{service_name="checkout",deployment_environment="prod",'
              'gen_ai_provider_name="openai",gen_ai_request_model="gpt-4o",gen_ai_cost_type="input"}')
    firing = ('ALERTS{alertname="LLMDailyBudgetExceeded",alertstate="firing",scope="service",'
              'service_name="checkout",severity="critical"}')
    test = tmp_path / "test.yaml"
    test.write_text(f"""
rule_files: ["{RULES}/llm-budgets.yaml", "{RULES}/llm-cost-recording.yaml", "{RULES}/llm-cost-alerts.yaml",
             "{out}"]
group_eval_order: [llm-budgets, llm-budgets-enforced, llm-cost-recording, llm-cost-alerts]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: '{series}'
        values: '0+1x60'
    promql_expr_test:
      - expr: llm:budget_usd:daily{{scope="service"}}
        eval_time: 1m
        exp_samples:
          - labels: 'llm:budget_usd:daily{{scope="service",service_name="checkout"}}'
            value: 20
      - expr: count(ALERTS{{alertname="LLMDailyBudgetExceeded",service_name="checkout"}}) or vector(0)
        eval_time: 19m
        exp_samples:
          - value: 0
      - expr: ALERTS{{alertname="LLMDailyBudgetExceeded",service_name="checkout",alertstate="firing"}}
        eval_time: 30m
        exp_samples:
          - labels: '{firing}'
            value: 1
""")
    run = subprocess.run([promtool, "test", "rules", str(test)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


def test_rules_reports_a_bad_file(tmp_path: Path) -> None:
    budgets = tmp_path / "budgets.toml"
    budgets.write_text('[[budget]]\nname = "x"\nlimit_usd = 1\nwindow = "daily"\n')
    done = cli("budgets", "rules", str(budgets))
    assert done.returncode == 2 and f"budget file {budgets}, [[budget]] #1 ('x'), field 'window'" in done.stderr


def test_status_reads_the_shared_store(tmp_path: Path, redis_server: RedisServer) -> None:
    budgets = tmp_path / "budgets.toml"
    budgets.write_text(BUDGETS)
    store = RedisStore(redis_server.url)
    guard = Guard(load_budget_file(str(budgets)), store, service="checkout")
    now = datetime.now(timezone.utc).timestamp()
    slots = {}
    for user, amount in (("u-1", 123_000_000), ("u-2", 500_000_000)):
        _budgets, slots[user], _starts = guard.slots({"service": "checkout", "plan": "free", "user_id": user}, now)
        store.reserve(slots[user], 1000, f"r-{user}", now, 60)
        store.settle(slots[user], f"r-{user}", amount, retry=False)
    assert store.reserve(slots["u-2"], 1, "over", now, 60).refused >= 0  # u-2 has spent its $0.50
    assert store.reserve(slots["u-1"], 7_000_000, "in-flight", now, 60).refused == -1
    done = cli("budgets", "status", "--file", str(budgets), "--store", redis_server.url)
    assert done.returncode == 0, done.stderr
    rows = {tuple(line.split()[:2]): line.split() for line in done.stdout.splitlines()[2:]}
    assert rows[("free-users", "plan=free,user_id=u-1")][3:7] == ["$0.123000", "$0.007000", "$0.500000",
                                                                  "$0.370000"]
    assert rows[("free-users", "plan=free,user_id=u-2")][3:7] == ["$0.500000", "$0.000000", "$0.500000",
                                                                  "$0.000000"]
    assert rows[("checkout-daily", "service=checkout")][3] == "$0.623000"
    assert rows[("hourly", "-")][3] == "$0.623000"
    store.close()
    redis_server.stop()
    down = cli("budgets", "status", "--file", str(budgets), "--store", redis_server.url)
    assert down.returncode == 1 and "cannot be read" in down.stderr


def test_doctor_checks_the_budget_file_and_the_store(tmp_path: Path, redis_server: RedisServer) -> None:
    budgets = tmp_path / "budgets.toml"
    budgets.write_text(BUDGETS)
    env = {"PATH": "/usr/bin:/bin", "OTEL_LLM_COST_BUDGETS_FILE": str(budgets),
           "OTEL_LLM_COST_BUDGET_STORE": redis_server.url}
    out = cli("doctor", env=env).stdout
    assert "4 budget(s): checkout-daily (block $20/day)" in out
    assert f"budget store {redis_server.url}: reachable" in out
    redis_server.stop()
    out = cli("doctor", env=env).stdout
    assert f"FAIL  budget store {redis_server.url}: cannot be reached" in out
    budgets.write_text(BUDGETS + '[[budget]]\nname = "x"\nlimit_usd = "lots"\nwindow = "day"\n')
    out = cli("doctor", env=env).stdout
    assert "FAIL  budget file" in out and "#5 ('x'), field 'limit_usd'" in out
