"""Timing mechanics shared by the overhead benchmarks (benchmarks/overhead.py, benchmarks/overhead_anthropic.py).

Both run each configuration in its own child process (instrumentors patch the SDK process-wide), round-robin
over the configurations, time batches of calls per call in CPU time by default, and give every configuration
the same OpenTelemetry providers. Keeping that in one place keeps the two benchmarks measuring the same way.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

# Every child: SDK on, message content capture off, the same hash seed (dict/set layout) in every run.
CHILD_ENV = {"OTEL_SDK_DISABLED": "false", "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "false",
             "PYTHONHASHSEED": "0"}


def available(module: str | None) -> bool:
    """Whether ``module`` (a configuration's requirement; None: nothing) can be imported here."""
    if module is None:
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def installed(configs: str, requires: Mapping[str, str], hint: str = "") -> list[str]:
    """The comma-separated ``configs`` whose requirement is installed; says which are skipped and why."""
    wanted = [c for c in configs.split(",") if c]
    missing = [c for c in wanted if not available(requires.get(c))]
    if missing:
        print(f"skipping (not installed here{hint}): {missing}")
    return [c for c in wanted if c not in missing]


def drop_span_providers() -> tuple[Any, Any]:
    """A TracerProvider with a SimpleSpanProcessor into an exporter that drops spans, and a MeterProvider whose
    reader is never collected during timing (recording cost only); both also set as the global providers
    (OpenLIT and the SDKs' own spans use those)."""
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

    class DropSpans(SpanExporter):
        def export(self, spans: Sequence[Any]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(DropSpans()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    return tracer_provider, meter_provider


def clock(name: str) -> Callable[[], float]:
    """``cpu``: this process's CPU time; anything else: wall time.

    CPU time by default: the mock transports do no I/O, so the two agree on an idle machine, and CPU time does
    not count the time other processes on a busy machine take from us (wall-clock numbers swung by 30% between
    rounds on a shared 2-core CI box)."""
    return time.process_time if name == "cpu" else time.perf_counter


def per_call_us(fn: Callable[[], object], calls: int, batches: int,
                timer: Callable[[], float] = time.process_time) -> list[float]:
    """Per-call microseconds of each of ``batches`` batches of ``calls`` calls."""
    out = []
    for _ in range(batches):
        start = timer()
        for _ in range(calls):
            fn()
        out.append((timer() - start) / calls * 1e6)
    return out


def parser(description: str, configs: Sequence[str], calls_help: str, stream_help: str) -> argparse.ArgumentParser:
    """The options both benchmarks take (add your own to the result)."""
    out = argparse.ArgumentParser(description=description)
    out.add_argument("--child", help=argparse.SUPPRESS)
    out.add_argument("--configs", default=",".join(configs))
    out.add_argument("--rounds", type=int, default=3)
    out.add_argument("--batches", type=int, default=15)
    out.add_argument("--calls", type=int, default=200, help=calls_help)
    out.add_argument("--stream-calls", type=int, default=10, help=stream_help)
    out.add_argument("--json", help="also write the raw per-batch numbers here")
    return out


def run_child(script: str, config: str, args: argparse.Namespace, env: Mapping[str, str] | None = None,
              unset: Iterable[str] = ()) -> dict[str, Any]:
    """Run ``script --child config`` with the batch sizes of ``args``; its last stdout line, as JSON."""
    cmd = [sys.executable, script, "--child", config, "--calls", str(args.calls), "--stream-calls",
           str(args.stream_calls), "--batches", str(args.batches)]
    full = {**os.environ, **CHILD_ENV, **(env or {})}
    for name in unset:
        full.pop(name, None)
    done = subprocess.run(cmd, capture_output=True, text=True, env=full, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"{config} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def round_robin(configs: Sequence[str], rounds: int, kinds: Sequence[str], run: Callable[[str], dict[str, Any]],
                per_call: Callable[[list[Any]], float], label: str = "") -> dict[str, dict[str, list[Any]]]:
    """``rounds`` times every configuration in turn (so each sees the same drift in machine load); their
    per-batch results of every kind concatenated. Prints ``per_call`` of each child's batches as it goes."""
    results: dict[str, dict[str, list[Any]]] = {c: {kind: [] for kind in kinds} for c in configs}
    for round_no in range(rounds):
        for config in configs:
            got = run(config)
            for kind in kinds:
                results[config][kind] += got[kind]
            summary = ", ".join(f"{kind} {per_call(got[kind]):.1f} us" for kind in kinds)
            print(f"round {round_no + 1}/{rounds} {config}: {label}{summary}", flush=True)
    return results


def paired_added(pairs: Iterable[tuple[float, float]]) -> float:
    """Median of the paired differences (instrumented - uninstrumented) of (uninstrumented, instrumented)."""
    return statistics.median(inst - base for base, inst in pairs)
