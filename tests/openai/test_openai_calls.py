"""The real openai SDK against a simulated API: every surface, sync and async, streamed and not."""

from __future__ import annotations

import asyncio
import gc

import pytest
from fake_openai import CACHED, COMPLETION, GPT_4O_MINI_COST, OPENAI_MAJOR, PROMPT, REASONING, FakeOpenAI, http
from pydantic import BaseModel

from conversation import MESSAGES
from telemetry_fixtures import Otel


class Answer(BaseModel):
    answer: str


def _assert_priced_chat(otel: Otel, *, stream: bool = False, model: str = "gpt-4o-mini") -> None:
    (span,) = otel.finished()
    attrs = dict(span.attributes or {})
    assert span.name == f"chat {model}"
    assert span.kind.name == "CLIENT"
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.provider.name"] == "openai"
    assert attrs["gen_ai.request.model"] == model
    assert attrs["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
    assert attrs["gen_ai.response.id"] == "chatcmpl-abc123"
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["server.address"] == "api.openai.com"
    assert attrs["gen_ai.usage.input_tokens"] == PROMPT and type(attrs["gen_ai.usage.input_tokens"]) is int
    assert attrs["gen_ai.usage.output_tokens"] == COMPLETION
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == CACHED
    assert attrs["gen_ai.usage.cost.amount"] == pytest.approx(GPT_4O_MINI_COST, rel=1e-12)
    assert attrs["gen_ai.usage.cost.currency"] == "USD"
    assert attrs["gen_ai.usage.cost.source"] == "local"
    assert attrs["llm_cost.cache_read"] == pytest.approx(CACHED * 0.075 / 1e6)
    assert attrs["llm_cost.price_table"].startswith("genai-prices-")
    assert "gen_ai.system" not in attrs and "llm_cost.unpriced_reason" not in attrs
    assert ("gen_ai.request.stream" in attrs) == stream
    if stream:
        assert 0 <= attrs["gen_ai.response.time_to_first_chunk"] < 5
    _assert_invariant(otel)


def _assert_invariant(otel: Otel) -> None:
    spans_total = sum(s.attributes.get("gen_ai.usage.cost.amount", 0.0) for s in otel.finished())
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(spans_total, rel=1e-12, abs=1e-18)
    assert otel.metric_sum("gen_ai.client.operation.cost") == pytest.approx(spans_total, rel=1e-12, abs=1e-18)


def test_chat_create_sync(otel: Otel, fake: FakeOpenAI) -> None:
    result = fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, temperature=0.2,
                                                   max_tokens=50)
    assert type(result).__name__ == "ChatCompletion" and result.choices[0].message.content == '{"answer": "Paris"}'
    _assert_priced_chat(otel)
    (span,) = otel.finished()
    assert span.attributes["gen_ai.request.temperature"] == 0.2
    assert span.attributes["gen_ai.request.max_tokens"] == 50
    metrics = otel.metrics()
    assert metrics["gen_ai.client.operation.duration#unit"] == ["s"]
    assert metrics["gen_ai.client.cost#unit"] == ["USD"]
    assert metrics["gen_ai.client.operation.cost#unit"] == ["USD"]
    assert metrics["gen_ai.client.token.usage#unit"] == ["{token}"]
    assert otel.metric_count("gen_ai.client.operation.duration", **{"gen_ai.provider.name": "openai"}) == 1
    assert otel.metric_sum("gen_ai.client.token.usage", **{"gen_ai.token.type": "input"}) == PROMPT
    assert otel.metric_sum("gen_ai.client.token.usage", **{"gen_ai.token.type": "output"}) == COMPLETION
    assert otel.metric_sum("gen_ai.client.inference.usage.cache_read.input_tokens") == CACHED
    assert otel.metric_sum("gen_ai.client.cost", **{"gen_ai.cost.type": "cache_read"}) == pytest.approx(
        CACHED * 0.075 / 1e6)
    assert otel.metric_sum("gen_ai.client.cost.savings", **{"gen_ai.cost.type": "cache_read"}) == pytest.approx(
        CACHED * (0.15 - 0.075) / 1e6)
    point = metrics["gen_ai.client.cost"][0]
    assert point.attributes["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
    assert point.attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert point.attributes["server.address"] == "api.openai.com"


def test_chat_create_async(otel: Otel, fake: FakeOpenAI) -> None:
    async def main() -> None:
        result = await fake.async_client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert type(result).__name__ == "ChatCompletion"

    asyncio.run(main())
    _assert_priced_chat(otel)


def test_stream_hides_injected_usage_chunk(otel: Otel, fake: FakeOpenAI) -> None:
    stream = fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    chunks = list(stream)
    assert [c.choices[0].delta.content for c in chunks] == ["", '{"answer": ', '"Paris"}', None]
    assert all(c.choices for c in chunks), "the caller must not see the usage-only chunk it did not ask for"
    assert fake.requests[-1]["stream_options"] == {"include_usage": True}
    _assert_priced_chat(otel, stream=True)
    assert otel.metric_count("gen_ai.client.operation.time_to_first_chunk") == 1


def test_stream_keeps_usage_chunk_when_caller_asked(otel: Otel, fake: FakeOpenAI) -> None:
    chunks = list(fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True,
                                                        stream_options={"include_usage": True}))
    assert chunks[-1].choices == [] and chunks[-1].usage.prompt_tokens == PROMPT
    _assert_priced_chat(otel, stream=True)


@pytest.mark.parametrize("how", ["env", "argument"])
def test_stream_usage_off_is_unpriced_not_zero(otel: Otel, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch,
                                               how: str) -> None:
    if how == "env":
        monkeypatch.setenv("OTEL_LLM_COST_STREAM_USAGE", "off")
        otel.reinstrument()
    else:
        otel.reinstrument(stream_usage=False)
    list(fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    assert "stream_options" not in fake.requests[-1]
    (span,) = otel.finished()
    assert span.attributes["llm_cost.unpriced_reason"] == "no_usage"
    assert "gen_ai.usage.cost.amount" not in span.attributes
    assert otel.metric_sum("gen_ai.client.operation.unpriced", **{"llm_cost.unpriced_reason": "no_usage"}) == 1
    assert otel.metric_sum("gen_ai.client.cost") == 0


def test_stream_async(otel: Otel, fake: FakeOpenAI) -> None:
    async def main() -> list[object]:
        stream = await fake.async_client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES,
                                                                   stream=True)
        return [c async for c in stream]

    assert len(asyncio.run(main())) == 4
    _assert_priced_chat(otel, stream=True)


def test_stream_helpers_sync_and_async(otel: Otel, fake: FakeOpenAI) -> None:
    with fake.client().chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()
    assert final.choices[0].message.content == '{"answer": "Paris"}'

    async def main() -> None:
        async with fake.async_client().chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as s:
            async for _ in s:
                pass

    asyncio.run(main())
    spans = otel.finished()
    assert len(spans) == 2
    assert all(s.attributes["gen_ai.usage.cost.amount"] == pytest.approx(GPT_4O_MINI_COST) for s in spans)
    _assert_invariant(otel)


def test_parse_sync_and_async(otel: Otel, fake: FakeOpenAI) -> None:
    parsed = fake.client().chat.completions.parse(model="gpt-4o-mini", messages=MESSAGES, response_format=Answer)
    assert parsed.choices[0].message.parsed == Answer(answer="Paris")

    async def main() -> None:
        await fake.async_client().chat.completions.parse(model="gpt-4o-mini", messages=MESSAGES,
                                                         response_format=Answer)

    asyncio.run(main())
    assert len(otel.finished()) == 2
    assert all(s.attributes["gen_ai.usage.cost.amount"] == pytest.approx(GPT_4O_MINI_COST) for s in otel.finished())


@pytest.mark.parametrize("mode", ["create", "stream", "helper", "parse"])
def test_responses_api(otel: Otel, fake: FakeOpenAI, mode: str) -> None:
    client = fake.client()
    if mode == "create":
        client.responses.create(model="gpt-5", input="Capital of France?")
    elif mode == "stream":
        events = list(client.responses.create(model="gpt-5", input="Capital of France?", stream=True))
        assert events[-1].type == "response.completed"
    elif mode == "helper":
        with client.responses.stream(model="gpt-5", input="Capital of France?") as stream:
            for _ in stream:
                pass
            assert stream.get_final_response().usage.input_tokens == PROMPT
    else:
        client.responses.parse(model="gpt-5", input="Capital of France?", text_format=Answer)
    (span,) = otel.finished()
    # gpt-5: 1.25 input, 0.125 cached, 10 output (reasoning inside output)
    expected = ((PROMPT - CACHED) * 1.25 + CACHED * 0.125 + COMPLETION * 10) / 1e6
    assert span.attributes["gen_ai.usage.cost.amount"] == pytest.approx(expected, rel=1e-12)
    assert span.attributes["gen_ai.usage.reasoning.output_tokens"] == REASONING
    assert span.attributes["gen_ai.response.model"] == "gpt-5-2025-08-07"
    assert span.attributes["gen_ai.response.id"] == "resp_abc123"
    _assert_invariant(otel)


def test_responses_async_stream(otel: Otel, fake: FakeOpenAI) -> None:
    async def main() -> None:
        stream = await fake.async_client().responses.create(model="gpt-5", input="x", stream=True)
        async for _ in stream:
            pass

    asyncio.run(main())
    (span,) = otel.finished()
    assert span.attributes["gen_ai.usage.input_tokens"] == PROMPT


def test_embeddings_sync_and_async(otel: Otel, fake: FakeOpenAI) -> None:
    fake.client().embeddings.create(model="text-embedding-3-small", input=["a", "b"])

    async def main() -> None:
        await fake.async_client().embeddings.create(model="text-embedding-3-small", input="c")

    asyncio.run(main())
    first, second = otel.finished()
    assert first.name == "embeddings text-embedding-3-small"
    assert first.attributes["gen_ai.operation.name"] == "embeddings"
    assert first.attributes["gen_ai.usage.input_tokens"] == 16
    assert "gen_ai.usage.output_tokens" not in first.attributes
    assert first.attributes["gen_ai.usage.cost.amount"] == pytest.approx(16 * 0.02 / 1e6)
    assert second.attributes["gen_ai.usage.cost.amount"] == pytest.approx(8 * 0.02 / 1e6)
    _assert_invariant(otel)


def test_legacy_completions(otel: Otel, fake: FakeOpenAI) -> None:
    client = fake.client()
    client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Capital of France?")
    chunks = list(client.completions.create(model="gpt-3.5-turbo-instruct", prompt="x", stream=True))
    assert len(chunks) == 2
    spans = otel.finished()
    assert [s.name for s in spans] == ["text_completion gpt-3.5-turbo-instruct"] * 2
    # gpt-3.5-turbo-instruct: 1.50 input, 2.00 output
    assert all(s.attributes["gen_ai.usage.cost.amount"] == pytest.approx((12 * 1.5 + 5 * 2.0) / 1e6) for s in spans)


def test_with_raw_response(otel: Otel, fake: FakeOpenAI) -> None:
    client = fake.client()
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)
    assert type(raw).__name__ == "LegacyAPIResponse"
    assert raw.headers is not None
    assert raw.parse().choices[0].finish_reason == "stop"
    raw_stream = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES,
                                                                  stream=True)
    assert len(list(raw_stream.parse())) == 4
    spans = otel.finished()
    assert len(spans) == 2
    assert all(s.attributes["gen_ai.usage.cost.amount"] == pytest.approx(GPT_4O_MINI_COST) for s in spans)


def test_with_streaming_response(otel: Otel, fake: FakeOpenAI) -> None:
    client = fake.client()
    with client.chat.completions.with_streaming_response.create(model="gpt-4o-mini", messages=MESSAGES) as resp:
        assert resp.parse().choices[0].message.content == '{"answer": "Paris"}'
    with client.embeddings.with_streaming_response.create(model="text-embedding-3-small", input="a") as resp:
        resp.read()  # read but never parsed: no usage seen, so unpriced rather than invented
    first, second = otel.finished()
    assert first.attributes["gen_ai.usage.cost.amount"] == pytest.approx(GPT_4O_MINI_COST)
    assert second.attributes["llm_cost.unpriced_reason"] == "no_usage"


def test_stream_early_close_records_what_was_seen(otel: Otel, fake: FakeOpenAI) -> None:
    stream = fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    next(stream)
    stream.close()
    (span,) = otel.finished()
    assert span.attributes["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
    assert span.attributes["llm_cost.unpriced_reason"] == "no_usage"  # usage comes last: never invented
    stream.close()  # a second close must not record twice
    assert len(otel.finished()) == 1


def test_stream_with_exit_and_user_exception(otel: Otel, fake: FakeOpenAI) -> None:
    client = fake.client()
    with pytest.raises(KeyError), client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES,
                                                                  stream=True) as s:
        for _ in s:
            raise KeyError("application bug")
    (span,) = otel.finished()
    assert span.end_time is not None


def test_stream_broken_mid_way(otel: Otel, fake: FakeOpenAI) -> None:
    import openai

    fake.break_stream_after = 2
    stream = fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    # what the SDK itself raises: 3.x wraps the transport error, 2.x lets httpx's ReadError through
    expected = openai.APIConnectionError if OPENAI_MAJOR >= 3 else http.ReadError
    with pytest.raises(expected) as raised:
        for _ in stream:
            pass
    assert type(raised.value) is expected
    (span,) = otel.finished()
    assert span.status.status_code.name == "ERROR"
    assert span.attributes["error.type"] == f"{http.__name__ if OPENAI_MAJOR < 3 else 'openai'}.{expected.__qualname__}"
    assert otel.metric_sum("gen_ai.client.cost") == 0


def test_abandoned_stream_is_finished_on_gc(otel: Otel, fake: FakeOpenAI) -> None:
    stream = fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    next(stream)
    del stream
    gc.collect()
    assert len(otel.finished()) == 1


# gpt-5 list prices (USD per 1M): input 1.25, cached input 0.125, output 10; flex is half of that, priority double
GPT_5_COST = ((PROMPT - CACHED) * 1.25 + CACHED * 0.125 + COMPLETION * 10) / 1e6


@pytest.mark.parametrize(("tier", "multiplier"), [(None, 1.0), ("flex", 0.5), ("priority", 2.0)])
@pytest.mark.parametrize("surface", ["chat", "chat-stream", "responses"])
def test_service_tier_sets_the_price(otel: Otel, fake: FakeOpenAI, tier: str | None, multiplier: float,
                                     surface: str) -> None:
    client = fake.client()
    kwargs = {} if tier is None else {"service_tier": tier}
    if surface == "chat":
        client.chat.completions.create(model="gpt-5", messages=MESSAGES, **kwargs)
    elif surface == "chat-stream":
        list(client.chat.completions.create(model="gpt-5", messages=MESSAGES, stream=True, **kwargs))
    else:
        client.responses.create(model="gpt-5", input="Capital of France?", **kwargs)
    (span,) = otel.finished()
    assert span.attributes["openai.response.service_tier"] == (tier or "default")
    assert span.attributes.get("openai.request.service_tier") == tier
    assert span.attributes["gen_ai.usage.reasoning.output_tokens"] == REASONING
    assert span.attributes["gen_ai.usage.cost.amount"] == pytest.approx(GPT_5_COST * multiplier, rel=1e-12)
    _assert_invariant(otel)


def test_audio_and_image_tokens_are_read(otel: Otel, fake: FakeOpenAI) -> None:
    fake.extra_usage = {"prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 1200, "image_tokens": 0},
                        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 250}}
    fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    (span,) = otel.finished()
    assert span.attributes["gen_ai.usage.input_tokens"] == PROMPT
    assert "gen_ai.usage.cache_read.input_tokens" in span.attributes
    assert otel.metric_sum("gen_ai.client.inference.usage.input_tokens", **{"gen_ai.token.modality": "text"}) == PROMPT
    fake.extra_usage = {"prompt_tokens": 800, "prompt_tokens_details": {"cached_tokens": 0, "image_tokens": 800}}
    fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert otel.metric_sum("gen_ai.client.inference.usage.input_tokens", **{"gen_ai.token.modality": "image"}) == 800
