"""Golden costs, computed by hand from Anthropic's, AWS's and Google's public per-1M-token prices.

Each case runs the real SDK against the simulated API with the usage the API would report, and checks the
span's cost against a hand computation written out in the comment. A first test checks the bundled table's
unit prices against the same public prices, so a table change that disagrees with them fails here.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fake_anthropic import FakeAnthropic

from conversation import MESSAGES
from otel_llm_cost.pricing import load_price_book
from telemetry_fixtures import Otel

pytestmark = pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning")

# Public prices, USD per 1M tokens (web search: USD per 1000 searches).
PUBLIC = {
    ("anthropic", "claude-sonnet-4-5"): {"input_mtok": 3.0, "output_mtok": 15.0, "cache_write_mtok": 3.75,
                                         "cache_write_1h_mtok": 6.0, "cache_read_mtok": 0.30,
                                         "web_searches_kcount": 10.0},
    ("anthropic", "claude-opus-4-7"): {"input_mtok": 5.0, "output_mtok": 25.0, "cache_write_mtok": 6.25,
                                       "cache_write_1h_mtok": 10.0, "cache_read_mtok": 0.50},
    ("anthropic", "claude-haiku-4-5"): {"input_mtok": 1.0, "output_mtok": 5.0, "cache_write_mtok": 1.25,
                                        "cache_write_1h_mtok": 2.0, "cache_read_mtok": 0.10},
    # Bedrock regional / geo cross-region profiles (us., eu., ...) of Sonnet 4.5: +10% over global
    ("aws.bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"): {
        "input_mtok": 3.3, "output_mtok": 16.5, "cache_write_mtok": 4.125, "cache_write_1h_mtok": 6.6,
        "cache_read_mtok": 0.33},
    ("aws.bedrock", "global.anthropic.claude-sonnet-4-5-20250929-v1:0"): {
        "input_mtok": 3.0, "output_mtok": 15.0, "cache_write_mtok": 3.75, "cache_read_mtok": 0.30},
    ("gcp.vertex_ai", "claude-sonnet-4-5@20250929"): {"input_mtok": 3.0, "output_mtok": 15.0,
                                                      "cache_write_mtok": 3.75, "cache_read_mtok": 0.30},
}
# claude-sonnet-4-5 above 200k input tokens (input + cache reads + cache writes): every token at
LONG_CONTEXT = {"input_mtok": 6.0, "output_mtok": 22.5, "cache_write_mtok": 7.5, "cache_write_1h_mtok": 12.0,
                "cache_read_mtok": 0.60}


@pytest.mark.parametrize(("provider", "model"), sorted(PUBLIC))
def test_bundled_table_agrees_with_public_prices(provider: str, model: str) -> None:
    found = load_price_book([]).price_row(provider, model)
    assert not hasattr(found, "reason"), found
    _, row = found  # type: ignore[misc]
    for key, price in PUBLIC[(provider, model)].items():
        assert row.unit_price(key) == pytest.approx(price), key
    if model == "claude-sonnet-4-5":
        for key, price in LONG_CONTEXT.items():
            assert row.unit_price(key, 200_001) == pytest.approx(price), key


def usage(**counts: Any) -> dict[str, Any]:
    five, hour = counts.pop("cache_5m", 0), counts.pop("cache_1h", 0)
    out: dict[str, Any] = {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": five + hour,
                           "cache_read_input_tokens": 0, "service_tier": "standard",
                           "cache_creation": {"ephemeral_5m_input_tokens": five, "ephemeral_1h_input_tokens": hour}}
    out.update(counts)
    return out


def cost_of(otel: Otel) -> float:
    (span,) = otel.finished()
    assert "llm_cost.unpriced_reason" not in span.attributes, span.attributes.get("llm_cost.unpriced_reason")
    return float(span.attributes["gen_ai.usage.cost.amount"])


@pytest.mark.parametrize("stream", [False, True])
def test_cache_writes_5m_and_1h_and_cache_read(otel: Otel, fake: FakeAnthropic, stream: bool) -> None:
    fake.usage = usage(input_tokens=2_000, cache_5m=4_000, cache_1h=8_000, output_tokens=500,
                       cache_read_input_tokens=50_000)
    result = fake.client().messages.create(model="claude-sonnet-4-5", max_tokens=500, messages=MESSAGES,
                                           stream=stream)
    if stream:
        list(result)
    # 2,000 x 3 + 4,000 x 3.75 (5 min write, 1.25x) + 8,000 x 6 (1 h write, 2x) + 50,000 x 0.30 (read, 0.1x)
    # + 500 x 15 = 6,000 + 15,000 + 48,000 + 15,000 + 7,500 = 91,500 per 1M -> 0.0915 USD
    assert cost_of(otel) == pytest.approx(0.0915, rel=1e-12)
    (span,) = otel.finished()
    assert span.attributes["gen_ai.usage.input_tokens"] == 64_000  # 2,000 + 12,000 + 50,000
    assert span.attributes["llm_cost.cache_write"] == pytest.approx(0.063)
    assert span.attributes["llm_cost.cache_read"] == pytest.approx(0.015)
    # cache savings: 50,000 reads x (3 - 0.30) = 0.135 USD
    assert otel.metric_sum("gen_ai.client.cost.savings", **{"gen_ai.cost.type": "cache_read"}) == pytest.approx(
        0.135)


def test_thinking_tokens_are_priced_inside_output(otel: Otel, fake: FakeAnthropic) -> None:
    fake.usage = usage(input_tokens=500, output_tokens=2_000, output_tokens_details={"thinking_tokens": 1_500})
    with fake.client().messages.stream(model="claude-opus-4-7", max_tokens=4_000, messages=MESSAGES,
                                       thinking={"type": "enabled", "budget_tokens": 2_000}) as stream:
        assert stream.get_final_message().content[0].type == "thinking"
    # 500 x 5 + 2,000 x 25 (thinking is part of output, never added on top) = 52,500 per 1M -> 0.0525 USD
    assert cost_of(otel) == pytest.approx(0.0525, rel=1e-12)
    (span,) = otel.finished()
    assert span.attributes["gen_ai.usage.reasoning.output_tokens"] == 1_500
    assert span.attributes["gen_ai.usage.output_tokens"] == 2_000


@pytest.mark.parametrize(("model", "expected"), [
    # regional profile: 10,000 x 3.3 + 1,000 x 16.5 = 49,500 per 1M -> 0.0495 USD
    ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 0.0495),
    # global profile: 10,000 x 3 + 1,000 x 15 = 45,000 per 1M -> 0.045 USD
    ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", 0.045),
])
@pytest.mark.parametrize("stream", [False, True])
def test_bedrock_profile_ids(otel: Otel, fake: FakeAnthropic, model: str, expected: float, stream: bool) -> None:
    fake.usage = usage(input_tokens=10_000, output_tokens=1_000)
    result = fake.bedrock().messages.create(model=model, max_tokens=1_000, messages=MESSAGES, stream=stream)
    if stream:
        assert list(result)[-1].type == "message_stop"
    assert cost_of(otel) == pytest.approx(expected, rel=1e-12)
    (span,) = otel.finished()
    assert span.attributes["gen_ai.provider.name"] == "aws.bedrock"
    assert span.attributes["server.address"] == "bedrock-runtime.us-east-1.amazonaws.com"
    assert span.attributes["gen_ai.request.model"] == model
    # the response names only the bare model, whose price would miss the profile's region surcharge
    assert span.attributes["gen_ai.response.model"] == "claude-sonnet-4-5-20250929"
    assert fake.requests[-1][0].startswith(f"/model/{model}/invoke")


def test_vertex_dated_model(otel: Otel, fake: FakeAnthropic) -> None:
    fake.usage = usage(input_tokens=10_000, output_tokens=1_000, cache_read_input_tokens=20_000)

    async def main() -> None:
        await fake.vertex(is_async=True).messages.create(model="claude-sonnet-4-5@20250929", max_tokens=10,
                                                         messages=MESSAGES)

    asyncio.run(main())
    # 10,000 x 3 + 20,000 x 0.30 + 1,000 x 15 = 51,000 per 1M -> 0.051 USD
    assert cost_of(otel) == pytest.approx(0.051, rel=1e-12)
    (span,) = otel.finished()
    assert span.attributes["gen_ai.provider.name"] == "gcp.vertex_ai"
    assert span.attributes["server.address"] == "us-east5-aiplatform.googleapis.com"
    assert span.attributes["gen_ai.request.model"] == "claude-sonnet-4-5@20250929"


@pytest.mark.parametrize(("uncached", "expected"), [
    # 150,000 + 60,000 read + 1,000 written = 211,000 > 200,000: every token at the long-context price:
    # 150,000 x 6 + 60,000 x 0.60 + 1,000 x 7.5 + 2,000 x 22.5 = 988,500 per 1M -> 0.9885 USD
    (150_000, 0.9885),
    # 139,000 + 61,000 = exactly 200,000: not above the threshold, base prices:
    # 139,000 x 3 + 60,000 x 0.30 + 1,000 x 3.75 + 2,000 x 15 = 468,750 per 1M -> 0.46875 USD
    (139_000, 0.46875),
])
def test_long_context_tier(otel: Otel, fake: FakeAnthropic, uncached: int, expected: float) -> None:
    fake.usage = usage(input_tokens=uncached, cache_read_input_tokens=60_000, cache_5m=1_000, output_tokens=2_000)
    fake.client().beta.messages.create(model="claude-sonnet-4-5", max_tokens=2_000, messages=MESSAGES,
                                       betas=["context-1m-2025-08-07"])
    assert cost_of(otel) == pytest.approx(expected, rel=1e-12)


def test_web_search_priced_per_request(otel: Otel, fake: FakeAnthropic) -> None:
    fake.usage = usage(input_tokens=1_000, output_tokens=100,
                       server_tool_use={"web_search_requests": 3, "web_fetch_requests": 2})
    fake.client().messages.create(model="claude-sonnet-4-5", max_tokens=100, messages=MESSAGES)
    # 1,000 x 3 + 100 x 15 = 4,500 per 1M = 0.0045, + 3 searches x 10 / 1000 = 0.03 (fetches: no charge)
    assert cost_of(otel) == pytest.approx(0.0345, rel=1e-12)
    assert otel.metric_sum("gen_ai.client.cost", **{"gen_ai.cost.type": "other"}) == pytest.approx(0.03)


def test_batch_results_at_batch_prices(otel: Otel, fake: FakeAnthropic) -> None:
    fake.batch_results = [
        fake.batch_item("req-1", "claude-haiku-4-5", "msg_b1", input_tokens=10_000, output_tokens=1_000),
        {"custom_id": "req-2", "result": {"type": "errored", "error": {
            "type": "error", "error": {"type": "invalid_request_error", "message": "bad"}}}},
        fake.batch_item("req-3", "claude-haiku-4-5", "msg_b3", input_tokens=2_000, output_tokens=200,
                        cache_read_input_tokens=8_000),
    ]
    client = fake.client()
    assert [r.custom_id for r in client.messages.batches.results("msgbatch_01")] == ["req-1", "req-2", "req-3"]
    # haiku 4.5 batch (50%): input 0.50, output 2.50, cache read 0.05 per 1M
    # req-1: 10,000 x 0.5 + 1,000 x 2.5 = 7,500 per 1M -> 0.0075
    # req-3: 2,000 x 0.5 + 8,000 x 0.05 + 200 x 2.5 = 1,900 per 1M -> 0.0019
    spans = otel.finished()
    assert [s.attributes["gen_ai.response.id"] for s in spans] == ["msg_b1", "msg_b3"]
    assert [s.attributes["gen_ai.usage.cost.amount"] for s in spans] == [pytest.approx(0.0075),
                                                                         pytest.approx(0.0019)]
    list(client.messages.batches.results("msgbatch_01"))  # read again: the same calls are not counted twice

    async def main() -> None:
        decoder = await fake.async_client().messages.batches.results("msgbatch_01")
        assert len([r async for r in decoder]) == 3

    asyncio.run(main())
    assert len(otel.finished()) == 2
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(0.0094)
    # the beta resource's results: req-4 is 4,000 x 0.5 + 400 x 2.5 = 3,000 per 1M -> 0.003
    fake.batch_results = [fake.batch_item("req-4", "claude-haiku-4-5", "msg_b4", input_tokens=4_000,
                                          output_tokens=400)]
    assert type(next(iter(client.beta.messages.batches.results("msgbatch_02")))).__name__.startswith("Beta")
    assert otel.finished()[-1].attributes["gen_ai.usage.cost.amount"] == pytest.approx(0.003)


def test_fast_speed_variant(otel: Otel, fake: FakeAnthropic) -> None:
    fake.usage = usage(input_tokens=1_000, output_tokens=100, speed="fast")
    fake.client().messages.create(model="claude-opus-4-8", max_tokens=100, messages=MESSAGES, speed="fast")
    # claude-opus-4-8 fast mode: input 10, output 50 per 1M: 1,000 x 10 + 100 x 50 = 15,000 -> 0.015 USD
    assert cost_of(otel) == pytest.approx(0.015, rel=1e-12)


def test_compaction_iterations_are_added(otel: Otel, fake: FakeAnthropic) -> None:
    fake.usage = usage(input_tokens=1_000, output_tokens=200, iterations=[
        {"type": "compaction", "input_tokens": 3_000, "output_tokens": 400, "cache_read_input_tokens": 0,
         "cache_creation_input_tokens": 0},
        {"type": "message", "input_tokens": 1_000, "output_tokens": 200, "cache_read_input_tokens": 0,
         "cache_creation_input_tokens": 0}])
    fake.client().beta.messages.create(model="claude-opus-4-7", max_tokens=100, messages=MESSAGES)
    # compaction is billed but not in the top-level counts: (1,000 + 3,000) x 5 + (200 + 400) x 25 = 35,000
    # per 1M -> 0.035 USD (the "message" iteration is already in the top-level counts)
    assert cost_of(otel) == pytest.approx(0.035, rel=1e-12)


# US-only inference (inference_geo "us", reported in usage): 1.1x every token price for Opus 4.6, Sonnet 4.6 and
# later (https://platform.claude.com/docs/en/build-with-claude/data-residency). Opus 4.6: $5 input, $6.25 5 min
# write, $10 1 h write, $0.50 cache read, $25 output per 1M; web search $10 per 1000 (a fee: not multiplied).
# 10,000 x 5 + 2,000 x 6.25 + 1,000 x 10 + 20,000 x 0.50 + 1,000 x 25 = 107,500 per 1M -> 0.1075 USD standard
OPUS_46_STANDARD = 0.1075


@pytest.mark.parametrize(("geo", "expected"), [
    ("us", OPUS_46_STANDARD * 1.1),  # 0.11825 USD
    ("global", OPUS_46_STANDARD),
    ("not_available", OPUS_46_STANDARD),
])
@pytest.mark.parametrize("surface", ["plain", "stream", "stream_manager", "async_stream"])
def test_us_only_inference_on_opus_4_6(otel: Otel, fake: FakeAnthropic, geo: str, expected: float,
                                       surface: str) -> None:
    fake.usage = usage(input_tokens=10_000, cache_5m=2_000, cache_1h=1_000, cache_read_input_tokens=20_000,
                       output_tokens=1_000, inference_geo=geo)
    kwargs: dict[str, Any] = {"model": "claude-opus-4-6", "max_tokens": 1_000, "messages": MESSAGES}
    if geo == "us":
        kwargs["inference_geo"] = "us"
    if surface == "plain":
        assert fake.client().messages.create(**kwargs).usage.inference_geo == geo
    elif surface == "stream":
        assert list(fake.client().messages.create(**kwargs, stream=True))[-1].type == "message_stop"
    elif surface == "stream_manager":
        with fake.client().messages.stream(**kwargs) as stream:
            assert stream.get_final_message().usage.inference_geo == geo
    else:
        async def main() -> None:
            result = await fake.async_client().messages.create(**kwargs, stream=True)
            assert [e.type async for e in result][-1] == "message_stop"

        asyncio.run(main())
    assert cost_of(otel) == pytest.approx(expected, rel=1e-12)
    if geo == "us":
        assert fake.requests[-1][1]["inference_geo"] == "us"
        (span,) = otel.finished()
        # cache writes (2,000 x 6.25 + 1,000 x 10) x 1.1 = 24,750 per 1M; reads 20,000 x 0.50 x 1.1 = 11,000
        assert span.attributes["llm_cost.cache_write"] == pytest.approx(0.02475)
        assert span.attributes["llm_cost.cache_read"] == pytest.approx(0.011)


@pytest.mark.parametrize(("model", "expected"), [
    # Sonnet 4.6 $3 / $15: (10,000 x 3 + 1,000 x 15) x 1.1 = 49,500 per 1M -> 0.0495 USD
    ("claude-sonnet-4-6", 0.0495),
    # Sonnet 4.5 has no US-only price (the API rejects the parameter): standard 45,000 per 1M -> 0.045 USD
    ("claude-sonnet-4-5", 0.045),
])
def test_us_only_inference_by_model(otel: Otel, fake: FakeAnthropic, model: str, expected: float) -> None:
    fake.usage = usage(input_tokens=10_000, output_tokens=1_000, inference_geo="us")
    fake.client().messages.create(model=model, max_tokens=1_000, messages=MESSAGES)
    assert cost_of(otel) == pytest.approx(expected, rel=1e-12)


def test_us_only_inference_stacks_with_fast_mode_and_web_search(otel: Otel, fake: FakeAnthropic) -> None:
    fake.usage = usage(input_tokens=1_000, output_tokens=100, speed="fast", inference_geo="us",
                       server_tool_use={"web_search_requests": 1, "web_fetch_requests": 0})
    fake.client().messages.create(model="claude-opus-4-8", max_tokens=100, messages=MESSAGES, speed="fast",
                                  inference_geo="us")
    # claude-opus-4-8 fast mode $10 / $50, x 1.1: (1,000 x 10 + 100 x 50) x 1.1 = 16,500 per 1M -> 0.0165 USD,
    # + 1 search x 10 / 1000 = 0.01 (a request fee, not multiplied)
    assert cost_of(otel) == pytest.approx(0.0265, rel=1e-12)


@pytest.mark.parametrize("tier_reported", [True, False])
def test_us_only_batch_results_keep_the_batch_rate(otel: Otel, fake: FakeAnthropic, tier_reported: bool) -> None:
    item = fake.batch_item("req-1", "claude-opus-4-6", f"msg_geo{tier_reported}", input_tokens=10_000,
                           output_tokens=1_000)
    item["result"]["message"]["usage"]["inference_geo"] = "us"
    if not tier_reported:  # a result without service_tier is still a batch result
        del item["result"]["message"]["usage"]["service_tier"]
    fake.batch_results = [item]
    list(fake.client().messages.batches.results("msgbatch_geo"))
    # Opus 4.6 batch $2.50 / $12.50, x 1.1: (10,000 x 2.5 + 1,000 x 12.5) x 1.1 = 41,250 per 1M -> 0.04125 USD
    assert cost_of(otel) == pytest.approx(0.04125, rel=1e-12)
