"""Every cohere surface with OpenLLMetry's cohere instrumentation active, in a fresh process (peers keep their
wrappers across instrument cycles): prints (span name, scope, cost) of every finished span as JSON.
``python cohere_peer_app.py peer-first|ours-first``."""

from __future__ import annotations

import json
import sys

import fake_cohere as fake
from cases import CASES
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_llm_cost
from conversation import MESSAGES


def main(order: str) -> None:
    spans, reader = InMemorySpanExporter(), InMemoryMetricReader()
    tracer_provider, meter_provider = TracerProvider(), MeterProvider(metric_readers=[reader])
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    settings = {"tracer_provider": tracer_provider, "meter_provider": meter_provider}
    if order == "ours-first":
        otel_llm_cost.instrument(**settings)
    for peer in next(case for case in CASES if case.name == "cohere").peers:
        peer().instrument(**settings)
    if order == "peer-first":
        otel_llm_cost.instrument(**settings)
    f = fake.FakeCohere()
    v2, v1 = f.client(), f.v1_client()
    v2.chat(model=fake.CHAT_MODEL, messages=MESSAGES)
    list(v2.chat_stream(model=fake.CHAT_MODEL, messages=MESSAGES))
    v2.embed(model=fake.EMBED_MODEL, texts=["Paris"], input_type="search_document", embedding_types=["float"])
    v2.rerank(model=fake.RERANK_MODEL, query="capital of France", documents=["Paris", "Berlin"])
    v1.chat(model=fake.V1_MODEL, message="Capital of France?")
    list(v1.chat_stream(model=fake.V1_MODEL, message="Capital of France?"))
    v1.embed(model=fake.EMBED_MODEL, texts=["Paris"] * 100, input_type="search_document")
    v1.rerank(model=fake.RERANK_MODEL, query="capital of France", documents=["Paris", "Berlin"])
    print(json.dumps([(s.name, s.instrumentation_scope.name, s.attributes.get("gen_ai.usage.cost.amount"))
                      for s in spans.get_finished_spans()]))


if __name__ == "__main__":
    main(sys.argv[1])
