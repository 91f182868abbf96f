"""Spend numbers that agree everywhere, in the real pipeline (our collector -> remote write -> Prometheus 2.42
evaluating the shipped rules): after a demo run and a short-lived job that exports once, at exit, the raw
counters, the recording rules (trailing hour and day, month to date, projection), ``otel-llm-cost report`` and
the overview dashboard's top-row queries all give the same spend, to 1e-9 relative.

``increase()`` would not: it extrapolates (the issue's $1.3843 for $1.376734 spent) and a job that exports once
has one sample, which it never counts.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import time
from calendar import monthrange
from datetime import datetime, timezone
from pathlib import Path

from stack import REPO, Stack
from test_dashboards_live import Scenario, expand

from cli.demo_harness import parse_printed

BIN = Path(sys.executable).with_name("otel-llm-cost")
APP = Path(__file__).with_name("cost_app.py")
OVERVIEW = REPO / "grafana-dashboards" / "llm-spend-overview.json"
ALL = Scenario("all", {})
DAILY_BUDGET, MONTHLY_BUDGET = 100.0, 2000.0  # prometheus/rules/llm-budgets.yaml, as shipped


def close(a: float | None, b: float) -> bool:
    return a is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def overview_value(stack: Stack, title: str, ref: str, now: float, start: float) -> float:
    """One top-row query of the overview, as Grafana runs it at ``now`` (its range: since ``start``, or since
    00:00 UTC for the panels with their own "today" range)."""
    (panel,) = [p for p in json.loads(OVERVIEW.read_text())["panels"] if p.get("title") == title]
    (target,) = [t for t in panel["targets"] if t["refId"] == ref]
    begin = start
    if panel.get("timeFrom") == "now/d":
        begin = datetime.fromtimestamp(now, timezone.utc).replace(hour=0, minute=0, second=0,
                                                                  microsecond=0).timestamp()
    range_s = math.ceil(now - begin)
    result = stack.prometheus.api("/api/v1/query", query=expand(target["expr"], ALL, range_s, now),
                                  time=f"{now:.3f}")["result"]
    assert len(result) == 1, (title, result)
    return float(result[0]["value"][1])


def report_figures(url: str) -> dict[str, float]:
    done = subprocess.run([str(BIN), "report", "--prometheus", url, "--since", "1h"], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    figures = {name: float(value.replace(",", "")) for name, value in
               re.findall(r"(trailing 24h|month to date|projected month end) \$([\d,.]+)", done.stdout)}
    total = re.search(r"^total cost \$([\d,.]+) over", done.stdout, re.M)
    assert total and len(figures) == 3, done.stdout
    figures["table"] = float(total.group(1).replace(",", ""))
    return figures


def rule(stack: Stack, expr: str) -> tuple[float, float]:
    """(value, time of the evaluation that recorded it) of a one-series rule result, read at one instant."""
    now = time.time()
    (row,) = stack.query(expr, at=now)
    (stamp,) = stack.query(f"timestamp({expr})", at=now)
    return float(row["value"][1]), float(stamp["value"][1])


def test_spend_agrees_everywhere_after_a_demo_and_a_job_that_exports_once(stack: Stack,
                                                                           tmp_path: Path) -> None:
    assert stack.collector is not None
    start = time.time() - 1
    demo = subprocess.run([str(BIN), "demo", "--duration", "6", "--rate", "8", "--otlp",
                           stack.collector.otlp_http_endpoint], capture_output=True, text=True, timeout=120,
                          check=False)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    printed = parse_printed(demo.stdout)
    # The job: one round of calls, one metric export (at exit: the periodic one would come after 10 minutes).
    ledger = tmp_path / "ledger.json"
    stack.run_instrumented_app(APP, ["--out", str(ledger), "--rounds", "1"], service_name="nightly-job",
                               OTEL_METRIC_EXPORT_INTERVAL="600000")
    job = sum(c["cost"] for c in json.loads(ledger.read_text())["calls"] if c["cost"] is not None)
    assert job > 0 and printed.total_cost > 0

    # The raw counters hold exactly what was spent (the demo's table prints six decimals).
    held = stack.wait_for("sum(gen_ai_client_cost_USD_total)", lambda r: bool(r) and math.isclose(
        float(r[0]["value"][1]), printed.total_cost + job, abs_tol=2e-6), timeout=60)
    spent = float(held[0]["value"][1])
    job_held = stack.query_value('sum(gen_ai_client_cost_USD_total{service_name="nightly-job"})')
    assert close(job_held, job)
    assert stack.query('count_over_time(gen_ai_client_cost_USD_total{service_name="nightly-job"}[1h]) > 1') == []

    # Month to date catches up at the next evaluations (1 s here); then every spend rule equals the counters.
    stack.wait_for('llm:cost_usd:month_to_date{scope="total"}',
                   lambda r: bool(r) and close(float(r[0]["value"][1]), spent), timeout=60)
    day, _ = rule(stack, "sum(llm:cost_usd:increase1d)")
    hour, _ = rule(stack, "sum(llm:cost_usd:increase1h)")
    assert close(day, spent) and close(hour, spent), (day, hour, spent)
    services = {r["metric"]["service_name"]: float(r["value"][1])
                for r in stack.query('llm:cost_usd:month_to_date{scope="service"}')}
    assert close(services["nightly-job"], job) and close(services["otel-llm-cost-demo"], spent - job), services
    projected, at = rule(stack, 'llm:cost_usd:projected_month_end{scope="total"}')
    moment = datetime.fromtimestamp(at, timezone.utc)
    month_end = datetime(moment.year, moment.month, 1, tzinfo=timezone.utc).timestamp() + \
        monthrange(moment.year, moment.month)[1] * 86400
    assert close(projected, spent + spent / 86400 * (month_end - at)), (projected, spent, at)

    # report: its own table (the counters over the window) and the rules' figures, printed to 1e-4 / 1e-6.
    figures = report_figures(stack.prometheus.url)
    assert abs(figures["table"] - spent) < 1e-6 and abs(figures["trailing 24h"] - spent) < 1e-4
    assert abs(figures["month to date"] - spent) < 1e-4 and abs(figures["projected month end"] - projected) < 1e-3

    # The overview's top rows, as Grafana queries them.
    now = time.time()
    if datetime.fromtimestamp(start, timezone.utc).date() == datetime.fromtimestamp(now, timezone.utc).date():
        assert close(overview_value(stack, "Spend today", "A", now, start), spent)
    assert close(overview_value(stack, "Month to date", "A", now, start), spent)
    assert close(overview_value(stack, "Projected month-end vs budget", "B", now, start), MONTHLY_BUDGET)
    projected_panel = overview_value(stack, "Projected month-end vs budget", "A", now, start)
    assert math.isclose(projected_panel, projected, rel_tol=1e-6)  # evaluated some seconds later: less time left
    assert close(overview_value(stack, "Monthly budget used", "A", now, start), 100 * spent / MONTHLY_BUDGET)
    assert close(overview_value(stack, "Daily budget used", "A", now, start), 100 * spent / DAILY_BUDGET)


def test_increase_would_not_agree(stack: Stack) -> None:
    """The failure the exact rules replace, shown on the same kind of data: a job's one export is invisible to
    increase(), whatever the window."""
    assert stack.collector is not None
    stack.run_instrumented_app(APP, ["--out", "/dev/null", "--rounds", "1"], service_name="once",
                               OTEL_METRIC_EXPORT_INTERVAL="600000")
    stack.wait_for('sum(gen_ai_client_cost_USD_total{service_name="once"}) > 0', timeout=60)
    assert stack.query('sum(increase(gen_ai_client_cost_USD_total{service_name="once"}[1h]))') == []
    exact = stack.wait_for('sum(llm:cost_usd:increase1h{service_name="once"}) > 0', timeout=60)
    assert close(float(exact[0]["value"][1]),
                 stack.query_value('sum(gen_ai_client_cost_USD_total{service_name="once"})') or 0.0)
