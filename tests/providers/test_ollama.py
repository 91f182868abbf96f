"""What is Ollama's own (the shared suite covers the rest): every surface (chat, generate, embed, the legacy
embeddings; sync and async, plain and streamed; the module-level ``ollama.chat`` & co.), the self-hosted default
cost, per-second and per-request prices from a price file billing the server's ``total_duration``, errors as the SDK
raises them, answers without counts, and the OpenAI SDK pointed at Ollama priced the same way."""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import ollama
import pytest
from fake_ollama import (
    COMPLETION,
    EMBED_MODEL,
    EMBED_PROMPT,
    EMBED_TOTAL_NS,
    MODEL,
    PROMPT,
    TOTAL_NS,
    FakeOllama,
    not_found,
)

import otel_llm_cost
from conversation import MESSAGES
from telemetry_fixtures import Otel

COST, SOURCE, TABLE = "gen_ai.usage.cost.amount", "gen_ai.usage.cost.source", "llm_cost.price_table"
INPUT, OUTPUT = "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"


def _chat(client: Any, stream: bool) -> Any:
    return client.chat(model=MODEL, messages=MESSAGES, stream=stream)


def _generate(client: Any, stream: bool) -> Any:
    return client.generate(model=MODEL, prompt="Capital of France?", stream=stream)


def _run(call: Any, client: Any, stream: bool, is_async: bool) -> Any:
    if not is_async:
        result = call(client, stream)
        return list(result) if stream else result

    async def main() -> Any:
        result = await call(client, stream)
        return [part async for part in result] if stream else result

    return asyncio.run(main())


def _assert_self_hosted_default(span: Any) -> None:
    """An explicit $0 that says where it came from: neither unpriced nor a silent zero."""
    assert span.attributes[COST] == 0.0
    assert span.attributes[SOURCE] == "local"
    assert span.attributes[TABLE] == "self-hosted:default"
    assert span.attributes["llm_cost.price_source"] == "self-hosted"
    assert "llm_cost.unpriced_reason" not in span.attributes


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("surface", ["chat", "generate"])
def test_chat_and_generate(otel: Otel, surface: str, stream: bool, is_async: bool) -> None:
    fake = FakeOllama()
    client = fake.async_client() if is_async else fake.client()
    result = _run(_chat if surface == "chat" else _generate, client, stream, is_async)
    if stream:
        assert len(result) == 5 and result[-1].done and result[-1].eval_count == COMPLETION  # all parts, as sent
    else:
        assert result.eval_count == COMPLETION
    (span,) = otel.finished()
    operation = "chat" if surface == "chat" else "text_completion"
    assert span.name == f"{operation} {MODEL}"
    assert span.attributes["gen_ai.operation.name"] == operation
    assert span.attributes["gen_ai.provider.name"] == "ollama"
    assert span.attributes["server.address"] == "localhost"
    assert span.attributes["server.port"] == 11434
    assert span.attributes["gen_ai.request.model"] == MODEL
    assert span.attributes["gen_ai.response.model"] == MODEL
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert span.attributes[INPUT] == PROMPT
    assert span.attributes[OUTPUT] == COMPLETION
    _assert_self_hosted_default(span)
    if stream:
        assert span.attributes["gen_ai.response.time_to_first_chunk"] >= 0
    assert otel.metric_sum("gen_ai.client.operation.unpriced") == 0
    assert otel.metric_sum("gen_ai.client.cost") == 0.0
    assert otel.metric_count("gen_ai.client.operation.cost") == 1  # recorded: an explicit zero


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_embed(otel: Otel, is_async: bool) -> None:
    fake = FakeOllama()

    async def main() -> Any:
        return await fake.async_client().embed(model=EMBED_MODEL, input=["Paris", "Lyon"])

    result = asyncio.run(main()) if is_async else fake.client().embed(model=EMBED_MODEL, input=["Paris", "Lyon"])
    assert len(result.embeddings) == 2
    (span,) = otel.finished()
    assert span.attributes["gen_ai.operation.name"] == "embeddings"
    assert span.attributes[INPUT] == 2 * EMBED_PROMPT
    assert OUTPUT not in span.attributes
    _assert_self_hosted_default(span)


def test_legacy_embeddings_report_no_counts_so_they_are_unpriced_with_a_reason(otel: Otel) -> None:
    result = FakeOllama().client().embeddings(model=EMBED_MODEL, prompt="Paris")
    assert result.embedding == [0.01, -0.02, 0.03]
    (span,) = otel.finished()
    assert span.attributes["gen_ai.operation.name"] == "embeddings"
    assert INPUT not in span.attributes and COST not in span.attributes
    assert span.attributes["llm_cost.unpriced_reason"] == "no_usage"
    assert otel.metric_sum("gen_ai.client.operation.unpriced") == 1


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_an_answer_without_counts_is_unpriced_never_a_silent_zero(otel: Otel, stream: bool) -> None:
    fake = FakeOllama()
    fake.no_counts = True
    _run(_chat, fake.client(), stream, False)
    (span,) = otel.finished()
    assert INPUT not in span.attributes and COST not in span.attributes
    assert span.attributes["llm_cost.unpriced_reason"] == "no_usage"


def test_request_options_become_request_attributes(otel: Otel) -> None:
    FakeOllama().client().chat(model=MODEL, messages=MESSAGES, options={
        "temperature": 0.2, "top_p": 0.9, "top_k": 40, "num_predict": 64, "seed": 7, "stop": ["\n"]})
    (span,) = otel.finished()
    assert span.attributes["gen_ai.request.temperature"] == 0.2
    assert span.attributes["gen_ai.request.top_p"] == 0.9
    assert span.attributes["gen_ai.request.top_k"] == 40
    assert span.attributes["gen_ai.request.max_tokens"] == 64
    assert span.attributes["gen_ai.request.seed"] == 7
    assert span.attributes["gen_ai.request.stop_sequences"] == ("\n",)


def test_calls_that_are_not_model_calls_are_not_recorded(otel: Otel) -> None:
    assert FakeOllama().client().list().models[0].model == MODEL
    assert otel.finished() == []


def test_module_level_functions_are_instrumented_and_restored(otel: Otel, monkeypatch: pytest.MonkeyPatch) -> None:
    """``ollama.chat`` & co. are bound methods of a ``Client`` made at import: they go through the wrapped
    ``_request`` too, and are the very same objects after uninstrument."""
    fake = FakeOllama()
    monkeypatch.setattr(ollama._client, "_client", fake.http_client())  # the module-level Client's httpx client
    functions = (ollama.chat, ollama.generate, ollama.embed, ollama.embeddings)
    ollama.chat(model=MODEL, messages=MESSAGES)
    list(ollama.chat(model=MODEL, messages=MESSAGES, stream=True))
    ollama.generate(model=MODEL, prompt="Capital of France?")
    ollama.embed(model=EMBED_MODEL, input="Paris")
    spans = otel.finished()
    assert [s.attributes["gen_ai.operation.name"] for s in spans] == ["chat", "chat", "text_completion",
                                                                       "embeddings"]
    assert [s.attributes[INPUT] for s in spans] == [PROMPT, PROMPT, PROMPT, EMBED_PROMPT]
    otel_llm_cost.uninstrument()
    assert (ollama.chat, ollama.generate, ollama.embed, ollama.embeddings) == functions
    assert not hasattr(ollama.Client._request, "__wrapped__")  # the SDK's own method again
    ollama.chat(model=MODEL, messages=MESSAGES)
    assert len(otel.finished()) == 4
    otel.reinstrument()
    ollama.chat(model=MODEL, messages=MESSAGES)
    assert len(otel.finished()) == 5


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_errors_are_the_sdks_own(otel: Otel, stream: bool) -> None:
    fake = FakeOllama()
    fake.fail = not_found()
    with pytest.raises(ollama.ResponseError) as raised:
        _run(_chat, fake.client(), stream, False)
    assert raised.value.status_code == 404
    assert "not found, try pulling it first" in raised.value.error
    (span,) = otel.finished()
    assert span.attributes["error.type"].endswith("ResponseError")
    assert COST not in span.attributes and "llm_cost.unpriced_reason" not in span.attributes


def test_a_connection_failure_is_the_sdks_own(otel: Otel) -> None:
    """What the SDK raises for a server that is not running (its own ConnectionError, or httpx's in older releases),
    unchanged."""
    fake = FakeOllama()
    fake.fail = httpx.ConnectError("connection refused")
    otel_llm_cost.uninstrument()
    with pytest.raises(Exception) as bare:
        fake.client().chat(model=MODEL, messages=MESSAGES)
    otel.reinstrument()
    with pytest.raises(Exception) as seen:
        fake.client().chat(model=MODEL, messages=MESSAGES)
    assert (type(seen.value), str(seen.value)) == (type(bare.value), str(bare.value))
    (span,) = otel.finished()
    assert span.attributes["error.type"].endswith(type(bare.value).__qualname__)


def test_a_stream_left_at_its_done_part_is_finished_with_its_counts(otel: Otel) -> None:
    """The ``done`` part is the last: a caller that stops reading there has had the whole answer."""
    stream = FakeOllama().client().chat(model=MODEL, messages=MESSAGES, stream=True)
    for part in stream:
        if part.done:
            break
    (span,) = otel.finished()  # finished without closing or collecting the stream
    assert span.attributes[INPUT] == PROMPT and span.attributes[OUTPUT] == COMPLETION
    stream.close()
    assert len(otel.finished()) == 1


def _price_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "prices.toml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_per_second_and_per_request_prices_bill_the_servers_duration(
        otel: Otel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stream: bool, is_async: bool) -> None:
    """A GPU at 3.96 USD/hour = 0.0011 USD/s, plus 0.0002 USD per request: a call the server says took
    total_duration = 2.5 s costs 2.5 * 0.0011 + 0.0002 = 0.00295 USD, whatever the wall time here."""
    monkeypatch.setenv("OTEL_LLM_COST_PRICES_FILE", _price_file(tmp_path, """
[[price]]
provider = "ollama"
model = "llama3.2*"
per_second = 0.0011
per_request = 0.0002
"""))
    otel.reinstrument()
    fake = FakeOllama()
    _run(_chat, fake.async_client() if is_async else fake.client(), stream, is_async)
    (span,) = otel.finished()
    assert TOTAL_NS / 1e9 == 2.5
    assert span.attributes[COST] == pytest.approx(2.5 * 0.0011 + 0.0002)
    assert span.attributes[SOURCE] == "local"
    assert span.attributes[TABLE].startswith("override:prices.toml")
    assert span.attributes[INPUT] == PROMPT
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(2.5 * 0.0011 + 0.0002)
    assert otel.metric_sum("gen_ai.client.cost", **{"gen_ai.cost.type": "other"}) == pytest.approx(0.00295)


def test_per_token_prices_and_embeddings_duration(otel: Otel, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Per-token prices for one model (0.10 in, 0.40 out per 1M) and per-second for the embedder (0.0011/s over
    its reported 0.04 s)."""
    monkeypatch.setenv("OTEL_LLM_COST_PRICES_FILE", _price_file(tmp_path, f"""
[[price]]
provider = "ollama"
model = "{MODEL}"
input = 0.10
output = 0.40

[[price]]
provider = "ollama"
model = "{EMBED_MODEL}"
per_second = 0.0011
"""))
    otel.reinstrument()
    client = FakeOllama().client()
    client.chat(model=MODEL, messages=MESSAGES)
    client.embed(model=EMBED_MODEL, input="Paris")
    chat, embed = otel.finished()
    assert chat.attributes[COST] == pytest.approx((PROMPT * 0.10 + COMPLETION * 0.40) / 1e6)
    assert chat.attributes["llm_cost.input"] == pytest.approx(PROMPT * 0.10 / 1e6)
    assert embed.attributes[COST] == pytest.approx(EMBED_TOTAL_NS / 1e9 * 0.0011)


def test_per_second_prices_need_counts(otel: Otel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer without counts stays unpriced with its reason even where a per-second price applies (nothing
    invented); the same call with counts and a duration is billed that duration (0.04 s at 1 USD/s)."""
    monkeypatch.setenv("OTEL_LLM_COST_PRICES_FILE", _price_file(tmp_path, """
[[price]]
provider = "ollama"
model = "*"
per_second = 1.0
"""))
    otel.reinstrument()
    fake = FakeOllama()
    client = fake.client()
    client.embeddings(model=EMBED_MODEL, prompt="Paris")  # legacy: no counts
    fake.no_counts = True
    client.embed(model=EMBED_MODEL, input="Paris")
    fake.no_counts = False
    client.embed(model=EMBED_MODEL, input="Paris")
    legacy, no_counts, priced = otel.finished()
    assert legacy.attributes["llm_cost.unpriced_reason"] == "no_usage"
    assert no_counts.attributes["llm_cost.unpriced_reason"] == "no_usage"
    assert priced.attributes[COST] == pytest.approx(EMBED_TOTAL_NS / 1e9)


def test_the_openai_sdk_pointed_at_ollama_gets_the_same_treatment(otel: Otel, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """``OpenAI(base_url="http://localhost:11434/v1")`` is provider ``ollama``: the self-hosted default, and a
    per-second price bills the wall time (that endpoint reports no duration)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "openai"))
    import fake_openai

    fake = fake_openai.FakeOpenAI()
    client = fake.client(base_url="http://localhost:11434/v1", api_key="ollama")
    client.chat.completions.create(model=MODEL, messages=MESSAGES)
    (span,) = otel.finished()
    assert span.attributes["gen_ai.provider.name"] == "ollama"
    _assert_self_hosted_default(span)

    monkeypatch.setenv("OTEL_LLM_COST_PRICES_FILE", _price_file(tmp_path, """
[[price]]
provider = "ollama"
model = "*"
per_request = 0.0002
per_second = 0.0011
"""))
    otel.reinstrument()
    started = time.perf_counter()
    client.chat.completions.create(model=MODEL, messages=MESSAGES)
    elapsed = time.perf_counter() - started  # the wall time billed is within this
    priced = otel.finished()[-1]
    assert priced.attributes[SOURCE] == "local"
    assert priced.attributes["llm_cost.input"] == priced.attributes["llm_cost.output"] == 0.0
    assert 0.0002 < priced.attributes[COST] <= 0.0002 + 0.0011 * elapsed


@pytest.mark.parametrize("how", ["abandoned", "aclose"])
def test_an_async_stream_left_early_is_finished_once(otel: Otel, how: str) -> None:
    """An async generator left after its first part: finished once, with what was seen (no counts yet: unpriced
    with its reason, never a silent zero)."""
    async def main() -> None:
        stream = await FakeOllama().async_client().chat(model=MODEL, messages=MESSAGES, stream=True)
        first = await stream.__anext__()
        assert first.done is False
        if how == "aclose":
            await stream.aclose()
            await stream.aclose()

    asyncio.run(main())
    gc.collect()
    (span,) = otel.finished()
    assert INPUT not in span.attributes
    assert span.attributes["llm_cost.unpriced_reason"] == "no_usage"
    assert otel.metric_count("gen_ai.client.operation.duration") == 1
