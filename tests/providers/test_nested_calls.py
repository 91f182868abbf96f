"""Nested instrumented calls (an instrumented outer SDK calling an instrumented inner one, as LiteLLM calls the
openai SDK): exactly one record with the cost per logical call. The outermost layer records: it is the call the
application made (its model name, its provider routing, its retries under one span); the inner layers step aside.

Also the contract's other surface kinds on a toy SDK: module-level functions, async functions, a client factory,
dict-shaped responses."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import cases  # noqa: F401  (puts the simulated APIs on the path)
import pytest
import toy_outer_sdk
from fake_openai import CACHED, COMPLETION, GPT_4O_MINI_COST, PROMPT, FakeOpenAI

from conversation import MESSAGES
from otel_llm_cost.core.contract import ClientFactory, Fixed, ProviderSpec, Reads, Server, Surface
from otel_llm_cost.core.provider import SpecInstrumentor
from otel_llm_cost.providers.openai import CHAT_USAGE
from telemetry_fixtures import Otel

_READS = Reads(usage=CHAT_USAGE, finish="choices[].finish_reason")
TOY = ProviderSpec(
    name="toy", provider=Fixed("openai"), server=Server(client=None),
    surfaces=(Surface("toy_outer_sdk", None, sync=("complete", "stream"), async_=("acomplete",), reads=_READS),
              ClientFactory("toy_outer_sdk", "Factory", "create_client", sync=("converse",), reads=_READS,
                            server=Server(client=""), accepts=lambda client: client.service == "chat")))


class ToyInstrumentor(SpecInstrumentor):
    spec = TOY


@pytest.fixture
def toy(otel: Otel) -> Iterator[ToyInstrumentor]:
    instrumentor = ToyInstrumentor()
    instrumentor.instrument(tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider)
    yield instrumentor
    instrumentor.uninstrument()


def _one_record(otel: Otel, response_id: str) -> None:
    (span,) = otel.finished()
    assert span.attributes["gen_ai.response.id"] == response_id
    assert span.attributes["gen_ai.usage.input_tokens"] == PROMPT
    assert span.attributes["gen_ai.usage.output_tokens"] == COMPLETION
    assert span.attributes["gen_ai.usage.cache_read.input_tokens"] == CACHED
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert span.attributes["gen_ai.usage.cost.amount"] == pytest.approx(GPT_4O_MINI_COST)
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(GPT_4O_MINI_COST)
    assert otel.metric_count("gen_ai.client.operation.duration") == 1


def test_the_outer_layer_records_once(otel: Otel, toy: ToyInstrumentor) -> None:
    answer = toy_outer_sdk.complete(model="gpt-4o-mini", messages=MESSAGES, client=FakeOpenAI().client())
    assert answer["id"] == "toy-chatcmpl-abc123"  # the outer SDK's own answer, unchanged
    _one_record(otel, "toy-chatcmpl-abc123")


def test_async_outer_call_records_once(otel: Otel, toy: ToyInstrumentor) -> None:
    asyncio.run(toy_outer_sdk.acomplete(model="gpt-4o-mini", messages=MESSAGES, client=FakeOpenAI().async_client()))
    _one_record(otel, "toy-chatcmpl-abc123")


def test_a_request_the_outer_stream_starts_lazily_is_still_one_record(otel: Otel, toy: ToyInstrumentor) -> None:
    """The outer call has returned its stream; the inner request runs while the stream is read: still nested."""
    chunks = list(toy_outer_sdk.stream(model="gpt-4o-mini", messages=MESSAGES, client=FakeOpenAI().client()))
    assert chunks[0]["id"] == "toy-chatcmpl-abc123"
    _one_record(otel, "toy-chatcmpl-abc123")
    FakeOpenAI().client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)  # after it: recorded
    assert len(otel.finished()) == 2


def test_the_inner_sdk_alone_still_records(otel: Otel, toy: ToyInstrumentor) -> None:
    FakeOpenAI().client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    _one_record(otel, "chatcmpl-abc123")


def test_without_the_outer_layer_the_inner_records(otel: Otel, toy: ToyInstrumentor) -> None:
    toy.uninstrument()
    toy_outer_sdk.complete(model="gpt-4o-mini", messages=MESSAGES, client=FakeOpenAI().client())
    _one_record(otel, "chatcmpl-abc123")


def test_an_outer_failure_is_one_record_and_reaches_the_caller(otel: Otel, toy: ToyInstrumentor) -> None:
    fake = FakeOpenAI()
    fake.fail = (500, {"error": {"message": "boom", "type": "server_error"}})
    with pytest.raises(Exception, match="boom"):
        toy_outer_sdk.complete(model="gpt-4o-mini", messages=MESSAGES, client=fake.client())
    (span,) = otel.finished()
    assert span.attributes["error.type"] == "openai.InternalServerError"


def test_clients_made_by_a_factory_are_instrumented(otel: Otel, toy: ToyInstrumentor) -> None:
    chat = toy_outer_sdk.Factory().create_client("chat", FakeOpenAI().client())
    answer = chat.converse(model="gpt-4o-mini", messages=MESSAGES)
    assert answer["model"] == "gpt-4o-mini-2024-07-18"
    _one_record(otel, "toy-chatcmpl-abc123")


def test_a_factory_client_it_does_not_accept_is_left_alone(otel: Otel, toy: ToyInstrumentor) -> None:
    other = toy_outer_sdk.Factory().create_client("embed", FakeOpenAI().client())
    assert "converse" not in vars(other)  # nothing wrapped on it
    other.converse(model="gpt-4o-mini", messages=MESSAGES)
    _one_record(otel, "toy-chatcmpl-abc123")  # recorded once, by the module function it calls
