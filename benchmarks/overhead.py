#!/usr/bin/env python3
"""Per-call overhead of the instrumentation on a mocked OpenAI chat completion and a 200-chunk stream.

Configurations, each in its own child process (instrumentors patch the SDK process-wide and not all of them
unpatch), run round-robin in one run on the same SDK and the same mock transport:
  ours          otel_llm_cost.instrument()
  genai-openai  the official opentelemetry-instrumentation-genai-openai
  openllmetry   Traceloop's opentelemetry-instrumentation-openai
  openlit       openlit.init() with only its openai instrumentor, a local pricing file (no network)
  otel-floor    reference, not a product: a bare wrapt wrapper doing only the OpenTelemetry SDK work our
                contract needs for one chat call (a CLIENT span with the same attributes, made current, and
                the four histogram records), with no SDK response reading, pricing or counters. It shows how
                much of any instrumentation's overhead is the OpenTelemetry SDK itself.
Every configuration gets the same providers: a TracerProvider with a SimpleSpanProcessor into an exporter
that drops spans, and a MeterProvider whose reader is never collected during timing (recording cost only).
Message content capture is off for all (the default of every peer but OpenLIT, which is told so).

Each child alternates batches of instrumented calls with batches of uninstrumented ones (the SDK's original
``create``, found under the instrumentation's wrapt wrappers, bound to the same client), so both see the same
machine load; the added overhead is the median of the paired differences. This matters on a shared machine,
where separate processes measured minutes apart differed by 30% with no instrumentation at all.
Each child also counts what one call adds, deterministically (the same at any machine load): function calls
(cProfile; all of them, and Python functions only) and peak bytes held during the call (tracemalloc).
Each child also times the instrumentation alone, free of the SDK's noise: its wrapper and the floor's around a
stand-in returning the SDK's own result (chat), and the stream its wrapper returns over the SDK's own chunks
replayed with no HTTP and no parsing (ours and the floor), interleaved with the floor in the same process; on a
busy 2-core VM the full-call differences move by tens of percent between runs, these ratios by a few.
Prints those counts, the uninstrumented per-call CPU time, each configuration's added time, and ours against the
lightest peer and the floor. Targets (issue 20): our added calls and time per chat call within 1.15x of
otel-floor's, a 200-chunk stream at most 5% slower. Not a test.

    python benchmarks/overhead.py [--rounds 3] [--batches 15] [--calls 200] [--stream-calls 10]
    python benchmarks/overhead.py --diff ours,otel-floor   # also the added calls by function, one against another
    python benchmarks/overhead.py --base /path/to/main/src  # also main's package, as ours-base, in the same run
    python benchmarks/overhead.py --profile ours   # pyinstrument profile of one configuration
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _timing
from _timing import paired_added, per_call_us

HERE = Path(__file__).resolve().parent
CONFIGS = ("ours", "otel-floor", "genai-openai", "openllmetry", "openlit")
PEERS = ("genai-openai", "openllmetry", "openlit")
EXTRA = ()
REQUIRES = {"ours": "otel_llm_cost", "otel-floor": "wrapt",
            "genai-openai": "opentelemetry.instrumentation.genai.openai",
            "openllmetry": "opentelemetry.instrumentation.openai", "openlit": "openlit"}
MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


# -- child: one configuration ---------------------------------------------------------------------------

def _openlit_pricing(tmp: str) -> str:
    path = os.path.join(tmp, "openlit-pricing.json")
    with open(path, "w", encoding="utf-8") as out:
        json.dump({"chat": {"gpt-4o-mini": {"promptPrice": 0.00015, "completionPrice": 0.0006}},
                   "embeddings": {}, "images": {}, "audio": {}}, out)
    return path


def setup(config: str, tmp: str) -> None:
    """Instrument the process as `config` says."""
    tracer_provider, meter_provider = _timing.drop_span_providers()
    if config in ("ours", _timing.BASE):
        import otel_llm_cost

        otel_llm_cost.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    elif config == "genai-openai":
        from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor

        OpenAIInstrumentor().instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    elif config == "openllmetry":
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor as TraceloopInstrumentor

        TraceloopInstrumentor().instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    elif config == "openlit":
        import openlit
        from openlit._instrumentors import get_all_instrumentors

        others = [name for name in get_all_instrumentors() if name != "openai"]
        openlit.init(pricing_json=_openlit_pricing(tmp), disabled_instrumentors=others,
                     capture_message_content=False, disable_events=True, disable_batch=True)
    elif config == "otel-floor":
        _floor(tracer_provider, meter_provider)
    else:
        raise SystemExit(f"unknown configuration {config}")


def _floor(tracer_provider: Any, meter_provider: Any) -> None:
    """The OpenTelemetry SDK calls one instrumented chat call costs, and nothing else (see the docstring)."""
    import wrapt

    wrapper = _timing.floor_wrapper(tracer_provider, meter_provider, "openai", "api.openai.com", "gpt-4o-mini",
                                    "gpt-4o-mini-2024-07-18", 1500, 300)
    wrapt.wrap_function_wrapper("openai.resources.chat.completions", "Completions.create", wrapper)


def child(config: str, calls: int, stream_calls: int, batches: int, profile: bool) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    with tempfile.TemporaryDirectory() as tmp:
        setup(config, tmp)
        from _mock_openai import MockOpenAI

        client = MockOpenAI(stream_chunks=200).client()
        create = client.chat.completions.create
        bare = _timing.original(client.chat.completions, "create", config)

        def run(fn: Callable[..., Any], stream: bool) -> Callable[[], object]:
            if not stream:
                return lambda: fn(model="gpt-4o-mini", messages=MESSAGES)

            def consume() -> int:
                return sum(1 for _ in fn(model="gpt-4o-mini", messages=MESSAGES, stream=True))

            return consume

        chunks = run(create, True)()
        assert chunks == 200, f"{config}: the caller saw {chunks} chunks, not 200"
        assert run(bare, True)() == 200
        out: dict[str, Any] = {"config": config, "counts": {}}
        from opentelemetry import metrics, trace

        floor = _timing.floor_wrapper(trace.get_tracer_provider(), metrics.get_meter_provider(), "openai",
                                      "api.openai.com", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", 1500, 300)
        out["wrapper"] = _timing.wrapper_only(client.chat.completions, "create", config,
                                              {"model": "gpt-4o-mini", "messages": MESSAGES}, floor, n_wrapper(calls),
                                              batches)
        out["stream_wrapper"] = [] if config not in ("ours", _timing.BASE, "otel-floor") else \
            _timing.stream_wrapper_only(client.chat.completions, "create", config,
                                        {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True},
                                        {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True,
                                         "stream_options": {"include_usage": True}}, floor, stream_calls * 10,
                                        batches)
        for kind, stream, n in (("chat", False, calls), ("stream", True, stream_calls)):
            instrumented, uninstrumented = run(create, stream), run(bare, stream)
            per_call_us(instrumented, n, 1)  # warm up: imports, caches, first-sight pricing
            per_call_us(uninstrumented, n, 1)
            out["counts"][kind] = _timing.counts(instrumented, uninstrumented, 20 if stream else 50)
            if profile:
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.0002)
                profiler.start()
                per_call_us(instrumented, n, batches)
                profiler.stop()
                print(profiler.output_text(unicode=False, color=False, show_all=False), file=sys.stderr)
            out[kind] = _timing.paired_batches(instrumented, uninstrumented, n, batches)
        return out


def n_wrapper(calls: int) -> int:
    """Calls per batch of the instrumentation-alone figure: each is ~10x shorter than a full call."""
    return calls * 4


# -- parent: round-robin over configurations -----------------------------------------------------------

COUNTS: dict[str, dict[str, Any]] = {}  # configuration -> kind -> deterministic counts (the same every round)


def run_child(config: str, args: argparse.Namespace) -> dict[str, Any]:
    """One child's (uninstrumented, instrumented) per-call pairs of each kind; keeps its counts in COUNTS."""
    got = _timing.run_child(__file__, config, args, {"TRACELOOP_TRACE_CONTENT": "false"})
    COUNTS.setdefault(config, got["counts"])
    return {kind: [tuple(p) for p in got[kind]] for kind in ("chat", "stream", "wrapper", "stream_wrapper")}


def report(results: dict[str, dict[str, list[tuple[float, float]]]], diff: str | None = None) -> None:
    import openai

    print(f"openai {openai.__version__}, Python {sys.version.split()[0]}; per-call CPU time, medians in microseconds")
    for kind, label in (("chat", "chat completion"), ("stream", "200-chunk stream")):
        print(f"\n{label}:")
        _timing.print_counts(kind, {c: COUNTS[c][kind] for c in results if c in COUNTS})
        if diff:
            a, b = diff.split(",")
            print(f"  function calls per call, {a} minus {b}, by function:")
            _timing.call_diff(COUNTS[a][kind], COUNTS[b][kind])
        if not any(r[kind] for r in results.values()):
            continue
        _timing.print_times(kind, results, PEERS)
        if kind == "chat":
            _timing.print_wrapper_only({c: r["wrapper"] for c, r in results.items()}, PEERS)
        else:  # the SDK's share for the one chunk more we ask for: an average chunk of the uninstrumented stream
            base = _timing.uninstrumented_us(results, kind)
            _timing.print_stream_wrapper_only({c: r["stream_wrapper"] for c, r in results.items()}, base, base / 200)


def main() -> None:
    parser = _timing.parser(__doc__.split("\n", 1)[0], CONFIGS + EXTRA, "chat calls per batch",
                            "200-chunk streams per batch")
    parser.add_argument("--profile", help="profile this configuration with pyinstrument (stderr) and exit")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.calls, args.stream_calls, args.batches, args.profile is not None)))
        return
    if args.profile:
        print(json.dumps(child(args.profile, args.calls, args.stream_calls, args.batches, True)))
        return
    if args.base and _timing.BASE not in args.configs.split(","):
        args.configs = args.configs.replace("ours", f"ours,{_timing.BASE}", 1)
    configs = _timing.installed(args.configs, REQUIRES, "; scripts/bench.sh builds a venv with all of them")
    kinds = ("chat", "stream", "wrapper", "stream_wrapper")
    results = _timing.round_robin(configs, args.rounds, kinds, lambda c: run_child(c, args), paired_added,
                                  "added per call ")
    if args.json:
        Path(args.json).write_text(json.dumps({"times": results, "counts": COUNTS}))
    report(results, args.diff)


if __name__ == "__main__":
    main()
