"""What is mistralai's own (the shared suite covers chat plain and streamed, errors, concurrency, early-closed
streams): every surface sync and async (chat, parse, FIM, agents, embeddings, OCR, transcription), cached tokens,
the endpoint, request parameters and tiers, streams without usage, golden costs from Mistral's public prices
(https://mistral.ai/pricing; the per-unit prices are in fake_mistral), and the OpenLLMetry peer."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import cases  # noqa: F401  (the simulated APIs' path)
import fake_mistral as fm
import pytest
from case_mistral import openllmetry_peer
from fake_mistral import SERVERS, errors
from pydantic import BaseModel

from conversation import MESSAGES
from otel_llm_cost.core.usage import Usage
from otel_llm_cost.pricing import PriceBook
from telemetry_fixtures import Otel

COST, REASON = "gen_ai.usage.cost.amount", "llm_cost.unpriced_reason"
INPUT, OUTPUT, CACHE_READ = "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", \
    "gen_ai.usage.cache_read.input_tokens"
DOCUMENT = {"type": "document_url", "document_url": "https://example.com/invoice.pdf"}


class Answer(BaseModel):
    answer: str


def _span(otel: Otel) -> Any:
    (span,) = otel.finished()
    return span.attributes


def _run(client: Any, surface: str, is_async: bool) -> Any:
    """One call of ``surface`` on ``client`` (async: through the ``*_async`` method), read to its end."""
    calls = {
        "chat": ("chat", "complete", {"model": fm.SMALL, "messages": MESSAGES}),
        "chat-stream": ("chat", "stream", {"model": fm.SMALL, "messages": MESSAGES}),
        "parse": ("chat", "parse", {"response_format": Answer, "model": fm.SMALL, "messages": MESSAGES}),
        "parse-stream": ("chat", "parse_stream", {"response_format": Answer, "model": fm.SMALL, "messages": MESSAGES}),
        "fim": ("fim", "complete", {"model": fm.CODESTRAL, "prompt": "def add(a, b):", "suffix": "return c"}),
        "fim-stream": ("fim", "stream", {"model": fm.CODESTRAL, "prompt": "def add(a, b):"}),
        "agents": ("agents", "complete", {"agent_id": "ag_01", "messages": MESSAGES}),
        "agents-stream": ("agents", "stream", {"agent_id": "ag_01", "messages": MESSAGES}),
    }
    resource, method, kwargs = calls[surface]
    target = getattr(client, resource)
    if not is_async:
        result = getattr(target, method)(**kwargs)
        return list(result) if "stream" in surface else result

    async def main() -> Any:
        result = await getattr(target, f"{method}_async")(**kwargs)
        return [item async for item in result] if "stream" in surface else result

    return asyncio.run(main())


# surface -> (operation, span name model, cost) for a fake answering with the requested model
_GOLDEN = {
    "chat": ("chat", fm.SMALL, fm.SMALL_COST), "chat-stream": ("chat", fm.SMALL, fm.SMALL_COST),
    "parse": ("chat", fm.SMALL, fm.SMALL_COST), "parse-stream": ("chat", fm.SMALL, fm.SMALL_COST),
    "fim": ("text_completion", fm.CODESTRAL, fm.CODESTRAL_COST),
    "fim-stream": ("text_completion", fm.CODESTRAL, fm.CODESTRAL_COST),
}


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("surface", list(_GOLDEN))
def test_every_completion_surface_is_priced_once_with_its_cached_tokens(otel: Otel, surface: str,
                                                                       is_async: bool) -> None:
    fake = fm.FakeMistral(cached=fm.CACHED)
    client = fake.async_client() if is_async else fake.client()
    result = _run(client, surface, is_async)
    operation, model, cost = _GOLDEN[surface]
    attrs = _span(otel)  # parse goes through complete / stream: one span, one cost
    assert len(fake.requests) == 1
    assert attrs["gen_ai.operation.name"] == operation
    assert attrs["gen_ai.request.model"] == model
    assert attrs["gen_ai.response.model"] == model
    assert attrs["gen_ai.response.id"] == "cmpl-m1"
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["gen_ai.provider.name"] == "mistral_ai"
    assert attrs["server.address"] == "api.mistral.ai"
    assert (attrs[INPUT], attrs[OUTPUT], attrs[CACHE_READ]) == (fm.PROMPT, fm.COMPLETION, fm.CACHED)
    assert attrs[COST] == pytest.approx(cost)
    if surface == "parse":
        assert result.choices[0].message.parsed == Answer(answer="Paris")
    if "stream" in surface:
        assert len(result) == 2 + len(fm.PIECES)  # nothing hidden, nothing added
        assert result[-1].data.usage.prompt_tokens == fm.PROMPT  # the SDK's own shape
        assert attrs["gen_ai.response.time_to_first_chunk"] > 0


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_agents_are_priced_by_the_model_that_answered(otel: Otel, stream: bool, is_async: bool) -> None:
    fake = fm.FakeMistral(cached=fm.CACHED)
    fake.model = fm.LARGE  # an agent's request names no model; its answer does
    _run(fake.async_client() if is_async else fake.client(), "agents-stream" if stream else "agents", is_async)
    attrs = _span(otel)
    assert "gen_ai.request.model" not in attrs
    assert attrs["gen_ai.response.model"] == fm.LARGE
    assert attrs[COST] == pytest.approx(fm.LARGE_CACHED_COST)  # the -latest alias: Large 3, with its cache price


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_embeddings(otel: Otel, is_async: bool) -> None:
    fake = fm.FakeMistral()
    if is_async:
        asyncio.run(fake.async_client().embeddings.create_async(model=fm.EMBED, inputs=["hi"]))
    else:
        fake.client().embeddings.create(model=fm.EMBED, inputs=["hi"])
    attrs = _span(otel)
    assert attrs["gen_ai.operation.name"] == "embeddings"
    assert attrs[INPUT] == fm.EMBED_TOKENS
    assert OUTPUT not in attrs
    assert attrs[COST] == pytest.approx(fm.EMBED_COST)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_ocr_is_priced_per_page(otel: Otel, is_async: bool) -> None:
    fake = fm.FakeMistral()
    if is_async:
        result = asyncio.run(fake.async_client().ocr.process_async(model=fm.OCR_MODEL, document=DOCUMENT))
    else:
        result = fake.client().ocr.process(model=fm.OCR_MODEL, document=DOCUMENT)
    assert result.usage_info.pages_processed == fm.OCR_PAGES
    attrs = _span(otel)
    assert attrs["gen_ai.operation.name"] == "ocr"
    assert INPUT not in attrs  # no tokens: billed by the page
    assert attrs[COST] == pytest.approx(fm.OCR_COST)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_transcription_is_priced_per_audio_minute(otel: Otel, is_async: bool) -> None:
    fake = fm.FakeMistral()
    audio = fake.async_client().audio if is_async else fake.client().audio
    if is_async:
        asyncio.run(audio.transcriptions.complete_async(model=fm.VOXTRAL, file_url="https://example.com/a.mp3"))
    else:
        audio.transcriptions.complete(model=fm.VOXTRAL, file_url="https://example.com/a.mp3")
    attrs = _span(otel)
    assert attrs["gen_ai.operation.name"] == "transcription"
    assert attrs[COST] == pytest.approx(fm.VOXTRAL_COST)  # 90 s at USD 0.003 per minute
    assert INPUT not in attrs  # billed by the minute, not by its tokens


def test_pages_and_audio_without_a_price_are_unpriced_with_a_reason() -> None:
    book = PriceBook()
    ocr = book.cost("mistral_ai", fm.SMALL, Usage(document_pages=3))  # a chat model: no per-page price
    assert not ocr and ocr.reason == "unknown_model" and "per document page" in ocr.detail
    audio = book.cost("mistral_ai", fm.LARGE, Usage(audio_seconds=60))
    assert not audio and "per audio duration" in audio.detail
    # Voxtral Small has token and audio prices: a transcription (audio alone) is charged USD 0.004 per minute
    small = book.cost("mistral_ai", "voxtral-small-latest", Usage(audio_seconds=60))
    assert small and small.total == pytest.approx(0.004)
    assert not book.cost("mistral_ai", fm.OCR_MODEL, Usage())  # nothing reported at all: no usage


def test_an_unknown_ocr_model_is_unpriced(otel: Otel) -> None:
    fm.FakeMistral().client().ocr.process(model="mistral-ocr-2099", document=DOCUMENT)
    attrs = _span(otel)
    assert COST not in attrs and attrs[REASON] == "unknown_model"


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_a_stream_without_usage_is_unpriced_with_a_reason(otel: Otel, is_async: bool) -> None:
    fake = fm.FakeMistral()
    fake.usage = False
    _run(fake.async_client() if is_async else fake.client(), "chat-stream", is_async)
    attrs = _span(otel)
    assert COST not in attrs and INPUT not in attrs
    assert attrs[REASON] == "no_usage"


def test_streams_closed_early_by_with_or_close_are_finished_once(otel: Otel) -> None:
    client = fm.FakeMistral().client()
    with client.chat.stream(model=fm.SMALL, messages=MESSAGES) as events:
        next(iter(events))
    events = client.chat.stream(model=fm.SMALL, messages=MESSAGES)
    next(events)
    if hasattr(events.__class__, "close"):  # mistralai 2.0's EventStream has no close()
        events.close()
        events.close()
    else:
        del events  # abandoned

    async def main() -> None:
        stream = await fm.FakeMistral().async_client().chat.stream_async(model=fm.SMALL, messages=MESSAGES)
        async with stream:
            await stream.__anext__()

    asyncio.run(main())
    spans = otel.finished()
    assert len(spans) == 3
    assert all(s.attributes[REASON] == "no_usage" for s in spans)  # usage comes last: none seen, none invented


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_errors_reach_the_caller_unchanged(otel: Otel, is_async: bool) -> None:
    fake = fm.FakeMistral()
    fake.fail = (400, fm.wire.error(400, "Invalid model: nope"))
    with pytest.raises(errors.SDKError) as raised:
        _run(fake.async_client() if is_async else fake.client(), "fim", is_async)
    assert raised.value.status_code == 400 and "Invalid model" in raised.value.body
    (span,) = otel.finished()
    assert span.attributes["error.type"].endswith("SDKError")
    assert COST not in span.attributes


def test_request_parameters_and_tiers(otel: Otel) -> None:
    fake = fm.FakeMistral()
    fake.service_tier = "priority"
    chat = fake.client().chat
    asked = {"service_tier": "auto"} if "service_tier" in inspect.signature(chat.complete).parameters else {}
    chat.complete(model=fm.SMALL, messages=MESSAGES, temperature=0.2, top_p=0.9, max_tokens=64, stop=["\n"],
                  random_seed=7, presence_penalty=0.1, **asked)
    attrs = _span(otel)
    assert attrs["gen_ai.request.temperature"] == 0.2
    assert attrs["gen_ai.request.top_p"] == 0.9
    assert attrs["gen_ai.request.max_tokens"] == 64
    assert attrs["gen_ai.request.seed"] == 7
    assert attrs["gen_ai.request.presence_penalty"] == 0.1
    assert attrs["gen_ai.request.stop_sequences"] == ("\n",)
    assert attrs["llm_cost.service_tier"] == "priority"  # the tier that served it, from the response's usage


@pytest.mark.parametrize(("kwargs", "host"), [
    ({"server": "eu"}, SERVERS["eu"].split("://", 1)[1]),  # api.eu.mistral.ai (api.mistral.ai before mistralai 3)
    ({"server_url": "https://mistral.internal.example:8443"}, "mistral.internal.example"),
])
def test_the_endpoint_is_the_configured_server(otel: Otel, kwargs: dict[str, Any], host: str) -> None:
    fm.FakeMistral().client(**kwargs).chat.complete(model=fm.SMALL, messages=MESSAGES)
    attrs = _span(otel)
    assert attrs["server.address"] == host
    assert attrs["gen_ai.provider.name"] == "mistral_ai"


def test_the_openllmetry_peer_loads_exactly_beside_mistralai_1() -> None:
    """OpenLLMetry's mistralai instrumentation (0.62) imports ``mistralai.models``: the 1.x layout. Where it loads,
    the shared suite's coexistence tests run with it (one span, one cost); a release of it that loads beside
    mistralai 2+ makes this fail, to say the main venv now has a peer to test."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        version("opentelemetry-instrumentation-mistralai")
    except PackageNotFoundError:
        pytest.skip("OpenLLMetry's mistralai instrumentation is not installed here")
    assert bool(openllmetry_peer()) == version("mistralai").startswith("1.")


# Mistral Small 3.1 on Vertex AI, USD per 1M tokens: 0.1 input, 0.3 output; the table has no Azure price for it
@pytest.mark.parametrize(("cloud", "provider", "host", "cost"), [
    ("azure", "azure.ai.inference", "acme-ai.services.ai.azure.com", None),
    ("gcp", "gcp.vertex_ai", "europe-west4-aiplatform.googleapis.com", (fm.PROMPT * 0.1 + fm.COMPLETION * 0.3) / 1e6),
])
def test_azure_and_vertex_deployments_are_named_by_their_host(otel: Otel, cloud: str, provider: str, host: str,
                                                              cost: float | None) -> None:
    fake = fm.FakeMistral()

    def handle(request: Any) -> Any:  # both clouds serve Mistral's chat completions under their own paths
        fake.requests.append((request.url.path, {}))
        return fm.http.Response(200, json=fm.wire.chat_completion("cmpl-m1", 1765000000, "mistral-small-2503",
                                                                  "Paris", fm.wire.usage(fm.PROMPT, fm.COMPLETION)))

    http_client = fm.http.Client(transport=fm.http.MockTransport(handle))
    sdk = pytest.importorskip(f"mistralai.{cloud}.client", reason="mistralai 1.x ships these clients apart")
    if cloud == "azure":
        client: Any = sdk.MistralAzure(api_key="k", server_url=f"https://{host}/models", client=http_client)
    else:
        client = sdk.MistralGCP(project_id="acme", access_token="t", client=http_client)
    client.chat.complete(model="mistral-small-2503", messages=MESSAGES)
    assert len(fake.requests) == 1
    attrs = _span(otel)
    assert attrs["gen_ai.provider.name"] == provider
    assert attrs["server.address"] == host
    assert attrs[INPUT] == fm.PROMPT and attrs[OUTPUT] == fm.COMPLETION
    if cost is None:
        assert COST not in attrs and attrs[REASON] == "unknown_model"  # never $0
    else:
        assert attrs[COST] == pytest.approx(cost)
