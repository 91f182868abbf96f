#!/usr/bin/env python3
"""Memory under a long run: a million instrumented calls, 50 models, attribution values beyond the caps.

The real openai SDK against a lean mock transport, instrumented by ``otel_llm_cost.instrument()`` with
real OpenTelemetry SDK providers (spans go through a SimpleSpanProcessor into an exporter that drops them;
an in-memory metric reader is collected every 100k calls, as a periodic reader would). Every call has its
own ``user_id`` (span-only), ``feature`` takes 301 values (metric cap 100, the rest become ``_other``) and
``team`` 20; 45 priced models and 5 unknown ones (unpriced, their misses memoised); 5% of calls are streams.

Prints RSS at checkpoints and the growth after warm-up, the sizes of our bounded caches, and (with
``--tracemalloc``) the largest allocation growths between warm-up and the end. Not a test.

    python benchmarks/memory.py [--calls 1000000] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def models(book: Any, priced: int = 45, unknown: int = 5) -> list[str]:
    """`priced` model ids the bundled table prices for openai, and `unknown` it does not know."""
    from otel_llm_cost.core.usage import Usage
    from otel_llm_cost.pricing import Cost

    provider = book.table.provider("openai")
    usage = Usage(input_tokens=1500, output_tokens=300, cache_read_tokens=1024)
    found = [m.id for m in provider.models if isinstance(book.cost("openai", m.id, usage), Cost)][:priced]
    if len(found) < priced:
        raise SystemExit(f"the table prices only {len(found)} openai models")
    return found + [f"private-model-{i}" for i in range(unknown)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--warmup", type=int, default=20_000)
    parser.add_argument("--checkpoint", type=int, default=100_000)
    parser.add_argument("--tracemalloc", action="store_true", help="also diff allocations (slower)")
    args = parser.parse_args()

    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

    import otel_llm_cost
    from otel_llm_cost.core.calls import RUNTIME
    from otel_llm_cost.core.telemetry import COUNTERS

    class DropSpans(SpanExporter):
        def export(self, spans: Sequence[Any]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(DropSpans()))
    reader = InMemoryMetricReader()
    otel_llm_cost.instrument(tracer_provider=tracer_provider, meter_provider=MeterProvider(metric_readers=[reader]))
    telemetry = RUNTIME.telemetry
    assert telemetry is not None
    from _mock_openai import MockOpenAI

    client = MockOpenAI(stream_chunks=5).client()
    names = models(telemetry.book)
    create = client.chat.completions.create
    attributes = otel_llm_cost.attributes

    def call(i: int) -> None:
        with attributes(feature=f"feature-{i % 301}", team=f"team-{i % 20}", user_id=f"user-{i}"):
            model = names[i % len(names)]
            if i % 20 == 0:
                for _ in create(model=model, messages=MESSAGES, stream=True):
                    pass
            else:
                create(model=model, messages=MESSAGES)

    start = time.perf_counter()
    for i in range(args.warmup):
        call(i)
    reader.get_metrics_data()
    gc.collect()
    if args.tracemalloc:
        tracemalloc.start(1)
        before_snapshot = tracemalloc.take_snapshot()
    base = rss_mib()
    print(f"after {args.warmup} warm-up calls: RSS {base:.1f} MiB ({time.perf_counter() - start:.0f} s)", flush=True)
    points = []
    for i in range(args.warmup, args.warmup + args.calls):
        call(i)
        done = i + 1 - args.warmup
        if done % args.checkpoint == 0 or done == args.calls:
            reader.get_metrics_data()
            gc.collect()
            points.append((done, rss_mib()))
            print(f"  {done:>9} calls: RSS {points[-1][1]:.1f} MiB (+{points[-1][1] - base:.1f}), "
                  f"{(time.perf_counter() - start) / (i + 1) * 1e6:.0f} us/call", flush=True)
    end = points[-1][1]
    half = next((rss for done, rss in points if done >= args.calls // 2), end)
    print(f"\nRSS: {base:.1f} MiB after warm-up -> {end:.1f} MiB after {args.calls} more calls "
          f"(+{end - base:.1f} MiB in all; +{end - half:.1f} MiB over the second half)")
    series = {name: len(telemetry.totals.totals(name)) for name, *_ in COUNTERS}
    seen = {key: len(values) for key, values in telemetry.attribution._seen.items()}
    print(f"bounded caches: price memo {len(telemetry.book._memo)} (max {telemetry.book._memo_size}), "
          f"call shapes {len(telemetry._shapes)} (max 1024), attribution values {seen} "
          f"(cap {telemetry.attribution.max_values}), counter series {series} "
          f"(cap {type(telemetry.totals).MAX_SERIES})")
    if args.tracemalloc:
        after_snapshot = tracemalloc.take_snapshot()
        print("\nlargest allocation growth since warm-up (tracemalloc):")
        for stat in after_snapshot.compare_to(before_snapshot, "lineno")[:10]:
            print(f"  {stat}")


if __name__ == "__main__":
    main()
