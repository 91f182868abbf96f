"""Each call is recorded exactly once, whichever way its stream ends, and priced by the model that answered.

A stream that is read to the end and then closed (``with`` exit, ``close()``) ends twice from the proxy's
point of view; the metrics must still count it once. Span counts alone cannot show a double record (the SDK
ignores a second ``span.end()``), so these tests check the counters and histograms with exact values.
"""

from __future__ import annotations

import asyncio

import fake_openai
import pytest
from fake_openai import CACHED, COMPLETION, GPT_4O_MINI_COST, PROMPT, FakeOpenAI

from conversation import MESSAGES
from otel_llm_cost.pricing import load_price_book
from telemetry_fixtures import Otel

# gpt-4o responses priced (PROMPT - CACHED) x 2.50 + CACHED x 1.25 + COMPLETION x 10 per 1M (no reasoning)
GPT_4O_COST = ((PROMPT - CACHED) * 2.50 + CACHED * 1.25 + COMPLETION * 10.0) / 1e6


def _assert_recorded_once(otel: Otel, cost: float) -> None:
    (span,) = otel.finished()
    assert span.attributes["gen_ai.usage.cost.amount"] == pytest.approx(cost, rel=1e-12)
    assert otel.metric_count("gen_ai.client.operation.duration") == 1
    assert otel.metric_count("gen_ai.client.operation.cost") == 1
    assert otel.metric_sum("gen_ai.client.operation.cost") == pytest.approx(cost, rel=1e-12)
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(cost, rel=1e-12)
    assert otel.metric_sum("gen_ai.client.inference.usage.input_tokens") == PROMPT
    assert otel.metric_sum("gen_ai.client.inference.usage.cache_read.input_tokens") == CACHED
    assert otel.metric_sum("gen_ai.client.token.usage", **{"gen_ai.token.type": "output"}) == COMPLETION


def test_chat_stream_read_to_the_end_inside_with(otel: Otel, fake: FakeOpenAI) -> None:
    with fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True) as stream:
        assert len(list(stream)) == 4
    _assert_recorded_once(otel, GPT_4O_MINI_COST)


def test_chat_stream_read_to_the_end_then_closed_twice(otel: Otel, fake: FakeOpenAI) -> None:
    stream = fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    assert len(list(stream)) == 4
    stream.close()
    stream.close()
    _assert_recorded_once(otel, GPT_4O_MINI_COST)


def test_async_chat_stream_read_to_the_end_inside_async_with(otel: Otel, fake: FakeOpenAI) -> None:
    async def main() -> int:
        stream = await fake.async_client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES,
                                                                   stream=True)
        async with stream:
            chunks = [c async for c in stream]
        await stream.close()
        return len(chunks)

    assert asyncio.run(main()) == 4
    _assert_recorded_once(otel, GPT_4O_MINI_COST)


def test_responses_stream_read_to_the_end_inside_with(otel: Otel, fake: FakeOpenAI) -> None:
    with fake.client().responses.create(model="gpt-4o", input="Capital of France?", stream=True) as stream:
        kinds = [event.type for event in stream]
    assert kinds[-1] == "response.completed"
    _assert_recorded_once(otel, GPT_4O_COST)


@pytest.mark.parametrize("stream", [False, True])
def test_the_model_that_answered_sets_the_price(otel: Otel, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch,
                                                stream: bool) -> None:
    # The alias "gpt-4o" was served by gpt-4o-2024-05-13 until October 2024: that snapshot's price applies
    # (5 input, 15 output per 1M; no cached-input discount, so the API reports no cached tokens), not the
    # alias's current 2.50 / 10.
    monkeypatch.setitem(fake_openai.SNAPSHOTS, "gpt-4o", "gpt-4o-2024-05-13")
    fake.extra_usage = {"prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0}}
    result = fake.client().chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=stream)
    if stream:
        list(result)
    (span,) = otel.finished()
    assert span.attributes["gen_ai.request.model"] == "gpt-4o"
    assert span.attributes["gen_ai.response.model"] == "gpt-4o-2024-05-13"
    # 1,500 x 5 + 300 x 15 = 12,000 per 1M -> 0.012 USD
    assert span.attributes["gen_ai.usage.cost.amount"] == pytest.approx(0.012, rel=1e-12)
    assert span.attributes["llm_cost.input"] == pytest.approx(0.0075, rel=1e-12)
    assert otel.metric_sum("gen_ai.client.cost", **{"gen_ai.response.model": "gpt-4o-2024-05-13"}) == pytest.approx(
        0.012, rel=1e-12)


def test_the_request_model_prices_when_the_answering_name_is_unknown(otel: Otel, fake: FakeOpenAI,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # A gateway in front of OpenAI answers with its own route name, which no price table knows: the request
    # model still prices the call (1,500 - 1,024) x 0.15 + 1,024 x 0.075 + 300 x 0.60 per 1M.
    monkeypatch.setitem(fake_openai.SNAPSHOTS, "gpt-4o-mini", "acme-gateway-route-7")
    fake.client(base_url="https://llm-gateway.acme.internal/v1").chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES)
    (span,) = otel.finished()
    assert span.attributes["gen_ai.provider.name"] == "openai"
    assert span.attributes["gen_ai.response.model"] == "acme-gateway-route-7"
    assert "llm_cost.unpriced_reason" not in span.attributes
    assert span.attributes["gen_ai.usage.cost.amount"] == pytest.approx(GPT_4O_MINI_COST, rel=1e-12)
    assert otel.metric_sum("gen_ai.client.operation.unpriced") == 0


def test_deepseek_cache_hits_reported_at_the_top_level(otel: Otel, fake: FakeOpenAI) -> None:
    # DeepSeek's usage names cache hits and misses at the top level, with no prompt_tokens_details
    fake.extra_usage = {"prompt_tokens_details": None, "completion_tokens_details": None,
                        "prompt_cache_hit_tokens": CACHED, "prompt_cache_miss_tokens": PROMPT - CACHED}
    fake.client(base_url="https://api.deepseek.com/v1").chat.completions.create(model="deepseek-chat",
                                                                               messages=MESSAGES)
    (span,) = otel.finished()
    assert span.attributes["gen_ai.provider.name"] == "deepseek"
    assert span.attributes["gen_ai.usage.input_tokens"] == PROMPT
    assert span.attributes["gen_ai.usage.cache_read.input_tokens"] == CACHED
    found = load_price_book([]).price_row("deepseek", "deepseek-chat")
    assert not hasattr(found, "reason"), found
    _, row = found  # type: ignore[misc]
    miss, hit, out = (row.unit_price(k) for k in ("input_mtok", "cache_read_mtok", "output_mtok"))
    assert hit < miss  # a cache hit is cheaper: ignoring it would over-charge
    expected = ((PROMPT - CACHED) * miss + CACHED * hit + COMPLETION * out) / 1e6
    assert span.attributes["gen_ai.usage.cost.amount"] == pytest.approx(expected, rel=1e-12)
    assert span.attributes["llm_cost.cache_read"] == pytest.approx(CACHED * hit / 1e6, rel=1e-12)
    assert otel.metric_sum("gen_ai.client.inference.usage.cache_read.input_tokens") == CACHED
