"""What is google-genai's own (the shared suite covers the rest): provider by backend, the endpoint, model names
as users write them, usage as Google bills it with golden costs hand-computed from Google's public prices
(ai.google.dev/gemini-api/docs/pricing, USD per 1M tokens), chats and count_tokens, calls without usage."""

from __future__ import annotations

import asyncio
from typing import Any

import cases  # noqa: F401  (the simulated APIs' path)
import pytest
from fake_genai import (
    CACHED,
    FLASH_COST,
    INPUT_TOKENS,
    MODEL,
    OUTPUT_TOKENS,
    PROMPT,
    THOUGHTS,
    TOOL_CALL_CANDIDATES,
    TOOL_CALL_PROMPT,
    FakeGenAI,
    usage,
)
from google import genai
from google.genai import types

from telemetry_fixtures import Otel

COST = "gen_ai.usage.cost.amount"
INPUT, OUTPUT = "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"


def _span(otel: Otel) -> Any:
    (span,) = otel.finished()
    return span


@pytest.mark.parametrize("vertex", [False, True], ids=["gemini", "vertex"])
def test_provider_and_endpoint_follow_the_backend(otel: Otel, vertex: bool) -> None:
    fake = FakeGenAI(vertex)
    fake.genai_client().models.generate_content(model=MODEL, contents="hi")
    span = _span(otel)
    assert span.name == f"chat {MODEL}"
    path = fake.requests[0][0]
    if vertex:
        assert path.endswith(f"/projects/acme-prod/locations/us-central1/publishers/google/models/{MODEL}"
                             ":generateContent")
        assert span.attributes["gen_ai.provider.name"] == "gcp.vertex_ai"
        assert span.attributes["server.address"] == "us-central1-aiplatform.googleapis.com"
    else:
        assert span.attributes["gen_ai.provider.name"] == "gcp.gemini"
        assert span.attributes["server.address"] == "generativelanguage.googleapis.com"
    assert "server.port" not in span.attributes
    assert span.attributes["gen_ai.response.model"] == MODEL
    assert span.attributes["gen_ai.response.id"] == "resp-gemini-1"
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)


def test_a_proxy_base_url_is_the_server_and_keeps_the_backend(otel: Otel) -> None:
    fake = FakeGenAI()
    opts = fake._options()
    opts.base_url = "http://127.0.0.1:8089/"
    client = genai.Client(api_key="k", http_options=opts)
    client.models.generate_content(model=MODEL, contents="hi")
    span = _span(otel)
    assert span.attributes["server.address"] == "127.0.0.1"
    assert span.attributes["server.port"] == 8089
    assert span.attributes["gen_ai.provider.name"] == "gcp.gemini"


def test_thinking_cached_and_tool_use_prompt_as_google_bills_them(otel: Otel) -> None:
    FakeGenAI().client().models.generate_content(model=MODEL, contents="hi")
    attrs = _span(otel).attributes
    assert attrs[INPUT] == INPUT_TOKENS  # prompt (cached included) + tool-use prompt
    assert attrs[OUTPUT] == OUTPUT_TOKENS  # candidates + thoughts
    assert attrs["gen_ai.usage.reasoning.output_tokens"] == THOUGHTS
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == CACHED
    # 850 input at 0.30, 400 cached at 0.03, 250 output at 2.50
    assert attrs[COST] == pytest.approx(0.000892)
    assert attrs[COST] == pytest.approx(FLASH_COST)


def test_cached_prompt_on_gemini_2_5_pro(otel: Otel) -> None:
    fake = FakeGenAI()
    fake.final_usage = usage(prompt=10_000, cached=8_000, tool_use=0, candidates=500, thoughts=0)
    fake.client().models.generate_content(model="gemini-2.5-pro", contents="hi")
    attrs = _span(otel).attributes
    # 2,000 uncached at 1.25, 8,000 cached at 0.125, 500 output at 10.00 (prompts up to 200k)
    assert attrs[COST] == pytest.approx((2_000 * 1.25 + 8_000 * 0.125 + 500 * 10.00) / 1e6)
    assert attrs[COST] == pytest.approx(0.0085)


def test_a_prompt_over_200k_reprices_the_whole_call(otel: Otel) -> None:
    fake = FakeGenAI()
    fake.final_usage = usage(prompt=250_000, cached=0, tool_use=0, candidates=1_000, thoughts=2_000)
    fake.client().models.generate_content(model="gemini-2.5-pro", contents="hi")
    attrs = _span(otel).attributes
    assert attrs[INPUT] == 250_000 and attrs[OUTPUT] == 3_000
    # above 200k prompt tokens: every input token at 2.50 and every output token at 15.00
    assert attrs[COST] == pytest.approx(0.67)


def test_audio_input_is_priced_as_audio(otel: Otel) -> None:
    fake = FakeGenAI()
    fake.final_usage = usage(prompt=2_000, audio=1_500, cached=0, tool_use=0, candidates=100, thoughts=0)
    fake.client().models.generate_content(model=MODEL, contents="hi")
    attrs = _span(otel).attributes
    assert attrs[INPUT] == 2_000
    # gemini-2.5-flash: text input 0.30, audio input 1.00, output 2.50
    assert attrs[COST] == pytest.approx((500 * 0.30 + 1_500 * 1.00 + 100 * 2.50) / 1e6)


def test_native_image_output_is_priced_as_image(otel: Otel) -> None:
    fake = FakeGenAI()
    fake.final_usage = {"promptTokenCount": 20, "candidatesTokenCount": 1290, "totalTokenCount": 1310,
                        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 20}],
                        "candidatesTokensDetails": [{"modality": "IMAGE", "tokenCount": 1290}]}
    fake.client().models.generate_content(model="gemini-2.5-flash-image", contents="a red bicycle")
    attrs = _span(otel).attributes
    assert attrs[OUTPUT] == 1290
    # gemini-2.5-flash-image: input 0.30, image output 30.00 (1290 tokens: Google's $0.039 per 1024px image)
    assert attrs[COST] == pytest.approx((20 * 0.30 + 1290 * 30.00) / 1e6)


def test_output_all_thinking_still_counts(otel: Otel) -> None:
    fake = FakeGenAI()
    fake.final_usage = usage(prompt=100, cached=0, tool_use=0, candidates=0, thoughts=40)  # no candidatesTokenCount
    fake.client().models.generate_content(model=MODEL, contents="hi")
    attrs = _span(otel).attributes
    assert attrs[OUTPUT] == 40
    assert attrs[COST] == pytest.approx((100 * 0.30 + 40 * 2.50) / 1e6)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_a_stream_records_its_last_usage_never_a_sum(otel: Otel, is_async: bool) -> None:
    fake = FakeGenAI()
    if is_async:
        async def main() -> list[Any]:
            return [c async for c in await fake.async_client().models.generate_content_stream(model=MODEL,
                                                                                                  contents="hi")]
        chunks = asyncio.run(main())
    else:
        chunks = list(fake.client().models.generate_content_stream(model=MODEL, contents="hi"))
    assert [c.usage_metadata.prompt_token_count for c in chunks] == [PROMPT] * 3  # every chunk reports it
    attrs = _span(otel).attributes
    assert attrs["gen_ai.request.stream"] is True  # the method says so: there is no stream keyword
    assert attrs[INPUT] == INPUT_TOKENS and attrs[OUTPUT] == OUTPUT_TOKENS
    assert attrs[COST] == pytest.approx(FLASH_COST)
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["gen_ai.response.time_to_first_chunk"] > 0


@pytest.mark.parametrize("name", ["models/gemini-2.5-flash", "publishers/google/models/gemini-2.5-flash"])
def test_model_names_as_users_write_them(otel: Otel, name: str) -> None:
    fake = FakeGenAI()
    fake.client().models.generate_content(model=name, contents="hi")
    attrs = _span(otel).attributes
    assert attrs["gen_ai.request.model"] == name
    assert attrs[COST] == pytest.approx(FLASH_COST)


def test_chats_count_each_message_once(otel: Otel) -> None:
    chat = FakeGenAI().client().chats.create(model=MODEL)
    chat.send_message("hello")
    list(chat.send_message_stream("again"))
    spans = otel.finished()
    assert len(spans) == 2
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(2 * FLASH_COST)


def test_automatic_function_calling_prices_every_request(otel: Otel) -> None:
    def weather(city: str) -> str:
        """The weather in a city."""
        return f"sunny in {city}"

    config = types.GenerateContentConfig(tools=[weather])
    result = FakeGenAI().client().models.generate_content(model=MODEL, contents="Weather in Paris?", config=config)
    assert result.text == "Paris"
    assert result.usage_metadata.prompt_token_count == PROMPT  # the SDK's result: the last request's usage only
    first, second = sorted(otel.finished(), key=lambda span: span.start_time)
    assert first.attributes[INPUT] == TOOL_CALL_PROMPT and first.attributes[OUTPUT] == TOOL_CALL_CANDIDATES
    assert second.attributes[INPUT] == INPUT_TOKENS
    expected = FLASH_COST + (TOOL_CALL_PROMPT * 0.30 + TOOL_CALL_CANDIDATES * 2.50) / 1e6
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(expected)


def test_counting_tokens_costs_nothing_and_makes_no_span(otel: Otel) -> None:
    client = FakeGenAI().client()
    assert client.models.count_tokens(model=MODEL, contents="hi").total_tokens == 7
    assert otel.finished() == []


def test_request_config_becomes_request_attributes(otel: Otel) -> None:
    config = types.GenerateContentConfig(temperature=0.2, top_p=0.9, top_k=40, max_output_tokens=64, seed=7,
                                         stop_sequences=["\n"], candidate_count=2)
    FakeGenAI().client().models.generate_content(model=MODEL, contents="hi", config=config)
    attrs = _span(otel).attributes
    assert attrs["gen_ai.request.temperature"] == 0.2
    assert attrs["gen_ai.request.top_p"] == 0.9
    assert attrs["gen_ai.request.top_k"] == 40
    assert attrs["gen_ai.request.max_tokens"] == 64
    assert attrs["gen_ai.request.seed"] == 7
    assert attrs["gen_ai.request.stop_sequences"] == ("\n",)
    assert attrs["gen_ai.request.choice.count"] == 2


@pytest.mark.parametrize("vertex", [False, True], ids=["gemini", "vertex"])
def test_embeddings(otel: Otel, vertex: bool) -> None:
    FakeGenAI(vertex).client().models.embed_content(model="gemini-embedding-001", contents="hello")
    attrs = _span(otel).attributes
    assert attrs["gen_ai.operation.name"] == "embeddings"
    if not vertex and "usage_metadata" not in types.EmbedContentResponse.model_fields:
        # google-genai before 2.x drops the Gemini API's embedding usage: unpriced, visible, never $0
        assert attrs["llm_cost.unpriced_reason"] == "no_usage" and COST not in attrs
        return
    assert attrs[INPUT] == 6
    assert OUTPUT not in attrs
    assert attrs[COST] == pytest.approx(6 * 0.15 / 1e6)  # gemini-embedding-001: 0.15 per 1M input tokens


def test_a_response_without_usage_is_unpriced_never_zero(otel: Otel) -> None:
    fake = FakeGenAI()
    fake.final_usage = None
    result = fake.client().models.generate_content(model=MODEL, contents="hi")
    assert result.text == "Paris"
    attrs = _span(otel).attributes
    assert COST not in attrs
    assert attrs["llm_cost.unpriced_reason"] == "no_usage"
    assert otel.metric_sum("gen_ai.client.operation.unpriced") == 1


def test_an_unknown_model_is_unpriced_and_counted(otel: Otel) -> None:
    FakeGenAI().client().models.generate_content(model="gemini-99-imaginary", contents="hi")
    attrs = _span(otel).attributes
    assert attrs[INPUT] == INPUT_TOKENS
    assert COST not in attrs
    assert attrs["llm_cost.unpriced_reason"] == "unknown_model"
    assert otel.metric_sum("gen_ai.client.operation.unpriced") == 1


@pytest.mark.skipif("service_tier" not in types.GenerateContentConfig.model_fields,
                    reason="this google-genai has no service tiers")
def test_the_requested_tier_is_recorded(otel: Otel) -> None:
    FakeGenAI().client().models.generate_content(model=MODEL, contents="hi", config={"service_tier": "flex"})
    assert _span(otel).attributes["llm_cost.service_tier"] == "flex"


def test_vertex_reports_the_tier_it_served_on(otel: Otel) -> None:
    fake = FakeGenAI(vertex=True)
    fake.final_usage = {**usage(vertex=True), "trafficType": "ON_DEMAND_PRIORITY"}
    fake.client().models.generate_content(model=MODEL, contents="hi")
    assert _span(otel).attributes["llm_cost.service_tier"] == "priority"
