"""The real anthropic SDK against a simulated API: every surface, sync and async, streamed and not."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from typing import Any

import pytest
from fake_anthropic import CACHE_1H, CACHE_5M, CACHE_READ, INPUT, OUTPUT, SEARCHES, THINKING, FakeAnthropic
from pydantic import BaseModel

from conversation import MESSAGES
from telemetry_fixtures import Otel

TOTAL_INPUT = INPUT + CACHE_5M + CACHE_1H + CACHE_READ
# claude-sonnet-4-5 public prices, USD per 1M tokens: input 3, 5-min cache write 3.75, 1-hour cache write 6,
# cache read 0.30, output 15; web search 10 USD per 1000 searches.
SONNET_TOKENS = (INPUT * 3 + CACHE_5M * 3.75 + CACHE_1H * 6 + CACHE_READ * 0.30 + OUTPUT * 15) / 1e6
SONNET_COST = SONNET_TOKENS + SEARCHES * 10 / 1000  # = 0.0321 + 0.02 = 0.0521


class Answer(BaseModel):
    answer: str


# the SDK warns that claude-sonnet-4-5 (the model with a long-context tier) is deprecated
pytestmark = pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning")


def assert_priced(otel: Otel, *, count: int = 1, stream: bool = False, model: str = "claude-sonnet-4-5") -> None:
    spans = otel.finished()
    assert len(spans) == count, [s.name for s in spans]
    for span in spans:
        attrs = dict(span.attributes or {})
        assert span.name == f"chat {model}" and span.kind.name == "CLIENT"
        assert attrs["gen_ai.operation.name"] == "chat"
        assert attrs["gen_ai.provider.name"] == "anthropic"
        assert attrs["server.address"] == "api.anthropic.com"
        assert attrs["gen_ai.request.model"] == model
        assert attrs["gen_ai.response.model"] == "claude-sonnet-4-5-20250929"
        assert attrs["gen_ai.response.id"] == "msg_01XFDUDYJgAACzvnptvVoYEL"
        assert attrs["gen_ai.response.finish_reasons"] == ("end_turn",)
        # the conventions' input total includes the cache reads and writes Anthropic reports apart
        assert attrs["gen_ai.usage.input_tokens"] == TOTAL_INPUT
        assert attrs["gen_ai.usage.output_tokens"] == OUTPUT
        assert attrs["gen_ai.usage.cache_read.input_tokens"] == CACHE_READ
        assert attrs["gen_ai.usage.cache_write.input_tokens"] == CACHE_5M + CACHE_1H
        assert attrs["gen_ai.usage.reasoning.output_tokens"] == THINKING
        assert attrs["gen_ai.usage.cost.amount"] == pytest.approx(SONNET_COST, rel=1e-12)
        assert attrs["gen_ai.usage.cost.source"] == "local"
        assert attrs["llm_cost.cache_read"] == pytest.approx(CACHE_READ * 0.30 / 1e6)
        assert attrs["llm_cost.cache_write"] == pytest.approx((CACHE_5M * 3.75 + CACHE_1H * 6) / 1e6)
        assert attrs["llm_cost.output"] == pytest.approx(OUTPUT * 15 / 1e6)
        assert "gen_ai.system" not in attrs and "llm_cost.unpriced_reason" not in attrs
        assert ("gen_ai.request.stream" in attrs) == stream
        if stream:
            assert 0 <= attrs["gen_ai.response.time_to_first_chunk"] < 5
    assert_invariant(otel)
    assert otel.metric_sum("gen_ai.client.token.usage", **{"gen_ai.token.type": "input"}) == count * TOTAL_INPUT
    assert otel.metric_sum("gen_ai.client.inference.usage.cache_write.input_tokens") == count * (CACHE_5M + CACHE_1H)
    assert otel.metric_sum("gen_ai.client.inference.usage.reasoning.output_tokens") == count * THINKING


def assert_invariant(otel: Otel) -> None:
    total = sum(s.attributes.get("gen_ai.usage.cost.amount", 0.0) for s in otel.finished())
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(total, rel=1e-12, abs=1e-18)
    assert otel.metric_sum("gen_ai.client.operation.cost") == pytest.approx(total, rel=1e-12, abs=1e-18)


def run(is_async: bool, sync: Callable[[], Any], coro: Callable[[], Any]) -> Any:
    return asyncio.run(coro()) if is_async else sync()


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("beta", [False, True], ids=["messages", "beta"])
def test_create(otel: Otel, fake: FakeAnthropic, is_async: bool, beta: bool) -> None:
    kw: dict[str, Any] = {"betas": ["context-1m-2025-08-07"]} if beta else {}

    def api(client: Any) -> Any:
        return client.beta.messages if beta else client.messages

    async def acall() -> Any:
        return await api(fake.async_client()).create(model="claude-sonnet-4-5", max_tokens=1024, messages=MESSAGES,
                                                     stop_sequences=["</answer>"], **kw)

    result = run(is_async, lambda: api(fake.client()).create(
        model="claude-sonnet-4-5", max_tokens=1024, messages=MESSAGES, stop_sequences=["</answer>"], **kw), acall)
    assert type(result).__name__ == ("BetaMessage" if beta else "Message")
    assert result.content[-1].text == '{"answer": "Paris"}'
    assert_priced(otel)
    (span,) = otel.finished()
    assert span.attributes["gen_ai.request.max_tokens"] == 1024
    assert span.attributes["gen_ai.request.stop_sequences"] == ("</answer>",)
    if beta:
        assert fake.requests[-1][2]["anthropic-beta"] == "context-1m-2025-08-07"


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("beta", [False, True], ids=["messages", "beta"])
def test_create_stream(otel: Otel, fake: FakeAnthropic, is_async: bool, beta: bool) -> None:
    def api(client: Any) -> Any:
        return client.beta.messages if beta else client.messages

    def sync() -> list[Any]:
        return list(api(fake.client()).create(model="claude-sonnet-4-5", max_tokens=1024, messages=MESSAGES,
                                              stream=True))

    async def acall() -> list[Any]:
        stream = await api(fake.async_client()).create(model="claude-sonnet-4-5", max_tokens=1024,
                                                       messages=MESSAGES, stream=True)
        return [e async for e in stream]

    events = run(is_async, sync, acall)
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"  # the SDK drops the pings
    assert events[0].message.usage.output_tokens == 1  # the placeholder the API sends first
    assert_priced(otel, stream=True)
    assert otel.metric_count("gen_ai.client.operation.time_to_first_chunk") == 1


@pytest.mark.parametrize("how", ["iterate", "text_stream", "get_final_message", "until_done"])
@pytest.mark.parametrize("beta", [False, True], ids=["messages", "beta"])
def test_stream_helper_sync(otel: Otel, fake: FakeAnthropic, how: str, beta: bool) -> None:
    client = fake.client()
    api = client.beta.messages if beta else client.messages
    manager = api.stream(model="claude-sonnet-4-5", max_tokens=1024, messages=MESSAGES,
                         thinking={"type": "enabled", "budget_tokens": 512})
    assert otel.finished() == [] and fake.requests == []  # nothing happens before the manager is entered
    with manager as stream:
        if how == "iterate":
            assert "thinking" in [e.type for e in stream]
        elif how == "text_stream":
            assert "".join(stream.text_stream) == '{"answer": "Paris"}'
        elif how == "until_done":
            stream.until_done()
        final = stream.get_final_message()
        assert final.usage.output_tokens == OUTPUT and final.content[0].type == "thinking"
    assert_priced(otel, stream=True)


@pytest.mark.parametrize("beta", [False, True], ids=["messages", "beta"])
def test_stream_helper_async(otel: Otel, fake: FakeAnthropic, beta: bool) -> None:
    async def main() -> None:
        client = fake.async_client()
        api = client.beta.messages if beta else client.messages
        async with api.stream(model="claude-sonnet-4-5", max_tokens=1024, messages=MESSAGES) as stream:
            text = [t async for t in stream.text_stream]
            assert "".join(text) == '{"answer": "Paris"}'
            assert (await stream.get_final_message()).usage.input_tokens == INPUT
        async with api.stream(model="claude-sonnet-4-5", max_tokens=1024, messages=MESSAGES) as stream:
            await stream.get_final_message()

    asyncio.run(main())
    assert_priced(otel, count=2, stream=True)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("beta", [False, True], ids=["messages", "beta"])
def test_parse(otel: Otel, fake: FakeAnthropic, is_async: bool, beta: bool) -> None:
    def api(client: Any) -> Any:
        return client.beta.messages if beta else client.messages

    async def acall() -> Any:
        return await api(fake.async_client()).parse(model="claude-sonnet-4-5", max_tokens=1024, messages=MESSAGES,
                                                    output_format=Answer)

    parsed = run(is_async, lambda: api(fake.client()).parse(model="claude-sonnet-4-5", max_tokens=1024,
                                                            messages=MESSAGES, output_format=Answer), acall)
    assert parsed.parsed_output == Answer(answer="Paris")
    assert_priced(otel)


def test_count_tokens_has_no_span_and_no_cost(otel: Otel, fake: FakeAnthropic) -> None:
    client = fake.client()
    assert client.messages.count_tokens(model="claude-sonnet-4-5", messages=MESSAGES).input_tokens == 42
    assert client.beta.messages.count_tokens(model="claude-sonnet-4-5", messages=MESSAGES).input_tokens == 42
    assert otel.finished() == []
    assert otel.metric_sum("gen_ai.client.cost") == 0 and otel.metric_sum("gen_ai.client.operation.unpriced") == 0


def test_raw_response_variants(otel: Otel, fake: FakeAnthropic) -> None:
    client = fake.client()
    raw = client.messages.with_raw_response.create(model="claude-sonnet-4-5", max_tokens=10, messages=MESSAGES)
    assert raw.headers["request-id"] == "req_011CV1" and raw.parse().usage.input_tokens == INPUT
    raw_stream = client.messages.with_raw_response.create(model="claude-sonnet-4-5", max_tokens=10,
                                                          messages=MESSAGES, stream=True)
    assert list(raw_stream.parse())[-1].type == "message_stop"
    with client.messages.with_streaming_response.create(model="claude-sonnet-4-5", max_tokens=10,
                                                        messages=MESSAGES) as resp:
        assert resp.parse().stop_reason == "end_turn"
    spans = otel.finished()
    assert len(spans) == 3
    assert all(s.attributes["gen_ai.usage.cost.amount"] == pytest.approx(SONNET_COST) for s in spans)


def test_stream_early_close_prices_what_was_reported(otel: Otel, fake: FakeAnthropic) -> None:
    stream = fake.client().messages.create(model="claude-sonnet-4-5", max_tokens=10, messages=MESSAGES, stream=True)
    assert next(stream).type == "message_start"
    stream.close()
    stream.close()  # a second close records nothing more
    (span,) = otel.finished()
    # message_start reported the input and cache counts (exact) and a placeholder output count (a lower bound);
    # nothing else is invented
    assert span.attributes["gen_ai.usage.input_tokens"] == TOTAL_INPUT
    assert span.attributes["gen_ai.usage.output_tokens"] == 1
    assert "gen_ai.usage.reasoning.output_tokens" not in span.attributes
    assert span.attributes["gen_ai.usage.cost.amount"] == pytest.approx(
        (INPUT * 3 + CACHE_5M * 3.75 + CACHE_1H * 6 + CACHE_READ * 0.30 + 1 * 15) / 1e6)
    assert "gen_ai.response.finish_reasons" not in span.attributes


def test_exception_inside_stream_helper(otel: Otel, fake: FakeAnthropic) -> None:
    with pytest.raises(KeyError, match="application bug"), fake.client().messages.stream(
            model="claude-sonnet-4-5", max_tokens=10, messages=MESSAGES) as stream:
        for event in stream:
            if event.type == "content_block_delta":
                raise KeyError("application bug")
    (span,) = otel.finished()
    assert span.end_time is not None
    assert "error.type" not in span.attributes  # the API call itself did not fail
    assert span.attributes["gen_ai.usage.input_tokens"] == TOTAL_INPUT


def test_exception_inside_async_stream_helper(otel: Otel, fake: FakeAnthropic) -> None:
    async def main() -> None:
        async with fake.async_client().messages.stream(model="claude-sonnet-4-5", max_tokens=10,
                                                       messages=MESSAGES) as stream:
            async for _ in stream:
                raise KeyError("application bug")

    with pytest.raises(KeyError):
        asyncio.run(main())
    (span,) = otel.finished()
    assert span.end_time is not None and "error.type" not in span.attributes


def test_never_entered_stream_manager_records_nothing(otel: Otel, fake: FakeAnthropic) -> None:
    manager = fake.client().messages.stream(model="claude-sonnet-4-5", max_tokens=10, messages=MESSAGES)
    del manager
    gc.collect()
    assert otel.finished() == [] and otel.metric_sum("gen_ai.client.operation.unpriced") == 0


def test_abandoned_stream_is_finished_on_gc(otel: Otel, fake: FakeAnthropic) -> None:
    stream = fake.client().messages.create(model="claude-sonnet-4-5", max_tokens=10, messages=MESSAGES, stream=True)
    next(stream)
    del stream
    gc.collect()
    assert len(otel.finished()) == 1


@pytest.mark.parametrize("stream", [False, True])
def test_tool_runner_records_every_model_turn(otel: Otel, fake: FakeAnthropic, stream: bool) -> None:
    client = fake.client()
    if not hasattr(client.beta.messages, "tool_runner"):
        pytest.skip("this anthropic version has no tool runner")
    from anthropic import beta_tool

    @beta_tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"Sunny in {city}"

    runner = client.beta.messages.tool_runner(model="claude-sonnet-4-5", max_tokens=1024, messages=MESSAGES,
                                              tools=[get_weather], stream=stream)
    final = runner.until_done()
    assert final.stop_reason == "end_turn"
    # the tool turn, then the answer: two API calls, both through beta.messages.create, both priced
    spans = otel.finished()
    assert [s.attributes["gen_ai.response.finish_reasons"] for s in spans] == [("tool_use",), ("end_turn",)]
    assert all(s.attributes["gen_ai.usage.cost.amount"] == pytest.approx(SONNET_COST) for s in spans)
