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
measures wall time. Timing mechanics shared with benchmarks/overhead.py: benchmarks/_timing.py.

    python benchmarks/overhead_anthropic.py [--rounds 3] [--batches 15] [--calls 200] [--stream-calls 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _timing
from otel_llm_cost.demo.wire import anthropic as wire

CONFIGS = ("none", "sdk-native", "ours", "genai-anthropic")
REQUIRES = {"ours": "otel_llm_cost", "genai-anthropic": "opentelemetry.instrumentation.genai.anthropic"}
MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]
MODEL = "claude-haiku-4-5"
USAGE = {"input_tokens": 1200, "output_tokens": 300, "cache_creation_input_tokens": 2000,
         "cache_read_input_tokens": 10000,
         "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 1000},
         "service_tier": "standard"}


# -- the mock API: every body built once -----------------------------------------------------------------

def _message() -> dict[str, Any]:
    return wire.message("msg_bench", "claude-haiku-4-5-20251001",
                        [{"type": "text", "text": "Paris is the capital of France."}], USAGE)


def _sse(deltas: int) -> bytes:
    message = _message()
    events = [wire.message_start(message, {**USAGE, "output_tokens": 1}),
              *wire.content_block(0, message["content"][0], [f"w{i} " for i in range(deltas)]),
              wire.message_delta("end_turn", {"output_tokens": USAGE["output_tokens"]}), wire.MESSAGE_STOP]
    return wire.sse(events, named=True)


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

def setup(config: str) -> None:
    tracer_provider, meter_provider = _timing.drop_span_providers()
    if config == "ours":
        import otel_llm_cost

        otel_llm_cost.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    elif config == "genai-anthropic":
        from opentelemetry.instrumentation.genai.anthropic import AnthropicInstrumentor

        AnthropicInstrumentor().instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    elif config not in ("none", "sdk-native"):
        raise SystemExit(f"unknown configuration {config}")


def _per_call_us(fn: Callable[[], object], calls: int, batches: int) -> list[float]:
    """Per-call microseconds of each batch, on the clock the parent chose (``--clock``, passed as BENCH_CLOCK)."""
    return _timing.per_call_us(fn, calls, batches, _timing.clock(os.environ.get("BENCH_CLOCK", "cpu")))


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
    return _timing.run_child(__file__, config, args, {"BENCH_CLOCK": args.clock}, unset=["ANTHROPIC_OPEN_TELEMETRY"])


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
    parser = _timing.parser((__doc__ or "").split("\n", 1)[0], CONFIGS, "messages.create calls per batch",
                            "200-delta streams per batch")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.calls, args.stream_calls, args.batches)))
        return
    configs = _timing.installed(args.configs, REQUIRES)
    results = _timing.round_robin(configs, args.rounds, ("create", "stream"), lambda c: run_child(c, args),
                                  statistics.median)
    if args.json:
        Path(args.json).write_text(json.dumps(results))
    report(results, args.clock)


if __name__ == "__main__":
    main()
