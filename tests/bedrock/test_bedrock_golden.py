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
