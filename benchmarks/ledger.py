#!/usr/bin/env python3
"""Ledger throughput: rows per second written (SQLite, Postgres), ``report --ledger --by user_id`` over a million
rows, and ``export --format csv`` of a million rows (time and peak memory of the command's process).

Writes go the way they go in an app: finished SDK spans -> ``LedgerSpanExporter.export`` (span -> row, buffer)
-> the background writer's batched transactions, timed until ``force_flush`` returns. The million-row ledger
is then filled in 10k-row batches through the same store, with 10,000 users in 50 tenants over 30 days.
The report and the export run as the real ``otel-llm-cost`` command in a child process (its RSS high-water mark,
``VmHWM``). Postgres is a throwaway cluster (tests/ledger/postgres_server.py) unless ``--postgres-url``.
Not a test.

    python benchmarks/ledger.py [--rows 1000000] [--write-rows 100000] [--no-postgres] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "ledger"))

CHILD = """
import io, sys, time
from contextlib import redirect_stdout, redirect_stderr
from otel_llm_cost.cli.command import main
argv = sys.argv[1:]
start = time.perf_counter()
with redirect_stdout(io.StringIO()) as out, redirect_stderr(io.StringIO()) as err:
    code = main(argv)
elapsed = time.perf_counter() - start
# VmHWM, not getrusage's ru_maxrss: Linux carries the forking parent's peak over into the child's ru_maxrss
peak_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(code, elapsed, peak_kib, repr(err.getvalue()[-300:]))
print(out.getvalue()[-1500:], file=sys.stderr)
"""


def spans(count: int, users: int = 10_000, tenants: int = 50, days: int = 30) -> list[Any]:
    """``count`` finished GenAI call spans as our instrumentation makes them, over the last ``days``."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = TracerProvider()
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("otel_llm_cost")
    rng = random.Random(1)
    now = time.time_ns()
    for _ in range(count):
        user = rng.randrange(users)
        start = now - rng.randrange(days * 86400) * 10**9
        inp, out = rng.randrange(50, 5000), rng.randrange(10, 800)
        tracer.start_span("chat gpt-4o-mini", start_time=start, attributes={
            "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.response.model": "gpt-4o-mini-2024-07-18", "gen_ai.response.id": f"chatcmpl-{rng.getrandbits(64)}",
            "server.address": "api.openai.com", "gen_ai.usage.input_tokens": inp, "gen_ai.usage.output_tokens": out,
            "gen_ai.usage.cache_read.input_tokens": 0, "gen_ai.usage.cost.amount": (inp * 0.15 + out * 0.6) / 1e6,
            "gen_ai.usage.cost.currency": "USD", "gen_ai.usage.cost.source": "local",
            "llm_cost.input": inp * 0.15 / 1e6, "llm_cost.output": out * 0.6 / 1e6, "llm_cost.cache_read": 0.0,
            "llm_cost.cache_write": 0.0, "llm_cost.price_table": "genai-prices 0.2.3",
            "user_id": f"user-{user}", "tenant": f"tenant-{user % tenants}", "feature": rng.choice(
                ("chat", "search", "summary", "agent")), "team": "growth"}).end(end_time=start + 800_000_000)
    return list(memory.get_finished_spans())


def write_rate(url: str, batch: list[Any]) -> float:
    """Rows per second through the exporter and its writer, until flushed."""
    from otel_llm_cost.ledger.exporter import LedgerSpanExporter

    exporter = LedgerSpanExporter(url=url, buffer_rows=len(batch) + 1)
    exporter.export(batch[:10])  # connect and create the table before timing
    exporter.force_flush(60_000)
    start = time.perf_counter()
    for i in range(0, len(batch), 512):  # the batch span processor's default batch size
        exporter.export(batch[i:i + 512])
    assert exporter.force_flush(600_000)
    elapsed = time.perf_counter() - start
    exporter.shutdown()
    return (len(batch) - 10) / elapsed


def fill(url: str, template: list[Any], rows: int, days: int = 30) -> float:
    """Fill the ledger with ``rows`` more rows: random span ids, the template's users and tenants, times in
    order over the last ``days`` (as calls arrive)."""
    from datetime import datetime, timedelta, timezone

    from otel_llm_cost.ledger.location import parse_location
    from otel_llm_cost.ledger.rows import span_row
    from otel_llm_cost.ledger.stores import open_store

    base = [span_row(s) for s in template]
    first = datetime.now(timezone.utc) - timedelta(days=days)
    step = timedelta(days=days) / rows
    rng = random.Random(2)
    store = open_store(parse_location(url))
    start = time.perf_counter()
    written = 0
    while written < rows:
        chunk = []
        for i in range(written, min(rows, written + 10_000)):
            row = base[i % len(base)]
            chunk.append((f"{rng.getrandbits(64):016x}", row[1], first + step * i, *row[3:]))
        store.write(chunk)
        written += len(chunk)
    store.close()
    return rows / (time.perf_counter() - start)


def command(*argv: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", CHILD, *argv], capture_output=True, text=True, timeout=3600)
    code, elapsed, rss_kib, err = done.stdout.split(" ", 3)
    return {"exit": int(code), "seconds": round(float(elapsed), 2), "peak_rss_mib": round(int(rss_kib) / 1024, 1),
            "stderr": err.strip(), "output_tail": done.stderr[-600:]}


def bench(name: str, url: str, template: list[Any], write_batch: list[Any], rows: int, out_dir: Path) -> None:
    print(f"== {name}", flush=True)
    print(f"write through the exporter: {write_rate(url, write_batch):,.0f} rows/s ({len(write_batch):,} rows)",
          flush=True)
    print(f"bulk fill: {fill(url, template, rows):,.0f} rows/s", flush=True)
    empty = command("export", "--ledger", url, "--until", "2000-01-01", "--output", str(out_dir / "empty.csv"))
    report = command("report", "--ledger", url, "--by", "user_id", "--since", "30d", "--top", "10")
    print(f"report --by user_id over {rows:,}+ rows: {report['seconds']} s, peak RSS {report['peak_rss_mib']} MiB",
          flush=True)
    print(report["output_tail"])
    tenant = command("report", "--ledger", url, "--by", "tenant", "--by", "day", "--since", "7d", "--top", "5")
    print(f"report --by tenant --by day (7d): {tenant['seconds']} s", flush=True)
    export = command("export", "--ledger", url, "--format", "csv", "--output", str(out_dir / f"{name}.csv"))
    size = (out_dir / f"{name}.csv").stat().st_size / 2**20
    print(f"export csv: {export['seconds']} s, {size:,.0f} MiB written, peak RSS {export['peak_rss_mib']} MiB "
          f"(the same command exporting 0 rows: {empty['peak_rss_mib']} MiB) {export['stderr']}", flush=True)
    print(json.dumps({"db": name, "report_s": report["seconds"], "export_s": export["seconds"],
                      "export_peak_rss_mib": export["peak_rss_mib"], "empty_export_rss_mib": empty["peak_rss_mib"]}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--write-rows", type=int, default=100_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--postgres-url", default=None)
    args = parser.parse_args()
    print(f"building {args.write_rows:,} spans ...", flush=True)
    write_batch = spans(args.write_rows)
    template = write_batch[:50_000]
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        out_dir = Path(tmp)
        bench("sqlite", f"sqlite://{out_dir / 'ledger.db'}", template, write_batch, args.rows, out_dir)
        if not args.no_postgres:
            server = None
            url = args.postgres_url
            if url is None:
                from postgres_server import PostgresServer, require_bindir

                server = PostgresServer(require_bindir())
                url = server.url
            try:
                bench("postgres", url, template, write_batch, args.rows, out_dir)
            finally:
                if server is not None:
                    server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
