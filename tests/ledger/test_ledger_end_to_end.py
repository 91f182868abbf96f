"""The ledger as users turn it on: the ``llm_cost_ledger`` entry point under the real ``opentelemetry-instrument``
(no code change), and ``otel-llm-cost demo --ledger`` whose table, ledger and CSV export agree."""

from __future__ import annotations

import csv
import io
import math
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from ledger_helpers import ledger_rows

from cli.demo_harness import parse_printed
from subprocess_app import TESTS, app_command, app_env, run_to_exit

BIN = Path(sys.executable).with_name("otel-llm-cost")
APP = TESTS / "openai" / "app_under_otel.py"


def test_opentelemetry_instrument_with_the_entry_point(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'app.db'}"
    run_to_exit(APP, "5", env={"OTEL_TRACES_EXPORTER": "console,llm_cost_ledger", "OTEL_METRICS_EXPORTER": "none",
                               "OTEL_LOGS_EXPORTER": "none", "OTEL_SERVICE_NAME": "search-api",
                               "OTEL_LLM_COST_LEDGER_URL": url})
    rows = ledger_rows(url)
    assert len(rows) == 6  # 3 chat calls, a stream, an embedding, an unpriced model
    assert {r["service_name"] for r in rows} == {"search-api"}
    assert {(r["feature"], r["team"]) for r in rows} == {("search", "growth")}
    assert sum(r["unpriced_reason"] == "unknown_model" for r in rows) == 1
    assert all(r["cost_usd"] > 0 for r in rows if not r["unpriced_reason"])


def test_a_bad_ledger_url_leaves_the_app_running(tmp_path: Path) -> None:
    proc = subprocess.run(app_command(APP, "5"), input="", capture_output=True, text=True, timeout=60,
                          env=app_env(APP, {"OTEL_TRACES_EXPORTER": "llm_cost_ledger", "OTEL_METRICS_EXPORTER": "none",
                                            "OTEL_LOGS_EXPORTER": "none",
                                            "OTEL_LLM_COST_LEDGER_URL": "sqlite:///no/such/dir/x.db"}))
    assert proc.returncode == 0 and "READY" in proc.stdout, proc.stderr
    assert "otel-llm-cost ledger is OFF: OTEL_LLM_COST_LEDGER_URL='sqlite:///no/such/dir/x.db'" in proc.stderr


def test_demo_table_ledger_and_csv_agree(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'demo.db'}"
    done = subprocess.run([str(BIN), "demo", "--duration", "4", "--rate", "8", "--ledger", url],
                          capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    printed = parse_printed(done.stdout)
    line = re.search(r"^ledger .*: (\d+) calls \((\d+) failed, (\d+) unpriced\), total cost \$([\d.,]+);",
                     done.stdout, re.M)
    assert line, done.stdout
    assert (int(line[1]), int(line[2]), int(line[3])) == (printed.calls, printed.failed, printed.unpriced)
    assert float(line[4]) == printed.total_cost  # the same six decimals
    exported = subprocess.run([str(BIN), "export", "--ledger", url, "--format", "csv"], capture_output=True,
                              text=True, timeout=60, check=True).stdout
    records = list(csv.DictReader(io.StringIO(exported)))
    assert len(records) == printed.calls
    assert sum(bool(r["error_type"]) for r in records) == printed.failed
    assert sum(bool(r["unpriced_reason"]) for r in records) == printed.unpriced
    total = math.fsum(float(r["cost_usd"]) for r in records if r["cost_usd"])
    assert round(total, 6) == printed.total_cost
    db_total = sum(float(r["cost_usd"] or 0) for r in ledger_rows(url))
    assert abs(total - db_total) < 1e-12
    by_row: dict[tuple[str, str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in records:
        row = by_row[(r["provider"], r["request_model"], r["feature"])]
        row["calls"] += 1
        row["cost"] += float(r["cost_usd"] or 0)
        row["input"] += int(r["input_tokens"] or 0)
        row["output"] += int(r["output_tokens"] or 0)
    assert set(by_row) == set(printed.rows)
    for key, shown in printed.rows.items():  # every row of the demo's table, from the CSV
        assert by_row[key]["calls"] == shown["calls"], key
        assert round(by_row[key]["cost"], 6) == shown["cost"], key
        assert (by_row[key]["input"], by_row[key]["output"]) == (shown["input"], shown["output"]), key
    assert {r["tenant"] for r in records} <= {"acme", "globex", "initech", "umbrella", "hooli"}
    assert all(r["user_id"].startswith("user-") for r in records)
