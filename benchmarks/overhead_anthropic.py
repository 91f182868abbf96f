#!/usr/bin/env python3
"""Per-call overhead of the instrumentation on a mocked Anthropic messages.create and a 200-delta stream.

Configurations, each in its own child process (instrumentors patch the SDK process-wide), run round-robin in
one run on the same SDK and the same mock transport:
  none             no instrumentation (SDK + OpenTelemetry SDK providers only; the SDK's own spans off)
  sdk-native       no instrumentation, the anthropic SDK's own spans on (its default with a tracer provider)
  ours             otel_llm_cost.instrument()
  genai-anthropic  the official opentelemetry-instrumentation-genai-anthropic
Every configuration gets the same providers: a TracerProvider with a SimpleSpanProcessor into an exporter
that drops spans, and a MeterProvider whose reader is never collected during timing. Message content
capture is off. The stream goes through the ``messages.stream()`` helper and reads ``text_stream``.

Prints, per configuration, the median per-call time over all batches and rounds, the overhead added over
`none`, and ours against the official instrumentation. Not a test. Times are the process's CPU time by
default (``--clock cpu``): on a shared machine wall time mostly measures the neighbours; ``--clock wall``
measures wall time like benchmarks/overhead.py.

    python benchmarks/overhead_anthropic.py [--rounds 3] [--batches 15] [--calls 200] [--stream-calls 10]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

CONFIGS = ("none", "sdk-native", "ours", "genai-anthropic")
REQUIRES = {"ours": "otel_llm_cost", "genai-anthropic": "opentelemetry.instrumentation.genai.anthropic"}
MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]
MODEL = "claude-haiku-4-5"
USAGE = {"input_tokens": 1200, "output_tokens": 300, "cache_creation_input_tokens": 2000,
         "cache_read_input_tokens": 10000,
         "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 1000},
         "service_tier": "standard"}


def _available(config: str) -> bool:
    module = REQUIRES.get(config)
    if module is None:
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


# -- the mock API: every body built once -----------------------------------------------------------------

def _message() -> dict[str, Any]:
    return {"id": "msg_bench", "type": "message", "role": "assistant", "model": "claude-haiku-4-5-20251001",
            "content": [{"type": "text", "text": "Paris is the capital of France."}], "stop_reason": "end_turn",
            "stop_sequence": None, "usage": USAGE}


def _sse(deltas: int) -> bytes:
    start_usage = {**USAGE, "output_tokens": 1}
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": {**_message(), "content": [], "stop_reason": None,
                                              "usage": start_usage}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}]
    events += [{"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": f"w{i} "}}
               for i in range(deltas)]
    events += [{"type": "content_block_stop", "index": 0},
               {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": USAGE["output_tokens"]}},
               {"type": "message_stop"}]
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()


def client(native_spans: bool, deltas: int = 200) -> Any:
    import httpx2

    import anthropic

    body, stream = json.dumps(_message()).encode(), _sse(deltas)

    def handle(request: httpx2.Request) -> httpx2.Response:
        if b'"stream":true' in request.content or b'"stream": true' in request.content:
            return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=stream)
        return httpx2.Response(200, headers={"content-type": "application/json"}, content=body)

    return anthropic.Anthropic(api_key="sk-ant-bench", max_retries=0, open_telemetry=None if native_spans else False,
                               http_client=httpx2.Client(transport=httpx2.MockTransport(handle)))


# -- child: one configuration ---------------------------------------------------------------------------

def _providers() -> tuple[Any, Any]:
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
    trace.set_tracer_provider(tracer_provider)  # the SDK's own spans use the global provider
    metrics.set_meter_provider(meter_provider)
    return tracer_provider, meter_provider


def setup(config: str) -> None:
    tracer_provider, meter_provider = _providers()
    if config == "ours":
        import otel_llm_cost

        otel_llm_cost.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    elif config == "genai-anthropic":
        from opentelemetry.instrumentation.genai.anthropic import AnthropicInstrumentor

        AnthropicInstrumentor().instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    elif config not in ("none", "sdk-native"):
        raise SystemExit(f"unknown configuration {config}")


def _per_call_us(fn: Callable[[], object], calls: int, batches: int) -> list[float]:
    import time

    clock = time.process_time if os.environ.get("BENCH_CLOCK", "cpu") == "cpu" else time.perf_counter
    out = []
    for _ in range(batches):
        start = clock()
        for _ in range(calls):
            fn()
        out.append((clock() - start) / calls * 1e6)
    return out


def child(config: str, calls: int, stream_calls: int, batches: int) -> dict[str, Any]:
    import warnings

    warnings.simplefilter("ignore", DeprecationWarning)
    setup(config)
    messages = client(native_spans=config == "sdk-native").messages

    def create() -> object:
        return messages.create(model=MODEL, max_tokens=400, messages=MESSAGES)

    def stream() -> int:
        with messages.stream(model=MODEL, max_tokens=400, messages=MESSAGES) as s:
            return sum(1 for _ in s.text_stream)

    got = stream()
    assert got == 200, f"{config}: the caller saw {got} text deltas, not 200"
    _per_call_us(create, calls, 2)  # warm up: imports, caches, first-sight pricing
    _per_call_us(stream, stream_calls, 1)
    return {"config": config, "create": _per_call_us(create, calls, batches),
            "stream": _per_call_us(stream, stream_calls, batches)}


# -- parent: round-robin over configurations -----------------------------------------------------------

def run_child(config: str, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", config, "--calls", str(args.calls), "--stream-calls",
           str(args.stream_calls), "--batches", str(args.batches)]
    env = {**os.environ, "OTEL_SDK_DISABLED": "false", "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "false",
           "PYTHONHASHSEED": "0", "BENCH_CLOCK": args.clock}
    env.pop("ANTHROPIC_OPEN_TELEMETRY", None)
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"{config} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def report(results: dict[str, dict[str, list[float]]], clock: str) -> None:
    import anthropic

    print(f"anthropic {anthropic.__version__}, Python {sys.version.split()[0]}; per-call medians in microseconds"
          f" of {'CPU' if clock == 'cpu' else 'wall'} time")
    for kind, label in (("create", "messages.create"), ("stream", "messages.stream(), 200 text deltas")):
        medians = {c: statistics.median(r[kind]) for c, r in results.items()}
        base = medians.get("none")
        print(f"\n{label}:")
        print(f"  {'configuration':<16}{'median us':>11}{'added us':>11}{'added %':>9}")
        for config, median in medians.items():
            added = median - base if base is not None else float("nan")
            pct = 100 * added / base if base else float("nan")
            print(f"  {config:<16}{median:>11.1f}{added:>11.1f}{pct:>8.1f}%")
        if base is None or "ours" not in medians:
            continue
        ours = medians["ours"] - base
        for peer in ("genai-anthropic", "sdk-native"):
            if peer in medians and medians[peer] - base > 0:
                print(f"  ours / {peer} added overhead: {ours / (medians[peer] - base):.2f}")
        print(f"  ours added / uninstrumented call: {100 * ours / base:.1f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=15)
    parser.add_argument("--calls", type=int, default=200, help="messages.create calls per batch")
    parser.add_argument("--stream-calls", type=int, default=10, help="200-delta streams per batch")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    parser.add_argument("--json", help="also write the raw per-batch numbers here")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.calls, args.stream_calls, args.batches)))
        return
    configs = [c for c in args.configs.split(",") if c]
    missing = [c for c in configs if not _available(c)]
    if missing:
        print(f"skipping (not installed here): {missing}")
    configs = [c for c in configs if c not in missing]
    results: dict[str, dict[str, list[float]]] = {c: {"create": [], "stream": []} for c in configs}
    for round_no in range(args.rounds):
        for config in configs:
            got = run_child(config, args)
            results[config]["create"] += got["create"]
            results[config]["stream"] += got["stream"]
            print(f"round {round_no + 1}/{args.rounds} {config}: create {statistics.median(got['create']):.1f} us, "
                  f"stream {statistics.median(got['stream']):.1f} us", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results))
    report(results, args.clock)


if __name__ == "__main__":
    main()
