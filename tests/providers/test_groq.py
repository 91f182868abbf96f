"""What is Groq's own (the shared suite covers the rest): streamed usage read from ``x_groq.usage``, nothing added
to the request (the SDK has no ``stream_options``), its service tiers, request parameters, embeddings."""

from __future__ import annotations

import asyncio

import cases  # noqa: F401  (the simulated APIs' path)
import pytest
from fake_groq import CACHED, COMPLETION, LLAMA_COST, MODEL, PROMPT, FakeGroq

from conversation import MESSAGES
from telemetry_fixtures import Otel


def test_streamed_usage_comes_from_x_groq(otel: Otel) -> None:
    fake = FakeGroq()
    chunks = list(fake.client().chat.completions.create(model=MODEL, messages=MESSAGES, stream=True))
    assert chunks[-1].usage is None and chunks[-1].x_groq.usage.prompt_tokens == PROMPT  # the SDK's own shape
    assert len(chunks) == 4  # nothing hidden, nothing added
    assert "stream_options" not in fake.requests[0]  # nothing added to the request either
    (span,) = otel.finished()
    assert span.name == f"chat {MODEL}"
    assert span.attributes["gen_ai.provider.name"] == "groq"
    assert span.attributes["server.address"] == "api.groq.com"
    assert span.attributes["gen_ai.response.model"] == MODEL
    assert span.attributes["gen_ai.response.id"] == "chatcmpl-groq1"
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert span.attributes["gen_ai.usage.input_tokens"] == PROMPT
    assert span.attributes["gen_ai.usage.output_tokens"] == COMPLETION
    assert span.attributes["gen_ai.usage.cache_read.input_tokens"] == CACHED
    assert span.attributes["gen_ai.usage.cost.amount"] == pytest.approx(LLAMA_COST)
    assert span.attributes["gen_ai.response.time_to_first_chunk"] > 0


def test_request_parameters_and_tier(otel: Otel) -> None:
    FakeGroq().client().chat.completions.create(model=MODEL, messages=MESSAGES, temperature=0.2, max_tokens=64,
                                                 stop=["\n"], seed=7, service_tier="flex")
    (span,) = otel.finished()
    assert span.attributes["gen_ai.request.temperature"] == 0.2
    assert span.attributes["gen_ai.request.max_tokens"] == 64
    assert span.attributes["gen_ai.request.seed"] == 7
    assert span.attributes["gen_ai.request.stop_sequences"] == ("\n",)
    assert span.attributes["llm_cost.service_tier"] == "flex"
    assert span.attributes["gen_ai.usage.cost.amount"] == pytest.approx(LLAMA_COST)


def test_embeddings(otel: Otel) -> None:
    async def main() -> None:
        await FakeGroq().async_client().embeddings.create(model="nomic-embed-text-v1_5", input="hi")

    asyncio.run(main())
    (span,) = otel.finished()
    assert span.attributes["gen_ai.operation.name"] == "embeddings"
    assert span.attributes["gen_ai.usage.input_tokens"] == 9
    assert "gen_ai.usage.output_tokens" not in span.attributes
