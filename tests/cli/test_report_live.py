"""``otel-llm-cost report`` and ``doctor --prometheus`` against a real Prometheus (tests/e2e/stack.py).

1. Prometheus scrapes the demo's ``--prometheus-port``: the scrape endpoint equals the demo's table, and the
   report over the stored data equals it too.
2. The full pipeline: demo ``--otlp`` -> our collector -> remote write -> Prometheus with the repo's rules.
3. Misconfigurations: Prometheus unreachable, Prometheus without our data, a bad ``--since``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from cli.demo_harness import DemoProcess, Printed, assert_rows_match, exported_by_row, parse_printed, scrape
from e2e.stack import RULES_DIR, free_port, start_stack

BIN = Path(sys.executable).with_name("otel-llm-cost")
REPORT_ROW = re.compile(r"^(\S+)\s{2,}(\S+)\s{2,}(\S+)\s{2,}(\S+)\s{2,}([\d,]+)\s{2,}([\d,]+)\s{2,}([\d,]+)\s{2,}"
                        r"([\d,]+)\s{2,}(\$[\d,.]+|n/a)\s{2,}\$([\d,.]+)\s{2,}([\d,]+)$")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=120)


def report_rows(text: str) -> dict[tuple[str, str, str], dict[str, float]]:
    """(provider, model, feature) -> amounts, from the report table (all services added up)."""
    rows: dict[tuple[str, str, str], dict[str, float]] = {}
    for line in text.splitlines():
        match = REPORT_ROW.match(line.strip())
        if match and match.group(1) != "TOTAL":
            g = match.groups()
            row = rows.setdefault((g[1], g[2], g[3]), {"calls": 0, "cost": 0.0, "unpriced": 0, "saved": 0.0})
            row["calls"] += int(g[4].replace(",", ""))
            row["cost"] += 0.0 if g[8] == "n/a" else float(g[8].strip("$").replace(",", ""))
            row["saved"] += float(g[9].replace(",", ""))
            row["unpriced"] += int(g[10].replace(",", ""))
    return rows


def assert_report_equals(report: str, printed: Printed) -> None:
    rows = report_rows(report)
    assert set(rows) == set(printed.rows), (sorted(rows), sorted(printed.rows))
    for key, row in printed.rows.items():
        got = rows[key]
        assert got["calls"] == row["calls"] and got["unpriced"] == row["unpriced"], (key, got, row)
        assert abs(got["cost"] - row["cost"]) < 1.5e-6 and abs(got["saved"] - row["saved"]) < 1.5e-6, (key, got, row)
    total = re.search(r"^total cost \$([\d,.]+) over ([\d,]+) calls", report, re.M)
    assert total, report
    assert abs(float(total.group(1).replace(",", "")) - printed.total_cost) < 1.5e-6
    assert int(total.group(2).replace(",", "")) == printed.calls


def test_report_from_prometheus_scraping_the_demo(tmp_path: Path) -> None:
    port = free_port()
    with start_stack(tmp_path, with_alertmanager=False, with_collector=False, rule_files=[],
                     scrape_targets=[f"127.0.0.1:{port}"]) as stack:
        demo = DemoProcess(BIN, ["--duration", "4", "--rate", "8", "--prometheus-port", str(port), "--linger", "90"],
                           os.environ)
        try:
            printed = parse_printed(demo.wait_for("still serving", timeout=90))
            assert printed.calls >= 20 and printed.unpriced >= 1 and printed.total_cost > 0
            # the scrape endpoint serves exactly what the table shows
            assert_rows_match(printed, exported_by_row(scrape(f"http://127.0.0.1:{port}/metrics")))
            stack.wait_for("sum(gen_ai_client_operation_duration_seconds_count)",
                           lambda r: bool(r) and float(r[0]["value"][1]) == printed.calls, timeout=30)
            live = cli("doctor", "--prometheus", stack.prometheus.url)
        finally:
            demo.stop()
        done = cli("report", "--prometheus", stack.prometheus.url, "--since", "15m")
        assert done.returncode == 0, done.stderr
        assert_report_equals(done.stdout, printed)
        assert "job:scrape" in done.stdout  # a direct scrape has no service_name label: the job stands in
        assert "recording rules llm:* not loaded" in done.stdout
        assert "gen_ai_client_* series with samples in the last 5 minutes" in live.stdout
        assert "services reporting cost: scrape" in live.stdout
        assert "the llm:* recording rules are not loaded" in live.stdout


def test_report_through_the_collector_pipeline(tmp_path: Path) -> None:
    with start_stack(tmp_path, with_alertmanager=False) as stack:
        assert stack.collector is not None
        done = subprocess.run([str(BIN), "demo", "--duration", "4", "--rate", "8", "--otlp",
                               stack.collector.otlp_http_endpoint], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        printed = parse_printed(done.stdout)
        stack.wait_for('sum(gen_ai_client_operation_duration_seconds_count{service_name="otel-llm-cost-demo"})',
                       lambda r: bool(r) and float(r[0]["value"][1]) == printed.calls, timeout=120)
        rules = sorted(RULES_DIR.glob("*.yaml"))
        if rules:  # the repo's recording rules are loaded: wait for month to date to be computed
            stack.wait_for('llm:cost_usd:month_to_date{scope="total"}', timeout=120)
        report = cli("report", "--prometheus", stack.prometheus.url, "--since", "15m")
        assert report.returncode == 0, report.stderr
        assert_report_equals(report.stdout, printed)
        assert "otel-llm-cost-demo" in report.stdout
        if rules:
            assert "month to date $" in report.stdout
        live = cli("doctor", "--prometheus", stack.prometheus.url)
        assert "services reporting cost: otel-llm-cost-demo" in live.stdout


def test_report_errors_are_clear(tmp_path: Path) -> None:
    dead = free_port()
    unreachable = cli("report", "--prometheus", f"http://127.0.0.1:{dead}")
    assert unreachable.returncode == 2
    assert f"cannot reach Prometheus at http://127.0.0.1:{dead}" in unreachable.stderr
    assert cli("report", "--prometheus", f"http://127.0.0.1:{dead}", "--since", "yesterday").returncode == 2
    with start_stack(tmp_path, with_alertmanager=False, with_collector=False, rule_files=[]) as stack:
        empty = cli("report", "--prometheus", stack.prometheus.url)
        assert empty.returncode == 1
        assert "holds no otel-llm-cost data" in empty.stderr and "prometheusremotewrite" in empty.stderr
        checked = cli("doctor", "--prometheus", stack.prometheus.url)
        assert checked.returncode == 1
        assert "FAIL  reachable, but it holds no otel-llm-cost series" in checked.stdout
    gone = cli("doctor", "--prometheus", f"http://127.0.0.1:{dead}")
    assert gone.returncode == 1 and "cannot reach Prometheus" in gone.stdout
