"""What is Cohere's own (the shared suite runs v2 and v1 chat through every behaviour test): the call is priced from
``billed_units`` while the span shows the raw ``tokens``; embed and rerank on both API versions, sync and async;
rerank billed per search unit; v1 embed's batches counted once; ``chat_stream`` sends nothing until iterated; a
response without usage is unpriced with a reason; errors reach the caller unchanged."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import cohere
import fake_cohere as fake
import pytest
from fake_cohere import FakeCohere

import otel_llm_cost
from conversation import MESSAGES
from telemetry_fixtures import Otel

COST, INPUT, OUTPUT = "gen_ai.usage.cost.amount", "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"
CACHE_READ, UNPRICED = "gen_ai.usage.cache_read.input_tokens", "llm_cost.unpriced_reason"
DOCUMENTS = ["Paris is the capital of France.", "Berlin is the capital of Germany.", "Lyon is in France."]
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _run(call: Any) -> Any:
    return asyncio.run(call) if asyncio.iscoroutine(call) else call


def _client(f: FakeCohere, version: str, is_async: bool) -> Any:
    if version == "v2":
        return f.async_client() if is_async else f.client()
    return f.v1_async_client() if is_async else f.v1_client()


# -- billed units vs raw tokens -------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_priced_from_billed_units_with_the_raw_tokens_on_the_span(otel: Otel, stream: bool) -> None:
    client = FakeCohere().client()
    if stream:
        events = list(client.chat_stream(model=fake.CHAT_MODEL, messages=MESSAGES, temperature=0.3, max_tokens=256,
                                         p=0.9, k=40, stop_sequences=["\n\n"], seed=7))
        assert [e.type for e in events][-1] == "message-end"  # the SDK's own events, all of them
    else:
        client.chat(model=fake.CHAT_MODEL, messages=MESSAGES, temperature=0.3, max_tokens=256, p=0.9, k=40,
                    stop_sequences=["\n\n"], seed=7)
    (span,) = otel.finished()
    a = span.attributes
    assert span.name == f"chat {fake.CHAT_MODEL}"
    assert a["gen_ai.provider.name"] == "cohere"
    assert a["server.address"] == "api.cohere.com"
    assert a.get("gen_ai.request.stream", False) is stream
    # the tokens the model saw (prompt template included) and the cached subset...
    assert (a[INPUT], a[OUTPUT], a[CACHE_READ]) == (fake.TOKENS_IN, fake.OUTPUT, fake.CACHED)
    # ... but the cost of what Cohere bills: command-a-03-2025 at USD 2.50 / 10.00 per 1M, 1200 billed input tokens
    assert a[COST] == pytest.approx((1200 * 2.50 + 180 * 10.00) / 1e6)
    assert a["gen_ai.response.finish_reasons"] == ("COMPLETE",)
    assert a["gen_ai.response.id"]
    assert (a["gen_ai.request.temperature"], a["gen_ai.request.top_p"], a["gen_ai.request.top_k"]) == (0.3, 0.9, 40)
    assert (a["gen_ai.request.max_tokens"], a["gen_ai.request.seed"]) == (256, 7)
    assert a["gen_ai.request.stop_sequences"] == ("\n\n",)
    assert otel.metric_sum("gen_ai.client.inference.usage.input_tokens") == fake.TOKENS_IN
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(fake.CHAT_COST)


def test_v1_chat_command_r_plus_golden(otel: Otel) -> None:
    FakeCohere().v1_client().chat(model="command-r-plus-08-2024", message="Capital of France?")
    (span,) = otel.finished()
    # Command R+ 08-2024: USD 2.50 input, 10.00 output per 1M tokens, on the billed units (1200 in, 180 out)
    assert span.attributes[COST] == pytest.approx((1200 * 2.50 + 180 * 10.00) / 1e6)
    assert span.attributes[INPUT] == fake.TOKENS_IN
    assert span.attributes["gen_ai.response.id"] == "0d2b3c5e-6f1a-4b7c-8d9e-0a1b2c3d4e5f"


def test_only_billed_units_reported_are_the_counts_on_the_span(otel: Otel) -> None:
    f = FakeCohere()
    f.usage_body = {"billed_units": {"input_tokens": 300, "output_tokens": 20}}
    f.client().chat(model="command-r-08-2024", messages=MESSAGES)
    (span,) = otel.finished()
    assert (span.attributes[INPUT], span.attributes[OUTPUT]) == (300, 20)
    assert CACHE_READ not in span.attributes
    # Command R 08-2024: USD 0.15 input, 0.60 output per 1M tokens
    assert span.attributes[COST] == pytest.approx((300 * 0.15 + 20 * 0.60) / 1e6)


def test_a_fractional_count_is_never_priced(otel: Otel) -> None:
    """The SDK types counts as floats; a whole float is a count, anything else is not one (nothing invented)."""
    f = FakeCohere()
    f.usage_body = {"billed_units": {"input_tokens": 12.5, "output_tokens": 3.25}}
    f.client().chat(model=fake.CHAT_MODEL, messages=MESSAGES)
    (span,) = otel.finished()
    assert COST not in span.attributes
    assert span.attributes[UNPRICED] == "no_usage"


# -- no usage ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v2", "v1"])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_no_usage_is_unpriced_with_a_reason(otel: Otel, version: str, stream: bool) -> None:
    f = FakeCohere()
    f.usage_body = None
    client = _client(f, version, False)
    kwargs: dict[str, Any] = {"messages": MESSAGES} if version == "v2" else {"message": "Capital of France?"}
    if stream:
        list(client.chat_stream(model=fake.CHAT_MODEL, **kwargs))
    else:
        client.chat(model=fake.CHAT_MODEL, **kwargs)
    (span,) = otel.finished()
    assert COST not in span.attributes and INPUT not in span.attributes
    assert span.attributes[UNPRICED] == "no_usage"
    assert otel.metric_sum("gen_ai.client.operation.unpriced") == 1
    assert otel.metric_sum("gen_ai.client.cost") == 0


@pytest.mark.parametrize("operation", ["embed", "rerank"])
def test_embed_and_rerank_without_meta_are_unpriced(otel: Otel, operation: str) -> None:
    f = FakeCohere()
    f.embed_meta = f.rerank_meta = None
    client = f.client()
    if operation == "embed":
        client.embed(model=fake.EMBED_MODEL, texts=["hi"], input_type="search_document", embedding_types=["float"])
    else:
        client.rerank(model=fake.RERANK_MODEL, query="capital of France", documents=DOCUMENTS)
    (span,) = otel.finished()
    assert span.attributes[UNPRICED] == "no_usage"


# -- embed and rerank, v2 and v1, sync and async --------------------------------------------------------------


def _embed(client: Any, version: str, texts: list[str]) -> Any:
    if version == "v2":
        return client.embed(model=fake.EMBED_MODEL, texts=texts, input_type="search_document",
                            embedding_types=["float"])
    return client.embed(model=fake.EMBED_MODEL, texts=texts, input_type="search_document")


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("version", ["v2", "v1"])
def test_embed(otel: Otel, version: str, is_async: bool) -> None:
    f = FakeCohere()
    result = _run(_embed(_client(f, version, is_async), version, ["Paris", "Berlin"]))
    assert result.texts == ["Paris", "Berlin"]  # the SDK's own answer
    (span,) = otel.finished()
    a = span.attributes
    assert span.name == f"embeddings {fake.EMBED_MODEL}"
    assert a["gen_ai.operation.name"] == "embeddings"
    assert a[INPUT] == fake.EMBED_TOKENS and OUTPUT not in a
    # Embed 4: USD 0.12 per 1M input tokens
    assert a[COST] == pytest.approx(24 * 0.12 / 1e6)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_v1_embed_batches_are_one_call(otel: Otel, is_async: bool) -> None:
    """v1 ``Client.embed`` sends 96 texts per request (on a thread pool, or gathered tasks) and merges the answers:
    one logical call, one record, billed for every batch, never counted per batch as well."""
    f = FakeCohere()
    texts = [f"text {i}" for i in range(100)]
    result = _run(_embed(_client(f, "v1", is_async), "v1", texts))
    assert len(result.embeddings) == 100
    assert len(f.requests) == 2  # two batches went out
    (span,) = otel.finished()
    assert span.attributes[INPUT] == 2 * fake.EMBED_TOKENS  # the merged meta: both batches' billed tokens
    assert span.attributes[COST] == pytest.approx(2 * 24 * 0.12 / 1e6)
    assert otel.metric_count("gen_ai.client.operation.duration") == 1


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("version", ["v2", "v1"])
def test_rerank_is_billed_per_search_unit(otel: Otel, version: str, is_async: bool) -> None:
    f = FakeCohere()
    client = _client(f, version, is_async)
    result = _run(client.rerank(model=fake.RERANK_MODEL, query="capital of France", documents=DOCUMENTS, top_n=3))
    assert len(result.results) == 3
    (span,) = otel.finished()
    a = span.attributes
    assert span.name == f"rerank {fake.RERANK_MODEL}"
    assert a["gen_ai.operation.name"] == "rerank"
    assert INPUT not in a and OUTPUT not in a  # no tokens reported, none invented
    # Rerank 3.5: USD 2.00 per 1K searches, 3 search units billed
    assert a[COST] == pytest.approx(3 * 2.00 / 1000)
    assert a["llm_cost.input"] == 0 and a["llm_cost.output"] == 0
    assert otel.metric_sum("gen_ai.client.cost", **{"gen_ai.cost.type": "other"}) == pytest.approx(fake.RERANK_COST)


def test_rerank_on_a_model_without_a_search_price_is_unpriced(otel: Otel) -> None:
    FakeCohere().client().rerank(model="rerank-v9.9-imaginary", query="q", documents=DOCUMENTS)
    (span,) = otel.finished()
    assert COST not in span.attributes
    assert span.attributes[UNPRICED] == "unknown_model"  # never a silent $0


# -- streams, errors, clients ------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v2", "v1"])
def test_chat_stream_sends_nothing_until_iterated(otel: Otel, version: str) -> None:
    f = FakeCohere()
    client = _client(f, version, False)
    kwargs: dict[str, Any] = {"messages": MESSAGES} if version == "v2" else {"message": "Capital of France?"}
    events = client.chat_stream(model=fake.CHAT_MODEL, **kwargs)
    assert f.requests == []
    assert otel.finished() == []
    items = list(events)
    assert len(items) >= 4 and len(f.requests) == 1
    (span,) = otel.finished()
    assert span.attributes["gen_ai.request.stream"] is True
    assert span.attributes[COST] == pytest.approx(fake.CHAT_COST)
    assert span.attributes["gen_ai.response.time_to_first_chunk"] > 0


def test_async_v1_stream(otel: Otel) -> None:
    async def main() -> list[Any]:
        client = FakeCohere().v1_async_client()
        return [e async for e in client.chat_stream(model=fake.V1_MODEL, message="Capital of France?")]

    events = asyncio.run(main())
    assert events[-1].event_type == "stream-end"
    (span,) = otel.finished()
    assert span.attributes["gen_ai.response.finish_reasons"] == ("COMPLETE",)
    assert span.attributes[COST] == pytest.approx(fake.CHAT_COST)


@pytest.mark.parametrize("operation", ["embed", "rerank"])
@pytest.mark.parametrize("version", ["v2", "v1"])
def test_errors_reach_the_caller_unchanged(otel: Otel, version: str, operation: str) -> None:
    f = FakeCohere()
    f.fail = fake.rate_limited()

    def call() -> Any:
        client = _client(f, version, False)
        if operation == "embed":
            return _embed(client, version, ["hi"])
        return client.rerank(model=fake.RERANK_MODEL, query="q", documents=DOCUMENTS)

    otel_llm_cost.uninstrument()
    with pytest.raises(cohere.TooManyRequestsError) as bare:
        call()
    otel.reinstrument()
    with pytest.raises(cohere.TooManyRequestsError) as seen:
        call()
    assert (seen.value.status_code, seen.value.body) == (bare.value.status_code, bare.value.body)
    (span,) = otel.finished()
    assert span.attributes["error.type"].endswith("TooManyRequestsError")
    assert COST not in span.attributes and UNPRICED not in span.attributes


def test_the_v2_client_of_a_v1_client(otel: Otel) -> None:
    """``Client().v2`` is a plain ``V2Client``: wrapped where the methods are defined, its server found too."""
    FakeCohere().v1_client().v2.chat(model=fake.CHAT_MODEL, messages=MESSAGES)
    (span,) = otel.finished()
    assert span.attributes["server.address"] == "api.cohere.com"
    assert span.attributes[COST] == pytest.approx(fake.CHAT_COST)


def test_a_custom_base_url_is_the_server(otel: Otel) -> None:
    FakeCohere().client(base_url="https://cohere.internal.example:8443").chat(model=fake.CHAT_MODEL,
                                                                            messages=MESSAGES)
    (span,) = otel.finished()
    assert (span.attributes["server.address"], span.attributes["server.port"]) == ("cohere.internal.example", 8443)


@pytest.mark.parametrize("order", ["peer-first", "ours-first"])
def test_every_surface_with_openllmetry_has_one_span_with_the_cost(order: str) -> None:
    """OpenLLMetry patches the subclasses (``ClientV2``, ``Client``) where we patch the defining classes: we go
    inside its wrappers, whichever instruments first, and put the cost on its span (the shared suite holds the
    totals for chat; this, every surface)."""
    pytest.importorskip("opentelemetry.instrumentation.cohere")
    here = Path(__file__).resolve().parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(here), str(here.parent)])}
    out = subprocess.run([sys.executable, str(here / "cohere_peer_app.py"), order], env=env, timeout=120,
                         capture_output=True, text=True, check=True).stdout
    spans = json.loads(out.strip().splitlines()[-1])
    assert [scope for _, scope, _ in spans] == ["opentelemetry.instrumentation.cohere"] * 8  # theirs, one a call
    chat = fake.CHAT_COST
    assert [cost for *_, cost in spans] == pytest.approx(
        [chat, chat, fake.EMBED_COST, fake.RERANK_COST, chat, chat, 2 * fake.EMBED_COST, fake.RERANK_COST])
