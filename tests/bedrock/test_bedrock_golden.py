"""Golden costs for Bedrock calls made with real boto3, computed by hand from AWS's public per-1M-token prices.

Each case answers from the local fake Bedrock with the usage the service reports, and checks the span's cost
against the hand computation in its comment. A first test holds the bundled table to the same public prices.
"""

from __future__ import annotations

import json

import pytest
from fake_bedrock import MESSAGES, FakeBedrock, botocore_knows, client, wire

from otel_llm_cost.pricing import load_price_book
from telemetry_fixtures import Otel

CLAUDE_US = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
# AWS Bedrock public prices, USD per 1M tokens (on-demand; us./eu. cross-region profiles of Claude 4.5 are +10%
# over global)
PUBLIC = {
    CLAUDE_US: {"input_mtok": 3.3, "output_mtok": 16.5, "cache_write_mtok": 4.125, "cache_read_mtok": 0.33},
    "amazon.nova-pro-v1:0": {"input_mtok": 0.8, "output_mtok": 3.2},
    "meta.llama3-1-70b-instruct-v1:0": {"input_mtok": 0.72, "output_mtok": 0.72},
    "amazon.titan-embed-text-v2:0": {"input_mtok": 0.02},
}


@pytest.mark.parametrize("model", sorted(PUBLIC))
def test_bundled_table_agrees_with_public_prices(model: str) -> None:
    found = load_price_book([]).price_row("aws.bedrock", model)
    assert not hasattr(found, "reason"), found
    _, row = found  # type: ignore[misc]
    for key, price in PUBLIC[model].items():
        assert row.unit_price(key) == pytest.approx(price), key


def _cost(otel: Otel) -> float:
    (span,) = otel.finished()
    return span.attributes["gen_ai.usage.cost.amount"]


@pytest.mark.skipif(not botocore_knows("Converse", "TokenUsage", "cacheReadInputTokens"),
                    reason="this botocore parses Converse without cache counts (and cannot send cache points)")
def test_claude_converse_with_cache_write_and_read_via_us_profile(otel: Otel, fake: FakeBedrock) -> None:
    fake.answer("converse", wire.converse_body("ok", {"inputTokens": 1200, "outputTokens": 500,
                                                      "cacheReadInputTokens": 3000, "cacheWriteInputTokens": 2000}))
    client(fake).converse(modelId=CLAUDE_US, messages=MESSAGES)
    # 1200 x 3.3 + 3000 x 0.33 + 2000 x 4.125 + 500 x 16.5 = 3960 + 990 + 8250 + 8250 = 21450 / 1M
    assert _cost(otel) == pytest.approx(0.02145)
    (span,) = otel.finished()
    assert span.attributes["gen_ai.usage.input_tokens"] == 6200  # Bedrock's inputTokens exclude the cache


def test_claude_invoke_model_stream_with_cache_via_us_profile(otel: Otel, fake: FakeBedrock) -> None:
    start = {"type": "message_start", "message": {"id": "msg_bdrk_01", "model": "claude-sonnet-4-5-20250929",
             "usage": {"input_tokens": 1200, "cache_read_input_tokens": 3000, "cache_creation_input_tokens": 2000,
                       "output_tokens": 1}}}
    fake.answer("invoke-with-response-stream", [
        wire.chunk(start),
        wire.chunk({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "ok"}}),
        wire.chunk({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 500}}),
        wire.chunk({"type": "message_stop", "amazon-bedrock-invocationMetrics": wire.invocation_metrics(
            1200, 500, cache_read=3000, cache_write=2000)})])
    response = client(fake).invoke_model_with_response_stream(modelId=CLAUDE_US, body=json.dumps({"messages": []}))
    assert len(list(response["body"])) == 4
    assert _cost(otel) == pytest.approx(0.02145)  # the same call as above, streamed


def test_nova_converse(otel: Otel, fake: FakeBedrock) -> None:
    fake.answer("converse", wire.converse_body("ok", {"inputTokens": 1000, "outputTokens": 200}))
    client(fake).converse(modelId="amazon.nova-pro-v1:0", messages=MESSAGES)
    # 1000 x 0.8 + 200 x 3.2 = 800 + 640 = 1440 / 1M
    assert _cost(otel) == pytest.approx(0.00144)


def test_llama_invoke_model(otel: Otel, fake: FakeBedrock) -> None:
    fake.answer("invoke", {"generation": "Nile, Amazon, Yangtze.", "prompt_token_count": 800,
                           "generation_token_count": 300, "stop_reason": "stop"},
                headers=wire.token_headers(800, 300))
    client(fake).invoke_model(modelId="meta.llama3-1-70b-instruct-v1:0", body=json.dumps({"prompt": "hi"}))
    # (800 + 300) x 0.72 = 792 / 1M
    assert _cost(otel) == pytest.approx(0.000792)


def test_titan_embeddings(otel: Otel, fake: FakeBedrock) -> None:
    fake.answer("invoke", {"embedding": [0.1] * 8, "embeddingsByType": {"float": [0.1] * 8},
                           "inputTextTokenCount": 5000}, headers=wire.token_headers(5000, 0))
    client(fake).invoke_model(modelId="amazon.titan-embed-text-v2:0", body=json.dumps({"inputText": "x"}))
    # 5000 x 0.02 = 100 / 1M
    assert _cost(otel) == pytest.approx(0.0001)
    (span,) = otel.finished()
    assert span.attributes["gen_ai.operation.name"] == "embeddings"


@pytest.mark.parametrize(("arn", "price"), [
    ("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0", 0.00144),
    # 1000 x 3.3 + 200 x 16.5 = 3300 + 3300 = 6600 / 1M
    ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/" + CLAUDE_US, 0.0066)])
def test_arn_converse_stream(otel: Otel, fake: FakeBedrock, arn: str, price: float) -> None:
    fake.answer("converse-stream", wire.converse_stream("Nile Amazon", {"inputTokens": 1000, "outputTokens": 200}))
    response = client(fake).converse_stream(modelId=arn, messages=MESSAGES)
    assert [next(iter(e)) for e in response["stream"]][-1] == "metadata"
    assert _cost(otel) == pytest.approx(price)
    (span,) = otel.finished()
    assert span.attributes["gen_ai.request.model"] == arn


# --- service tiers (bundled table: pricing/data/corrections.toml, AWS's Bedrock pricing page) -----------------

@pytest.mark.skipif(not botocore_knows("Converse", "ServiceTier", "type"), reason="this botocore has no serviceTier")
def test_nova_pro_converse_priority_tier(otel: Otel, fake: FakeBedrock) -> None:
    fake.answer("converse", wire.converse_body("ok", {"inputTokens": 1000, "outputTokens": 200},
                                               serviceTier={"type": "priority"}))
    client(fake).converse(modelId="us.amazon.nova-pro-v1:0", messages=MESSAGES, serviceTier={"type": "priority"})
    # Nova Pro priority = standard $0.80 / $3.20 + 75% = $1.40 / $5.60 per 1M:
    # 1000 x 1.4 + 200 x 5.6 = 1400 + 1120 = 2520 / 1M
    assert _cost(otel) == pytest.approx(0.00252)
    (span,) = otel.finished()
    assert span.attributes["llm_cost.service_tier"] == "priority"


@pytest.mark.skipif(not botocore_knows("InvokeModel", "ServiceTier", "type")
                    and not botocore_knows("InvokeModel", "InvokeModelRequest", "serviceTier"),
                    reason="this botocore has no serviceTier")
def test_gpt_oss_invoke_model_flex_tier(otel: Otel, fake: FakeBedrock) -> None:
    fake.answer("invoke", {"id": "chatcmpl-1", "object": "chat.completion", "model": "openai.gpt-oss-120b-1:0",
                           "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                                        "finish_reason": "stop"}],
                           "usage": {"prompt_tokens": 2000, "completion_tokens": 1000, "total_tokens": 3000}},
                headers={**wire.token_headers(2000, 1000), "X-Amzn-Bedrock-Service-Tier": "flex"})
    client(fake).invoke_model(modelId="openai.gpt-oss-120b-1:0", serviceTier="flex",
                              body=json.dumps({"messages": [{"role": "user", "content": "hi"}]}))
    # gpt-oss-120b flex = standard $0.15 / $0.60 - 50% = $0.075 / $0.30 per 1M:
    # 2000 x 0.075 + 1000 x 0.30 = 150 + 300 = 450 / 1M
    assert _cost(otel) == pytest.approx(0.00045)


@pytest.mark.skipif(not botocore_knows("Converse", "PerformanceConfiguration", "latency"),
                    reason="this botocore has no performanceConfig")
def test_claude_haiku_converse_latency_optimized(otel: Otel, fake: FakeBedrock) -> None:
    fake.answer("converse", wire.converse_body("ok", {"inputTokens": 1000, "outputTokens": 500},
                                               performanceConfig={"latency": "optimized"}))
    client(fake).converse(modelId="us.anthropic.claude-3-5-haiku-20241022-v1:0", messages=MESSAGES,
                          performanceConfig={"latency": "optimized"})
    # Claude 3.5 Haiku latency-optimized $1.00 / $5.00 per 1M (standard $0.80 / $4.00):
    # 1000 x 1 + 500 x 5 = 1000 + 2500 = 3500 / 1M
    assert _cost(otel) == pytest.approx(0.0035)
    (span,) = otel.finished()
    assert span.attributes["llm_cost.service_tier"] == "latency_optimized"


@pytest.mark.skipif(not botocore_knows("InvokeModel", "InvokeModelRequest", "performanceConfigLatency"),
                    reason="this botocore has no performanceConfigLatency")
def test_llama_405b_invoke_model_latency_optimized(otel: Otel, fake: FakeBedrock) -> None:
    fake.answer("invoke", {"generation": "ok", "prompt_token_count": 1000, "generation_token_count": 1000,
                           "stop_reason": "stop"}, headers=wire.token_headers(1000, 1000))
    client(fake).invoke_model(modelId="us.meta.llama3-1-405b-instruct-v1:0", performanceConfigLatency="optimized",
                              body=json.dumps({"prompt": "hi", "max_gen_len": 512}))
    # Llama 3.1 405B latency-optimized $3.00 / $3.00 per 1M (standard $2.40): (1000 + 1000) x 3 = 6000 / 1M
    assert _cost(otel) == pytest.approx(0.006)


def test_standard_tier_keeps_the_on_demand_price(otel: Otel, fake: FakeBedrock) -> None:
    fake.answer("converse", wire.converse_body("ok", {"inputTokens": 1000, "outputTokens": 200}))
    client(fake).converse(modelId="us.amazon.nova-pro-v1:0", messages=MESSAGES)
    assert _cost(otel) == pytest.approx(0.00144)  # 1000 x 0.8 + 200 x 3.2 = 1440 / 1M


# --- 1-hour cache writes: Converse usage.cacheDetails ------------------------------------------------------------

@pytest.mark.skipif(not botocore_knows("Converse", "TokenUsage", "cacheDetails"),
                    reason="this botocore parses Converse without cacheDetails")
def test_claude_converse_one_hour_cache_writes(otel: Otel, fake: FakeBedrock) -> None:
    usage = {"inputTokens": 1000, "outputTokens": 500, "cacheReadInputTokens": 0, "cacheWriteInputTokens": 3000}
    body = wire.converse_body("ok", usage)
    body["usage"]["cacheDetails"] = [{"ttl": "5m", "inputTokens": 1000}, {"ttl": "1h", "inputTokens": 2000}]
    fake.answer("converse", body)
    client(fake).converse(modelId=CLAUDE_US, messages=MESSAGES)
    # us. Claude Sonnet 4.5: input $3.30, 5-minute write $4.125 (1.25x), 1-hour write $6.60 (2x), output $16.50:
    # 1000 x 3.3 + 1000 x 4.125 + 2000 x 6.6 + 500 x 16.5 = 3300 + 4125 + 13200 + 8250 = 28875 / 1M
    assert _cost(otel) == pytest.approx(0.028875)
    (span,) = otel.finished()
    assert span.attributes["gen_ai.usage.cache_write.input_tokens"] == 3000
    assert span.attributes["gen_ai.usage.input_tokens"] == 4000


def test_claude_invoke_model_one_hour_cache_writes(otel: Otel, fake: FakeBedrock) -> None:
    fake.answer("invoke", {"id": "msg_bdrk_02", "type": "message", "role": "assistant",
                           "model": "claude-sonnet-4-5-20250929", "content": [{"type": "text", "text": "ok"}],
                           "stop_reason": "end_turn",
                           "usage": {"input_tokens": 1000, "cache_creation_input_tokens": 3000,
                                     "cache_read_input_tokens": 0, "output_tokens": 500,
                                     "cache_creation": {"ephemeral_5m_input_tokens": 1000,
                                                        "ephemeral_1h_input_tokens": 2000}}},
                headers=wire.token_headers(1000, 500, cache_read=0, cache_write=3000))
    client(fake).invoke_model(modelId=CLAUDE_US, body=json.dumps({"anthropic_version": "bedrock-2023-05-31",
                                                                   "max_tokens": 512, "messages": []}))
    assert _cost(otel) == pytest.approx(0.028875)  # the same usage as above, in the Anthropic body


@pytest.mark.skipif(not botocore_knows("ConverseStream", "TokenUsage", "cacheDetails"),
                    reason="this botocore parses ConverseStream without cacheDetails")
def test_claude_converse_stream_one_hour_cache_writes(otel: Otel, fake: FakeBedrock) -> None:
    usage = {"inputTokens": 1000, "outputTokens": 500, "cacheReadInputTokens": 0, "cacheWriteInputTokens": 3000}
    events = wire.converse_stream("Nile Amazon", usage)
    events[-1] = wire.event("metadata", {"usage": {**usage, "totalTokens": 4500, "cacheDetails": [
        {"ttl": "5m", "inputTokens": 1000}, {"ttl": "1h", "inputTokens": 2000}]}, "metrics": {"latencyMs": 380}})
    fake.answer("converse-stream", events)
    list(client(fake).converse_stream(modelId=CLAUDE_US, messages=MESSAGES)["stream"])
    assert _cost(otel) == pytest.approx(0.028875)  # as the Converse call above, from the stream's metadata event
