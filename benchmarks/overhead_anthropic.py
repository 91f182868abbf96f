#!/usr/bin/env python3
"""Per-call overhead of the instrumentation on a mocked Anthropic messages.create and a 200-delta stream.

The same benchmark as benchmarks/overhead.py, for the anthropic SDK. Configurations, each in its own child
process (instrumentors patch the SDK process-wide), run round-robin in one run on the same SDK and the same
mock transport:
  ours             otel_llm_cost.instrument()
  otel-floor       reference, not a product: only the OpenTelemetry SDK work one call needs (_timing.floor_wrapper)
  genai-anthropic  the official opentelemetry-instrumentation-genai-anthropic
  openllmetry      Traceloop's opentelemetry-instrumentation-anthropic
  sdk-native       no instrumentation, the anthropic SDK's own spans on (its default with a tracer provider)
Every configuration gets the same providers: a TracerProvider with a SimpleSpanProcessor into an exporter
that drops spans, and a MeterProvider whose reader is never collected during timing. Message content
capture is off. The stream goes through the ``messages.stream()`` helper and reads ``text_stream``.

Each child alternates batches of instrumented calls with batches of uninstrumented ones (the SDK's own method
under the instrumentation's wrapt wrappers, bound to the same resource; for sdk-native, a client with its spans
off), so both see the same machine load; the added overhead is the median of the paired differences. As in
overhead.py, each child also times the instrumentation alone against the floor in the same process (create around
a stand-in returning the SDK's message; ``create(stream=True)``'s events replayed: the same per-event reading as
``messages.stream()``, whose events are parsed inside the manager it returns). It also
counts, deterministically, the function calls and peak bytes each configuration adds to one call. Not a test.
Times are the process's CPU time by default (``--clock wall``: wall time).

    python benchmarks/overhead_anthropic.py [--rounds 3] [--batches 15] [--calls 200] [--stream-calls 10]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _timing
from otel_llm_cost.demo.wire import anthropic as wire

CONFIGS = ("ours", "otel-floor", "genai-anthropic", "openllmetry", "sdk-native")
PEERS = ("genai-anthropic", "openllmetry")
REQUIRES = {"ours": "otel_llm_cost", "otel-floor": "wrapt",
            "genai-anthropic": "opentelemetry.instrumentation.genai.anthropic",
            "openllmetry": "opentelemetry.instrumentation.anthropic"}
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
    if config in ("ours", _timing.BASE):
        import otel_llm_cost

        otel_llm_cost.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    elif config == "genai-anthropic":
        from opentelemetry.instrumentation.genai.anthropic import AnthropicInstrumentor

        AnthropicInstrumentor().instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    elif config == "openllmetry":
        from opentelemetry.instrumentation.anthropic import AnthropicInstrumentor as TraceloopInstrumentor

        TraceloopInstrumentor().instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    elif config == "otel-floor":
        import wrapt

        wrapper = _timing.floor_wrapper(tracer_provider, meter_provider, "anthropic", "api.anthropic.com", MODEL,
                                        "claude-haiku-4-5-20251001", 13200, 300)
        for method in ("create", "stream"):
            wrapt.wrap_function_wrapper("anthropic.resources.messages.messages", f"Messages.{method}", wrapper)
    elif config != "sdk-native":
        raise SystemExit(f"unknown configuration {config}")


def child(config: str, calls: int, stream_calls: int, batches: int) -> dict[str, Any]:
    import warnings

    warnings.simplefilter("ignore", DeprecationWarning)
    setup(config)
    timer = _timing.clock(os.environ.get("BENCH_CLOCK", "cpu"))
    messages = client(native_spans=config == "sdk-native").messages
    if config == "sdk-native":  # the SDK's own spans are inside it: the same calls on a client with them off
        bare_create, bare_stream = client(native_spans=False).messages.create, client(False).messages.stream
    else:
        bare_create = _timing.original(messages, "create", config)
        bare_stream = _timing.original(messages, "stream", config)

    def create(fn: Callable[..., Any]) -> Callable[[], object]:
        return lambda: fn(model=MODEL, max_tokens=400, messages=MESSAGES)

    def stream(fn: Callable[..., Any]) -> Callable[[], int]:
        def consume() -> int:
            with fn(model=MODEL, max_tokens=400, messages=MESSAGES) as s:
                return sum(1 for _ in s.text_stream)

        return consume

    got = stream(messages.stream)()
    assert got == 200, f"{config}: the caller saw {got} text deltas, not 200"
    assert stream(bare_stream)() == 200
    out: dict[str, Any] = {"config": config, "counts": {}}
    from opentelemetry import metrics, trace

    floor = _timing.floor_wrapper(trace.get_tracer_provider(), metrics.get_meter_provider(), "anthropic",
                                  "api.anthropic.com", MODEL, "claude-haiku-4-5-20251001", 13200, 300)
    out["wrapper"] = [] if config == "sdk-native" else _timing.wrapper_only(
        messages, "create", config, {"model": MODEL, "max_tokens": 400, "messages": MESSAGES}, floor, calls * 4,
        batches, timer)
    # the same per-event reading as messages.stream() (its events pass the same proxy), on create(stream=True),
    # whose stream can be replayed: messages.stream() parses inside the manager it returns
    events = {"model": MODEL, "max_tokens": 400, "messages": MESSAGES, "stream": True}
    out["stream_wrapper"] = [] if config not in ("ours", _timing.BASE, "otel-floor") else \
        _timing.stream_wrapper_only(messages, "create", config, events, events, floor, stream_calls * 10, batches,
                                    timer)
    for kind, make, inst_fn, bare_fn, n in (("create", create, messages.create, bare_create, calls),
                                            ("stream", stream, messages.stream, bare_stream, stream_calls)):
        instrumented, uninstrumented = make(inst_fn), make(bare_fn)
        _timing.per_call_us(instrumented, n, 1, timer)  # warm up: imports, caches, first-sight pricing
        _timing.per_call_us(uninstrumented, n, 1, timer)
        out["counts"][kind] = _timing.counts(instrumented, uninstrumented, 20 if kind == "stream" else 50)
        out[kind] = _timing.paired_batches(instrumented, uninstrumented, n, batches, timer)
    return out


# -- parent: round-robin over configurations -----------------------------------------------------------

COUNTS: dict[str, dict[str, Any]] = {}  # configuration -> kind -> deterministic counts (the same every round)


def run_child(config: str, args: argparse.Namespace) -> dict[str, Any]:
    got = _timing.run_child(__file__, config, args, {"BENCH_CLOCK": args.clock}, unset=["ANTHROPIC_OPEN_TELEMETRY"])
    COUNTS.setdefault(config, got["counts"])
    return {kind: [tuple(p) for p in got[kind]] for kind in ("create", "stream", "wrapper", "stream_wrapper")}


def report(results: dict[str, dict[str, list[tuple[float, float]]]], clock: str, diff: str | None) -> None:
    import anthropic

    print(f"anthropic {anthropic.__version__}, Python {sys.version.split()[0]}; per-call medians in microseconds"
          f" of {'CPU' if clock == 'cpu' else 'wall'} time")
    for kind, label in (("create", "messages.create"), ("stream", "messages.stream(), 200 text deltas")):
        print(f"\n{label}:")
        _timing.print_counts(kind, {c: COUNTS[c][kind] for c in results if c in COUNTS})
        if diff:
            a, b = diff.split(",")
            print(f"  function calls per call, {a} minus {b}, by function:")
            _timing.call_diff(COUNTS[a][kind], COUNTS[b][kind])
        if any(r[kind] for r in results.values()):
            _timing.print_times(kind, results, PEERS)
        if kind == "create":
            _timing.print_wrapper_only({c: r["wrapper"] for c, r in results.items()}, PEERS)
        else:
            _timing.print_stream_wrapper_only({c: r["stream_wrapper"] for c, r in results.items()},
                                              _timing.uninstrumented_us(results, kind))


def main() -> None:
    parser = _timing.parser((__doc__ or "").split("\n", 1)[0], CONFIGS, "messages.create calls per batch",
                            "200-delta streams per batch")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.calls, args.stream_calls, args.batches)))
        return
    if args.base and _timing.BASE not in args.configs.split(","):
        args.configs = args.configs.replace("ours", f"ours,{_timing.BASE}", 1)
    configs = _timing.installed(args.configs, REQUIRES)
    results = _timing.round_robin(configs, args.rounds, ("create", "stream", "wrapper", "stream_wrapper"),
                                  lambda c: run_child(c, args),
                                  _timing.paired_added, "added per call ")
    if args.json:
        Path(args.json).write_text(json.dumps({"times": results, "counts": COUNTS}))
    report(results, args.clock, args.diff)


if __name__ == "__main__":
    main()
