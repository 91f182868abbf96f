"""Runs one provider case with every peer instrumentation of its SDK, in a fresh process (peers keep wrappers and
handlers across instrument cycles within one process), and prints the cost attributes of the finished spans and
the cost counter's sum as JSON: ``python peer_app.py CASE peer-first|ours-first``."""

from __future__ import annotations

import json
import sys

from cases import CASES, run_call
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_llm_cost
from telemetry_fixtures import Otel


def main(name: str, order: str) -> None:
    case = next(c for c in CASES if c.name == name)
    spans, reader = InMemorySpanExporter(), InMemoryMetricReader()
    tracer_provider, meter_provider = TracerProvider(), MeterProvider(metric_readers=[reader])
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    otel = Otel(spans, reader, tracer_provider, meter_provider)
    peers = [make() for make in case.peers]
    if order == "ours-first":
        otel_llm_cost.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    for peer in peers:
        peer.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    if order == "peer-first":
        otel_llm_cost.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    fake = case.fake()
    run_call(case, case.client(fake), False, False)
    run_call(case, case.client(fake), True, False)
    costs = [s.attributes["gen_ai.usage.cost.amount"] for s in spans.get_finished_spans()
             if "gen_ai.usage.cost.amount" in s.attributes]
    print(json.dumps({"costs": costs, "counter": otel.metric_sum("gen_ai.client.cost")}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
