"""Regressions from fuzzing (issue 11): what the application sees is never changed by the instrumentation.

Each test runs a call the way an app does and checks both what the app got (compared with the same call
uninstrumented where that matters) and that the call's span ended once with its usage.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from fake_openai import COMPLETION, PROMPT, FakeOpenAI

import openai
import otel_llm_cost
from conversation import MESSAGES
from telemetry_fixtures import Otel


def _dumps(chunks: list[Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """What an app can see of each chunk: its full dump and its dump of the fields the API sent."""
    return [(c.model_dump(), c.model_dump(exclude_unset=True)) for c in chunks]


def _uninstrumented(otel: Otel, call: Any) -> Any:
    """``call()`` as the application sees it without any instrumentation."""
    otel_llm_cost.uninstrument()
    try:
        return call()
    finally:
        otel.reinstrument()


def _ended_with_usage(otel: Otel) -> None:
    (span,) = otel.finished()
    assert span.attributes["gen_ai.usage.input_tokens"] == PROMPT
    assert span.attributes["gen_ai.usage.output_tokens"] == COMPLETION
    assert span.attributes["gen_ai.usage.cost.amount"] > 0


# -- 1. async raw-response streams ---------------------------------------------------------------------

def test_async_raw_response_stream_parse_is_synchronous_like_the_sdk(otel: Otel, fake: FakeOpenAI) -> None:
    async def main() -> list[Any]:
        raw = await fake.async_client().chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True)
        stream = raw.parse()  # the SDK's async raw response parses synchronously
        assert isinstance(stream, openai.AsyncStream)
        return [chunk async for chunk in stream]

    chunks = asyncio.run(main())
    assert [c.choices[0].delta.content for c in chunks] == ["", "{\"answer\": ", "\"Paris\"}", None]
    _ended_with_usage(otel)


@pytest.mark.parametrize("is_async", [False, True])
def test_raw_response_stream_parsed_twice_is_the_same_observed_stream(otel: Otel, fake: FakeOpenAI,
                                                                      is_async: bool) -> None:
    async def read_second_async() -> int:
        raw = await fake.async_client().chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True)
        first = raw.parse()
        second = raw.parse()
        assert second is first  # the SDK caches its parsed stream: so do we
        return len([c async for c in second])

    if is_async:
        count = asyncio.run(read_second_async())
    else:
        raw = fake.client().chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES,
                                                                      stream=True)
        first = raw.parse()
        second = raw.parse()
        assert second is first
        count = len(list(second))
    assert count == 4
    _ended_with_usage(otel)


def test_async_streaming_response_parse_is_still_awaited(otel: Otel, fake: FakeOpenAI) -> None:
    async def main() -> int:
        client = fake.async_client()
        async with client.chat.completions.with_streaming_response.create(
                model="gpt-4o-mini", messages=MESSAGES, stream=True) as response:
            stream = await response.parse()
            return len([c async for c in stream])

    assert asyncio.run(main()) == 4
    _ended_with_usage(otel)


def test_uninstrumented_baseline_of_the_async_raw_stream(fake: FakeOpenAI) -> None:
    """The behaviour the instrumented tests above hold us to, without any instrumentation."""
    otel_llm_cost.uninstrument()

    async def main() -> int:
        raw = await fake.async_client().chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True)
        stream = raw.parse()
        assert raw.parse() is stream
        return len([c async for c in stream])

    assert asyncio.run(main()) == 4


# -- 2. the injected stream_options.include_usage never shows -----------------------------------------

@pytest.mark.parametrize(("style", "base_url"), [
    ("openai", None),  # every chunk gets "usage": null once asked: exclude_unset dumps must not change
    ("last_chunk_when_asked", None),  # the usage lands on the last content chunk
    ("empty_chunk_when_asked", None),  # the answer to the option is a chunk without choices and usage null
    ("always", "https://openrouter.ai/api/v1"),  # a usage chunk even unasked: the app keeps it
])
def test_stream_chunks_are_what_the_app_sees_unasked(otel: Otel, fake: FakeOpenAI, style: str,
                                                     base_url: str | None) -> None:
    fake.stream_usage_style = style
    kwargs = {"base_url": base_url} if base_url else {}

    def call() -> list[Any]:
        return list(fake.client(**kwargs).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES,
                                                                  stream=True))

    assert _dumps(call()) == _dumps(_uninstrumented(otel, call))
    spans = otel.finished()
    assert len(spans) == 1
    if style != "empty_chunk_when_asked":  # that provider never reports usage: unpriced, never $0
        assert spans[0].attributes["gen_ai.usage.input_tokens"] == PROMPT
    else:
        assert spans[0].attributes["llm_cost.unpriced_reason"] == "no_usage"


@pytest.mark.parametrize("style", ["openai", "empty_chunk_when_asked"])
def test_a_chunk_without_choices_before_the_finish_reason_is_part_of_the_answer(otel: Otel, fake: FakeOpenAI,
                                                                                  style: str) -> None:
    """Asked for usage, every chunk carries ``"usage": null``: one without choices is the (empty) answer to the
    option only after the finish reason; before it, the app sees it, as it does without us."""
    fake.stream_usage_style = style
    fake.edit_chunks = lambda chunks: [chunks[0], {**chunks[1], "choices": []}, *chunks[2:]]

    def call() -> list[Any]:
        return list(fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))

    chunks = call()
    assert len(chunks) == 4 and chunks[1].choices == []
    assert _dumps(chunks) == _dumps(_uninstrumented(otel, call))


def test_usage_option_is_not_injected_where_its_answer_is_unknown(otel: Otel, fake: FakeOpenAI) -> None:
    list(fake.client(base_url="https://openrouter.ai/api/v1").chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True))
    assert "stream_options" not in fake.requests[-1]
    list(fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    assert fake.requests[-1]["stream_options"] == {"include_usage": True}


# -- 3. stream helpers end their span when they close -------------------------------------------------

def _helper(client: Any, surface: str) -> Any:
    if surface == "chat":
        return client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES)
    return client.responses.stream(model="gpt-4o-mini", input="Capital of France?")


@pytest.mark.parametrize("surface", ["chat", "responses"])
@pytest.mark.parametrize("how", ["left_early", "raised_inside"])
def test_stream_helper_ends_its_span_when_left(otel: Otel, fake: FakeOpenAI, surface: str, how: str) -> None:
    kept = []  # the app keeps the helper: garbage collection must not be what ends the span
    expected = pytest.raises(ValueError) if how == "raised_inside" else contextlib.nullcontext()
    with expected, _helper(fake.client(), surface) as stream:
        kept.append(stream)
        next(iter(stream))
        if how == "raised_inside":
            raise ValueError("the app failed while reading")
    assert len(otel.finished()) == 1
    assert kept


@pytest.mark.parametrize("surface", ["chat", "responses"])
def test_async_stream_helper_ends_its_span_when_left_early(otel: Otel, fake: FakeOpenAI, surface: str) -> None:
    async def main() -> Any:
        async with _helper(fake.async_client(), surface) as stream:
            async for _ in stream:
                break
        return stream

    kept = asyncio.run(main())
    assert len(otel.finished()) == 1
    assert kept


@pytest.mark.parametrize("surface", ["chat", "responses"])
def test_stream_helper_read_to_the_end_is_recorded_once(otel: Otel, fake: FakeOpenAI, surface: str) -> None:
    with _helper(fake.client(), surface) as stream:
        stream.until_done()
    (span,) = otel.finished()
    assert span.attributes["gen_ai.usage.input_tokens"] == PROMPT
    assert otel.metric_count("gen_ai.client.operation.cost") == 1
