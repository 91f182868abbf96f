"""``otel-llm-cost report --ledger`` and ``otel-llm-cost export`` on both databases, through the real command
line: groups and totals, time windows, filters on columns and attribution keys, the three formats, the report and
the export agreeing, bad input, and flat memory while exporting."""

from __future__ import annotations

import csv
import io
import json
import math
import tracemalloc
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_llm_cost.cli.command import main
from otel_llm_cost.ledger.location import parse_location
from otel_llm_cost.ledger.rows import span_row
from otel_llm_cost.ledger.schema import COLUMNS, NAMES
from otel_llm_cost.ledger.stores import open_store

NOW = datetime.now(timezone.utc)
DAY_NS = 86400 * 10**9


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def spans(calls: list[dict[str, Any]]) -> Iterator[Any]:
    provider = TracerProvider()
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("otel_llm_cost")
    now_ns = int(NOW.timestamp() * 1e9)
    for call in calls:
        start = now_ns - int(call.pop("days_ago", 0) * DAY_NS)
        span = tracer.start_span("chat", start_time=start, attributes={"gen_ai.operation.name": "chat",
                                                                       "gen_ai.provider.name": "openai", **call})
        span.end(end_time=start + 2 * 10**9)
    yield from memory.get_finished_spans()


CALLS = [
    # user, tenant, plan, cost, tokens in/out, days ago
    {"user_id": "u-1", "tenant": "acme", "plan": "pro", "gen_ai.usage.cost.amount": 0.1, "gen_ai.request.model": "a",
     "gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 10},
    {"user_id": "u-1", "tenant": "acme", "plan": "pro", "gen_ai.usage.cost.amount": 0.2, "gen_ai.request.model": "b",
     "gen_ai.usage.input_tokens": 200, "gen_ai.usage.output_tokens": 20, "days_ago": 2},
    {"user_id": "u-2", "tenant": "acme", "plan": "free", "gen_ai.usage.cost.amount": 0.7,
     "gen_ai.request.model": "a", "gen_ai.usage.input_tokens": 700, "gen_ai.usage.output_tokens": 70},
    {"user_id": "u-3", "tenant": "globex", "gen_ai.request.model": "mystery", "llm_cost.unpriced_reason":
     "unknown_model", "gen_ai.usage.input_tokens": 5, "gen_ai.usage.output_tokens": 5},
    {"user_id": "u-3", "tenant": "globex", "gen_ai.request.model": "a", "error.type": "openai.APIError",
     "days_ago": 40},
]


@pytest.fixture
def ledger(ledger_url: str) -> str:
    store = open_store(parse_location(ledger_url))
    store.write([span_row(s) for s in spans([dict(c) for c in CALLS])])
    store.close()
    return ledger_url


def table(text: str) -> dict[str, list[str]]:
    """First cell -> the other cells of each table line below the header rule."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("---")) + 1
    end = lines.index("", start)
    return {line.split()[0]: line.split()[1:] for line in lines[start:end] if not line.startswith("---")}


def test_report_by_user(ledger: str) -> None:
    code, out, _ = run("report", "--ledger", ledger, "--by", "user_id", "--since", "30d")
    assert code == 0, out
    rows = table(out)
    assert rows["u-2"] == ["1", "0", "0", "700", "0", "70", "$0.700000"]
    assert rows["u-1"] == ["2", "0", "0", "300", "0", "30", "$0.300000"]
    assert rows["u-3"] == ["1", "0", "1", "5", "0", "5", "n/a"]  # unpriced: unknown, never $0
    assert rows["TOTAL"] == ["4", "0", "1", "1,005", "0", "105", "$1.000000"]  # the 40-day-old call is outside
    assert list(rows)[:3] == ["u-2", "u-1", "u-3"]  # most expensive first
    code, out, _ = run("report", "--ledger", ledger, "--by", "user_id", "--since", "60d")
    assert table(out)["TOTAL"][:2] == ["5", "1"]


def test_report_by_several_keys_attribution_day_where_and_top(ledger: str) -> None:
    _, out, _ = run("report", "--ledger", ledger, "--by", "tenant", "--by", "plan", "--since", "30d")
    lines = {tuple(line.split()[:2]): line.split()[-1] for line in out.splitlines() if line.strip()}
    assert lines[("acme", "free")] == "$0.700000" and lines[("acme", "pro")] == "$0.300000"
    assert lines[("globex", "-")] == "n/a"
    _, out, _ = run("report", "--ledger", ledger, "--by", "day", "--since", "30d")
    assert table(out)[NOW.strftime("%Y-%m-%d")][-1] == "$0.800000"
    _, out, _ = run("report", "--ledger", ledger, "--by", "request_model", "--where", "tenant=acme",
                    "--where", "plan=pro", "--since", "30d")
    assert set(table(out)) == {"a", "b", "TOTAL"} and table(out)["TOTAL"][-1] == "$0.300000"
    _, out, _ = run("report", "--ledger", ledger, "--by", "user_id", "--since", "30d", "--top", "1")
    rows = table(out)
    assert rows["u-2"][-1] == "$0.700000" and rows["(2"][-1] == "$0.300000"  # "(2 more)": the rest summed
    assert rows["TOTAL"][-1] == "$1.000000"
    code, _, err = run("report", "--ledger", ledger, "--since", "2030-01-01")
    assert code == 1 and "holds no call since 2030-01-01" in err


def test_export_csv_agrees_with_the_report(ledger: str, tmp_path: Path) -> None:
    target = tmp_path / "calls.csv"
    code, _, err = run("export", "--ledger", ledger, "--since", "30d", "--format", "csv", "--output", str(target))
    assert code == 0 and "4 calls written" in err
    with target.open(newline="") as file:
        reader = csv.reader(file)
        header = next(reader)
        records = [dict(zip(header, r, strict=True)) for r in reader]
    assert header == list(NAMES)
    assert all(name.endswith(("_usd", "_s", "_tokens")) for c in COLUMNS if c.unit for name in [c.name]
               if c.unit != "UTC")  # every unit is in its column's name
    assert math.fsum(float(r["cost_usd"]) for r in records if r["cost_usd"]) == 1.0
    assert [r["cost_usd"] for r in records if r["user_id"] == "u-3"] == [""]  # unpriced: empty, not 0
    assert all(r["start_time"].endswith("Z") and "T" in r["start_time"] for r in records)
    assert {json.loads(r["attributes"]).get("plan") for r in records} == {"pro", "free", None}
    _, out, _ = run("export", "--ledger", ledger, "--where", "tenant=globex", "--until", "30d")
    assert len(list(csv.reader(io.StringIO(out)))) == 2  # header + the 40-day-old call


def test_export_json_and_jsonl(ledger: str) -> None:
    _, out, _ = run("export", "--ledger", ledger, "--format", "json", "--where", "plan=pro")
    doc = json.loads(out)
    assert [c["name"] for c in doc["columns"]] == list(NAMES)
    assert {c["name"]: c["unit"] for c in doc["columns"]}["cost_usd"] == "USD"
    assert [r["cost_usd"] for r in doc["rows"]] == [0.2, 0.1]  # oldest first
    assert doc["rows"][0]["attributes"] == {"plan": "pro", "tenant": "acme", "user_id": "u-1"}
    _, out, _ = run("export", "--ledger", ledger, "--format", "jsonl")
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 5 and lines[0]["error_type"] == "openai.APIError" and lines[0]["cost_usd"] is None


def test_bad_input_is_one_clear_line(ledger: str, tmp_path: Path) -> None:
    code, _, err = run("report", "--ledger", f"sqlite://{tmp_path / 'none.db'}", "--by", "user_id")
    assert code == 2 and "no ledger at" in err
    code, _, err = run("export", "--ledger", "mysql://x/y")
    assert code == 2 and "--ledger='mysql://x/y': unknown database 'mysql'" in err
    code, _, err = run("report", "--ledger", ledger, "--since", "yesterday")
    assert code == 2 and "--since 'yesterday': expected a duration" in err
    code, _, err = run("report", "--ledger", ledger, "--by", "user id")
    assert code == 2 and "--by 'user id'" in err
    code, _, err = run("export", "--ledger", ledger, "--where", "tenant")
    assert code == 2 and "expected KEY=VALUE" in err
    code, _, err = run("report")
    assert code == 2 and "give --prometheus URL or --ledger URL" in err
    code, _, err = run("report", "--ledger", "postgresql://nobody@127.0.0.1:1/none")
    assert code == 2 and "cannot open the ledger at postgresql://nobody@127.0.0.1:1/none" in err


def test_export_memory_stays_flat(ledger_url: str, tmp_path: Path) -> None:
    """40,000 rows held at once would take tens of MB; the streamed export stays within a few."""
    template = [dict(CALLS[0], days_ago=0)]
    store = open_store(parse_location(ledger_url))
    row = span_row(next(spans([dict(c) for c in template])))
    assert row is not None
    store.write([(f"{i:016x}", *row[1:]) for i in range(40_000)])
    store.close()
    run("export", "--ledger", ledger_url, "--until", "2000-01-01")  # imports done before measuring
    tracemalloc.start()
    try:
        code, _, err = run("export", "--ledger", ledger_url, "--output", str(tmp_path / "all.csv"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 0 and "40,000 calls written" in err
    assert peak < 4 * 2**20, peak
