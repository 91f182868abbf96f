"""InvokeModel and its stream with a peer Bedrock instrumentation, in a fresh process (peers keep wrappers across
instrument cycles): ``python peer_invoke_app.py official|openllmetry peer-first|ours-first``. Prints as JSON the
cost of every span that has one, the cost counter's sum, and whether the app read back the exact body."""

from __future__ import annotations

import json
import sys

from fake_bedrock import FakeBedrock, client, wire
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_llm_cost
from telemetry_fixtures import Otel

CLAUDE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
BODY = {"id": "msg_bdrk_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "text", "text": "Paris"}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 100, "output_tokens": 10}}
REQUEST = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
                      "messages": [{"role": "user", "content": "Capital of France?"}]})


def _peer(name: str) -> object:
    if name == "official":
        from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

        return BotocoreInstrumentor()
    from opentelemetry.instrumentation.bedrock import BedrockInstrumentor

    return BedrockInstrumentor()


def main(peer_name: str, order: str) -> None:
    spans, reader = InMemorySpanExporter(), InMemoryMetricReader()
    tracer_provider, meter_provider = TracerProvider(), MeterProvider(metric_readers=[reader])
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    peer = _peer(peer_name)
    if order == "ours-first":
        otel_llm_cost.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    peer.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)  # type: ignore[attr-defined]
    if order == "peer-first":
        otel_llm_cost.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    fake = FakeBedrock()
    fake.answer("invoke", BODY, headers=wire.token_headers(100, 10))
    fake.answer("invoke-with-response-stream", [
        wire.chunk({"type": "message_start", "message": {**BODY, "content": [], "usage": {
            "input_tokens": 100, "output_tokens": 1}}}),
        wire.chunk({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        wire.chunk({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Paris"}}),
        wire.chunk({"type": "content_block_stop", "index": 0}),
        wire.chunk({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 10}}),
        wire.chunk({"type": "message_stop", "amazon-bedrock-invocationMetrics": wire.invocation_metrics(100, 10)})])
    bedrock = client(fake)
    body_intact = json.loads(bedrock.invoke_model(modelId=CLAUDE, body=REQUEST)["body"].read()) == BODY
    events = len(list(bedrock.invoke_model_with_response_stream(modelId=CLAUDE, body=REQUEST)["body"]))
    costs = [s.attributes["gen_ai.usage.cost.amount"] for s in spans.get_finished_spans()
             if "gen_ai.usage.cost.amount" in s.attributes]
    otel = Otel(spans, reader, tracer_provider, meter_provider)
    print(json.dumps({"costs": costs, "counter": otel.metric_sum("gen_ai.client.cost"), "body_intact": body_intact,
                      "events": events}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
