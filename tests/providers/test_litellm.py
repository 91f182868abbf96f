"""LiteLLM in depth (runs in scripts/test-compat-litellm.sh's venv; skipped where litellm is not installed).

Both paths LiteLLM takes underneath, on mock HTTP transports: the openai SDK (which our openai instrumentor also
wraps: the LiteLLM layer records, the inner one steps aside) and LiteLLM's own HTTP client (Anthropic's API as raw
httpx calls, served by respx). The Router: one record per call whatever its retries and fallbacks, priced at the
model that answered. Gemini and Bedrock over LiteLLM's own HTTP client too. Embeddings, text completions, the
Responses API. Golden costs from the providers' public prices; LiteLLM's own ``response_cost`` compared with ours.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

litellm = pytest.importorskip("litellm")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import cases  # noqa: E402,F401  (puts the simulated APIs on the path)
import fake_anthropic  # noqa: E402
import fake_genai  # noqa: E402
import fake_openai  # noqa: E402
import httpx  # noqa: E402
import respx  # noqa: E402

from conversation import MESSAGES  # noqa: E402
from otel_llm_cost.demo import bedrock_wire  # noqa: E402
from otel_llm_cost.demo.wire import sse_frame  # noqa: E402
from otel_llm_cost.providers.litellm import provider_name  # noqa: E402
from telemetry_fixtures import Otel  # noqa: E402

COST = "gen_ai.usage.cost.amount"
SONNET = "anthropic/claude-sonnet-4-5"
A = fake_anthropic
# Claude Sonnet 4.5, USD per 1M: 3 input, 3.75 cache write (5 min), 6 cache write (1 h), 0.30 cache read,
# 15 output; web search 10 per 1000 searches. LiteLLM's prompt_tokens include the cache.
SONNET_INPUT = A.INPUT + A.CACHE_5M + A.CACHE_1H + A.CACHE_READ
SONNET_COST = (A.INPUT * 3 + A.CACHE_5M * 3.75 + A.CACHE_1H * 6 + A.CACHE_READ * 0.30 + A.OUTPUT * 15) / 1e6 \
    + A.SEARCHES * 10 / 1000


class AnthropicAPI:
    """Anthropic's /v1/messages for LiteLLM's own HTTP client (httpx, served by respx): the simulated API's bodies
    and SSE events (tests/anthropic/fake_anthropic.py), as httpx responses."""

    def __init__(self) -> None:
        self.fake = fake_anthropic.FakeAnthropic()
        self.requests: list[dict[str, Any]] = []
        self.fail: tuple[int, dict[str, Any]] | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append(body)
        if self.fail is not None:
            return httpx.Response(self.fail[0], json=self.fail[1])
        message = self.fake.message(body["model"], False)
        if not body.get("stream"):
            return httpx.Response(200, json=message)
        events = b"".join(sse_frame(e, e["type"]) for e in self.fake.events(message))
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=events)


@pytest.fixture
def apis() -> Iterator[tuple[fake_openai.FakeOpenAI, AnthropicAPI]]:
    """The OpenAI and Anthropic APIs on every httpx client (LiteLLM's own and the openai SDK's)."""
    openai_api, anthropic_api = fake_openai.FakeOpenAI(), AnthropicAPI()
    # LiteLLM's async client sends through aiohttp unless told otherwise; respx serves httpx transports
    previous, litellm.disable_aiohttp_transport = litellm.disable_aiohttp_transport, True
    with respx.mock(assert_all_called=False) as mock:
        mock.post("https://api.anthropic.com/v1/messages").mock(side_effect=anthropic_api)
        mock.route(host="api.openai.com").mock(side_effect=openai_api.handle)
        yield openai_api, anthropic_api
    litellm.disable_aiohttp_transport = previous


def _span(otel: Otel) -> Any:
    (span,) = otel.finished()  # one record per call, whichever layers it went through
    return span


def _consume(result: Any, stream: bool) -> Any:
    return list(result) if stream else result


async def _consume_async(result: Any, stream: bool) -> Any:
    result = await result
    return [item async for item in result] if stream else result


def _call(stream: bool, is_async: bool, **kwargs: Any) -> Any:
    if is_async:
        return asyncio.run(_consume_async(litellm.acompletion(messages=MESSAGES, stream=stream, **kwargs), stream))
    return _consume(litellm.completion(messages=MESSAGES, stream=stream, **kwargs), stream)


def _litellm_cost(result: Any) -> float:
    return float(result._hidden_params["response_cost"])


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_anthropic_over_litellms_own_http_client_is_priced_once(otel: Otel, apis: Any, stream: bool,
                                                                is_async: bool) -> None:
    result = _call(stream, is_async, model=SONNET, api_key="sk-ant-test")
    span = _span(otel)
    assert span.attributes["gen_ai.provider.name"] == "anthropic"
    assert span.attributes["gen_ai.request.model"] == SONNET
    assert span.attributes["gen_ai.usage.input_tokens"] == SONNET_INPUT
    assert span.attributes["gen_ai.usage.output_tokens"] == A.OUTPUT
    assert span.attributes["gen_ai.usage.cache_read.input_tokens"] == A.CACHE_READ
    assert span.attributes["gen_ai.usage.cache_write.input_tokens"] == A.CACHE_5M + A.CACHE_1H
    assert span.attributes[COST] == pytest.approx(SONNET_COST)
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(SONNET_COST)
    if not stream:
        assert span.attributes["gen_ai.response.model"] == "claude-sonnet-4-5-20250929"
        assert _litellm_cost(result) == pytest.approx(SONNET_COST, rel=0.01)  # LiteLLM agrees here


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_us_only_inference_through_litellm(otel: Otel, apis: Any, stream: bool) -> None:
    """The fake API's usage says inference_geo "us": US-only inference, 1.1x the tokens for Opus 4.6 and later,
    as the anthropic SDK path prices it. Opus 4.6 $5 input, $6.25 5 min write, $10 1 h write, $0.50 read, $25
    output per 1M: 1,200 x 5 + 2,000 x 6.25 + 1,000 x 10 + 10,000 x 0.50 + 800 x 25 = 53,500 per 1M, x 1.1
    = 0.05885 USD, + 2 web searches x $10 / 1000 (a fee, not multiplied) = 0.07885 USD."""
    result = _call(stream, False, model="anthropic/claude-opus-4-6", api_key="sk-ant-test")
    span = _span(otel)
    assert span.attributes["gen_ai.provider.name"] == "anthropic"
    assert span.attributes[COST] == pytest.approx(0.07885)
    if not stream:
        assert result.usage.inference_geo == "us"
        assert _litellm_cost(result) == pytest.approx(0.07885, rel=0.01)  # LiteLLM applies it too


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_through_the_openai_sdk_the_litellm_layer_records(otel: Otel, stream: bool, is_async: bool) -> None:
    """Our openai instrumentor wraps the SDK LiteLLM calls underneath: still one record, LiteLLM's (its model
    name as the app wrote it), and the request did go through the openai SDK."""
    fake = fake_openai.FakeOpenAI()
    client = fake.async_client() if is_async else fake.client()
    result = _call(stream, is_async, model="openai/gpt-4o-mini", client=client)
    span = _span(otel)
    assert len(fake.requests) == 1
    assert span.name == "chat openai/gpt-4o-mini"
    assert span.attributes["gen_ai.provider.name"] == "openai"
    assert span.attributes["gen_ai.usage.cache_read.input_tokens"] == fake_openai.CACHED
    assert span.attributes[COST] == pytest.approx(fake_openai.GPT_4O_MINI_COST)
    assert otel.metric_count("gen_ai.client.operation.duration") == 1
    if not stream:
        assert _litellm_cost(result) == pytest.approx(fake_openai.GPT_4O_MINI_COST, rel=0.01)


def _gemini_stream() -> bytes:
    chunks = [fake_genai.response("Par", None, finish=None), fake_genai.response("is", fake_genai.usage())]
    return b"".join(b"data: " + json.dumps(c).encode() + b"\r\n\r\n" for c in chunks)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_gemini_over_litellms_own_http_client(otel: Otel, stream: bool) -> None:
    """gemini/ routes to Google's API (raw HTTP): provider gcp.gemini; the tool-use prompt is input, thoughts are
    output, as Google bills them (fake_genai.FLASH_COST)."""
    with respx.mock(assert_all_called=False) as mock:
        if stream:
            mock.route(host="generativelanguage.googleapis.com").mock(return_value=httpx.Response(
                200, headers={"content-type": "text/event-stream"}, content=_gemini_stream()))
        else:
            mock.route(host="generativelanguage.googleapis.com").mock(return_value=httpx.Response(
                200, json=fake_genai.response("Paris", fake_genai.usage())))
        result = _call(stream, False, model="gemini/gemini-2.5-flash", api_key="gemini-test")
    span = _span(otel)
    assert span.attributes["gen_ai.provider.name"] == "gcp.gemini"
    assert span.attributes["gen_ai.usage.input_tokens"] == fake_genai.INPUT_TOKENS
    assert span.attributes["gen_ai.usage.output_tokens"] == fake_genai.OUTPUT_TOKENS
    assert span.attributes["gen_ai.usage.reasoning.output_tokens"] == fake_genai.THOUGHTS
    assert span.attributes[COST] == pytest.approx(fake_genai.FLASH_COST)
    if not stream:
        assert _litellm_cost(result) == pytest.approx(fake_genai.FLASH_COST, rel=0.01)


def test_bedrock_over_litellms_own_http_client(otel: Otel, monkeypatch: pytest.MonkeyPatch) -> None:
    """bedrock/ routes to Bedrock's Converse API (signed raw HTTP, not a boto3 client: the botocore instrumentor
    sees nothing), priced at the us. cross-region profile's own price."""
    for name, value in (("AWS_ACCESS_KEY_ID", "AKIDTEST"), ("AWS_SECRET_ACCESS_KEY", "secret"),
                        ("AWS_REGION_NAME", "us-east-1")):
        monkeypatch.setenv(name, value)
    usage = {"inputTokens": 1200, "outputTokens": 500, "cacheReadInputTokens": 3000, "cacheWriteInputTokens": 2000}
    with respx.mock(assert_all_called=False) as mock:
        mock.route(host="bedrock-runtime.us-east-1.amazonaws.com").mock(
            return_value=httpx.Response(200, json=bedrock_wire.converse_body("Paris", usage)))
        result = litellm.completion(model="bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0", messages=MESSAGES)
    span = _span(otel)
    # Claude Sonnet 4.5 through the us. profile, USD per 1M: 3.3 input, 4.125 cache write, 0.33 cache read, 16.5 out
    cost = (1200 * 3.3 + 2000 * 4.125 + 3000 * 0.33 + 500 * 16.5) / 1e6
    assert span.attributes["gen_ai.provider.name"] == "aws.bedrock"
    assert span.attributes["gen_ai.usage.input_tokens"] == 1200 + 3000 + 2000
    assert span.attributes[COST] == pytest.approx(cost)
    assert _litellm_cost(result) == pytest.approx(cost, rel=0.01)


def _router(**kwargs: Any) -> Any:
    return litellm.Router(model_list=[
        {"model_name": "primary", "litellm_params": {"model": "openai/gpt-4o-mini", "api_key": "sk-test"}},
        {"model_name": "backup", "litellm_params": {"model": SONNET, "api_key": "sk-ant-test"}},
    ], **kwargs)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_a_router_call_is_one_record_named_by_the_deployment_that_answered(otel: Otel, apis: Any,
                                                                           is_async: bool) -> None:
    router = _router()
    if is_async:
        asyncio.run(router.acompletion(model="primary", messages=MESSAGES))
    else:
        router.completion(model="primary", messages=MESSAGES)
    span = _span(otel)
    assert span.attributes["gen_ai.request.model"] == "primary"  # the model group the app asked for
    assert span.attributes["gen_ai.provider.name"] == "openai"
    assert span.attributes["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
    assert span.attributes[COST] == pytest.approx(fake_openai.GPT_4O_MINI_COST)
    assert otel.metric_sum("gen_ai.client.cost", **{"gen_ai.provider.name": "openai"}) \
        == pytest.approx(fake_openai.GPT_4O_MINI_COST)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_a_router_fallback_is_priced_at_the_model_that_answered(otel: Otel, apis: Any, is_async: bool) -> None:
    openai_api, anthropic_api = apis
    openai_api.fail = (500, {"error": {"message": "boom", "type": "server_error"}})
    router = _router(fallbacks=[{"primary": ["backup"]}], num_retries=1, retry_after=0)
    if is_async:
        asyncio.run(router.acompletion(model="primary", messages=MESSAGES))
    else:
        router.completion(model="primary", messages=MESSAGES)
    span = _span(otel)  # the failed attempts and the fallback: one logical call
    assert len(openai_api.requests) >= 1 and len(anthropic_api.requests) == 1
    assert span.attributes["gen_ai.provider.name"] == "anthropic"
    assert span.attributes["gen_ai.response.model"] == "claude-sonnet-4-5-20250929"
    assert span.attributes[COST] == pytest.approx(SONNET_COST)
    assert "error.type" not in span.attributes
    assert otel.metric_sum("gen_ai.client.cost", **{"gen_ai.provider.name": "anthropic"}) \
        == pytest.approx(SONNET_COST)


def test_router_streams_are_one_record(otel: Otel, apis: Any) -> None:
    router = _router()
    list(router.completion(model="backup", messages=MESSAGES, stream=True))
    span = _span(otel)
    assert span.attributes["gen_ai.provider.name"] == "anthropic"
    assert span.attributes[COST] == pytest.approx(SONNET_COST)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_embeddings(otel: Otel, is_async: bool) -> None:
    fake = fake_openai.FakeOpenAI()
    if is_async:
        asyncio.run(litellm.aembedding(model="text-embedding-3-small", input=["a", "b"], client=fake.async_client()))
    else:
        litellm.embedding(model="text-embedding-3-small", input=["a", "b"], client=fake.client())
    span = _span(otel)
    assert span.attributes["gen_ai.operation.name"] == "embeddings"
    assert span.attributes["gen_ai.usage.input_tokens"] == 16
    assert span.attributes[COST] == pytest.approx(16 * 0.02 / 1e6)  # text-embedding-3-small: 0.02 per 1M


def test_text_completion(otel: Otel, apis: Any) -> None:
    litellm.text_completion(model="gpt-3.5-turbo-instruct", prompt="Capital of France?", api_key="sk-test")
    span = _span(otel)
    assert span.attributes["gen_ai.operation.name"] == "text_completion"
    assert span.attributes[COST] == pytest.approx((12 * 1.5 + 5 * 2.0) / 1e6)  # instruct: 1.50 in, 2.00 out


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_responses(otel: Otel, apis: Any, is_async: bool) -> None:
    if is_async:
        asyncio.run(litellm.aresponses(model="gpt-4o-mini", input="Capital of France?", api_key="sk-test"))
    else:
        litellm.responses(model="gpt-4o-mini", input="Capital of France?", api_key="sk-test")
    span = _span(otel)
    assert span.attributes["gen_ai.provider.name"] == "openai"
    assert span.attributes["gen_ai.usage.input_tokens"] == fake_openai.PROMPT
    assert span.attributes[COST] == pytest.approx(fake_openai.GPT_4O_MINI_COST)


def test_no_usage_is_unpriced_with_a_reason_never_zero(otel: Otel) -> None:
    """A provider that reports no usage: LiteLLM hands the app a zero usage of its own; that is no report."""
    fake = fake_openai.FakeOpenAI()
    fake.override_chat = {"usage": None}
    result = _call(False, False, model="gpt-4o-mini", client=fake.client())
    assert result.usage.prompt_tokens == 0  # LiteLLM's placeholder
    span = _span(otel)
    assert COST not in span.attributes
    assert span.attributes["llm_cost.unpriced_reason"] == "no_usage"
    assert otel.metric_sum("gen_ai.client.operation.unpriced") == 1


def test_a_stream_without_usage_is_priced_at_the_counts_litellm_gives_the_app(otel: Otel) -> None:
    """A stream whose provider sends no usage: LiteLLM counts the tokens itself and hands the app a usage chunk
    (indistinguishable from a reported one); it is priced as the app sees it, never $0."""
    fake = fake_openai.FakeOpenAI()
    fake.stream_usage_style = "empty_chunk_when_asked"  # the final chunk says "usage": null
    chunks = _call(True, False, model="gpt-4o-mini", client=fake.client())
    seen = next(c.usage for c in reversed(chunks) if getattr(c, "usage", None) is not None)
    span = _span(otel)
    assert span.attributes["gen_ai.usage.input_tokens"] == seen.prompt_tokens > 0
    assert span.attributes[COST] == pytest.approx((seen.prompt_tokens * 0.15 + seen.completion_tokens * 0.60) / 1e6)


def test_errors_reach_the_caller_unchanged(otel: Otel, apis: Any) -> None:
    apis[1].fail = (529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    with pytest.raises(Exception) as raised:
        litellm.completion(model=SONNET, messages=MESSAGES, api_key="sk-ant-test")
    span = _span(otel)
    assert span.attributes["error.type"].endswith(type(raised.value).__qualname__)
    assert COST not in span.attributes


def test_a_request_litellm_cannot_route_raises_its_own_error(otel: Otel) -> None:
    with pytest.raises(litellm.BadRequestError):
        litellm.completion(model="no-such-provider/some-model", messages=MESSAGES)
    for span in otel.finished():
        assert COST not in span.attributes


@pytest.mark.parametrize(("litellm_provider", "name"), [
    ("openai", "openai"), ("anthropic", "anthropic"), ("gemini", "gcp.gemini"), ("vertex_ai", "gcp.vertex_ai"),
    ("bedrock", "aws.bedrock"), ("mistral", "mistral_ai"), ("groq", "groq"), ("ollama_chat", "ollama"),
    ("openrouter", "openrouter"), ("azure", "azure.ai.openai"), ("xai", "x_ai"), ("some_new_one", "some_new_one"),
    (None, "litellm"),
])
def test_litellm_routes_map_to_our_provider_names(litellm_provider: Any, name: str) -> None:
    assert provider_name(litellm_provider) == name


@pytest.mark.parametrize(("model", "provider"), [
    ("anthropic/claude-sonnet-4-5", "anthropic"), ("bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                                                   "aws.bedrock"),
    ("vertex_ai/gemini-2.5-flash", "gcp.vertex_ai"), ("gemini/gemini-2.5-flash", "gcp.gemini"),
    ("openrouter/openai/gpt-4o-mini", "openrouter"), ("ollama/llama3.1", "ollama"), ("gpt-4o-mini", "openai"),
    ("claude-sonnet-4-5", "anthropic"),
])
def test_the_provider_is_litellms_routing(model: str, provider: str) -> None:
    from otel_llm_cost.providers.litellm import _Routed

    assert _Routed.routes(model, None, None)[0] == provider


# Where LiteLLM's own response_cost differs from ours by more than 1%, and why (found, not assumed): a new
# difference fails the test below until it is understood and listed here.
KNOWN_DIFFERENCES = {
    # LiteLLM's price map has no web-search price for claude-haiku-4-5 (it has one for Sonnet and Opus): the
    # response's 2 searches ($10 per 1000, whatever the model) are free there. Ours charges them.
    "anthropic/claude-haiku-4-5": "web searches unpriced in LiteLLM's map",
    # (claude-opus-4-7: the response says inference_geo "us", US-only inference at 1.1x: both apply it)
}


@pytest.mark.parametrize(("model", "call"), [
    ("gpt-4o-mini", lambda m: litellm.completion(model=m, messages=MESSAGES, api_key="sk-test")),
    ("o4-mini", lambda m: litellm.completion(model=m, messages=MESSAGES, api_key="sk-test")),
    ("gpt-5", lambda m: litellm.completion(model=m, messages=MESSAGES, api_key="sk-test")),
    ("anthropic/claude-sonnet-4-5", lambda m: litellm.completion(model=m, messages=MESSAGES, api_key="sk-ant-test")),
    ("anthropic/claude-haiku-4-5", lambda m: litellm.completion(model=m, messages=MESSAGES, api_key="sk-ant-test")),
    ("anthropic/claude-opus-4-7", lambda m: litellm.completion(model=m, messages=MESSAGES, api_key="sk-ant-test")),
    ("text-embedding-3-small", lambda m: litellm.embedding(model=m, input=["a", "b"], api_key="sk-test")),
    ("gpt-3.5-turbo-instruct", lambda m: litellm.text_completion(model=m, prompt="Capital?", api_key="sk-test")),
    ("gpt-4o-mini-responses", lambda m: litellm.responses(model="gpt-4o-mini", input="Capital?", api_key="sk-test")),
], ids=lambda v: v if isinstance(v, str) else "")
def test_litellm_response_cost_compared_with_ours(otel: Otel, apis: Any, model: str, call: Any) -> None:
    result = call(model)
    ours = _span(otel).attributes[COST]
    theirs = _litellm_cost(result)
    if model in KNOWN_DIFFERENCES:
        assert theirs != pytest.approx(ours, rel=0.01), f"{model}: no longer differs, drop it from the list"
    else:
        assert theirs == pytest.approx(ours, rel=0.01)


# -- image generation ------------------------------------------------------------------------------------------
# gpt-image-1, USD per 1M tokens (openai.com/api/pricing): 5 text input, 10 image input, 40 image output.
# A 1024x1024 high-quality image is 4160 output tokens; the prompt 20 text tokens (and 100 image tokens where the
# request carried an image, to exercise the image input rate).
IMAGE_USAGE = {"input_tokens": 120, "input_tokens_details": {"text_tokens": 20, "image_tokens": 100},
               "output_tokens": 4160, "total_tokens": 4280}
GPT_IMAGE_COST = (20 * 5 + 100 * 10 + 4160 * 40) / 1e6
PNG = "iVBORw0KGgo="  # a few bytes of base64: what the app gets back is not looked at


class ImagesAPI:
    """OpenAI's /v1/images/generations (the openai SDK LiteLLM sends through, served by respx): gpt-image-1
    answers with base64 images and token usage, DALL-E with URLs and no usage."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail: tuple[int, dict[str, Any]] | None = None
        self.empty = False  # an answer with no images (and a zero usage)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append(body)
        if self.fail is not None:
            return httpx.Response(self.fail[0], json=self.fail[1])
        n = 0 if self.empty else body.get("n") or 1
        if body["model"].startswith("gpt-image"):
            return httpx.Response(200, json={"created": 1765000000, "data": [{"b64_json": PNG}] * n,
                                             "usage": IMAGE_USAGE, "size": "1024x1024", "quality": "high",
                                             "output_format": "png", "background": "opaque"})
        return httpx.Response(200, json={"created": 1765000000, "data": [
            {"url": f"https://images.example/{i}.png", "revised_prompt": "A lighthouse at dusk"} for i in range(n)]})


@pytest.fixture
def images() -> Iterator[ImagesAPI]:
    api = ImagesAPI()
    previous, litellm.disable_aiohttp_transport = litellm.disable_aiohttp_transport, True
    with respx.mock(assert_all_called=False) as mock:
        mock.post("https://api.openai.com/v1/images/generations").mock(side_effect=api)
        yield api
    litellm.disable_aiohttp_transport = previous


def _image(is_async: bool, **kwargs: Any) -> Any:
    if is_async:
        return asyncio.run(litellm.aimage_generation(prompt="A lighthouse at dusk", api_key="sk-test", **kwargs))
    return litellm.image_generation(prompt="A lighthouse at dusk", api_key="sk-test", **kwargs)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_gpt_image_is_priced_per_token(otel: Otel, images: ImagesAPI, is_async: bool) -> None:
    result = _image(is_async, model="gpt-image-1", size="1024x1024", quality="high")
    assert len(images.requests) == 1 and len(result.data) == 1
    span = _span(otel)
    assert span.attributes["gen_ai.operation.name"] == "generate_content"
    assert span.attributes["gen_ai.provider.name"] == "openai"
    assert span.attributes["gen_ai.request.model"] == "gpt-image-1"
    assert span.attributes["gen_ai.usage.input_tokens"] == 120
    assert span.attributes["gen_ai.usage.output_tokens"] == 4160
    assert span.attributes[COST] == pytest.approx(GPT_IMAGE_COST)
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(GPT_IMAGE_COST)
    assert _litellm_cost(result) == pytest.approx(GPT_IMAGE_COST, rel=0.01)  # LiteLLM agrees here


@pytest.mark.parametrize("model", ["openai/dall-e-3", "openai/dall-e-2"])
def test_dall_e_without_a_per_image_price_is_unpriced_with_a_reason(otel: Otel, images: ImagesAPI,
                                                                    model: str) -> None:
    """DALL-E reports no usage and is billed per image by size and quality (dall-e-3 standard 1024x1024: USD
    0.040); our table has no DALL-E rows, so the images are counted and the call is unpriced, never $0."""
    result = _image(False, model=model, n=2)
    assert [d.url for d in result.data] == ["https://images.example/0.png", "https://images.example/1.png"]
    span = _span(otel)
    assert COST not in span.attributes
    assert span.attributes["llm_cost.unpriced_reason"] == "unknown_model"
    assert otel.metric_sum("gen_ai.client.operation.unpriced") == 1
    assert result._hidden_params.get("response_cost") is None  # LiteLLM 1.110.2's bundled map prices none either


def test_imagen_over_gemini_is_priced_per_image(otel: Otel) -> None:
    """gemini/imagen-... goes to Google's predict endpoint (raw HTTP): no tokens, one price per image drawn
    (Imagen 4: USD 0.04 per image, ai.google.dev/gemini-api/docs/pricing)."""
    body = {"predictions": [{"bytesBase64Encoded": PNG, "mimeType": "image/png"}] * 3}
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route(host="generativelanguage.googleapis.com").mock(return_value=httpx.Response(200, json=body))
        result = litellm.image_generation(prompt="A lighthouse at dusk", model="gemini/imagen-4.0-generate-001",
                                          n=3, api_key="gemini-test")
    assert route.call_count == 1 and len(result.data) == 3
    span = _span(otel)
    assert span.attributes["gen_ai.provider.name"] == "gcp.gemini"
    assert "gen_ai.usage.input_tokens" not in span.attributes
    assert span.attributes[COST] == pytest.approx(3 * 0.04)
    # LiteLLM 1.110.2 gives no response_cost for it (a difference from ours, found: its bundled map has no
    # gemini/imagen-4.0-generate-001 entry)
    assert result._hidden_params.get("response_cost") is None


def test_imagen_over_vertex_is_priced_per_image(otel: Otel) -> None:
    """vertex_ai/imagen-... (its predict endpoint, here behind an api_base so no Google credentials are needed):
    Imagen 3, USD 0.03 per image (cloud.google.com/vertex-ai/generative-ai/pricing); the prediction the safety
    filter dropped (no bytes) is not billed, and LiteLLM hands the app only the image drawn."""
    body = {"predictions": [{"bytesBase64Encoded": PNG, "mimeType": "image/png"}, {"raiFilteredReason": "x"}]}
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route(host="vertex.example").mock(return_value=httpx.Response(200, json=body))
        result = litellm.image_generation(prompt="A lighthouse at dusk", model="vertex_ai/imagen-3.0-generate-002",
                                          n=2, api_base="https://vertex.example/v1", vertex_project="p",
                                          vertex_location="us-central1")
    assert route.call_count == 1 and len(result.data) == 1
    span = _span(otel)
    assert span.attributes["gen_ai.provider.name"] == "gcp.vertex_ai"
    assert span.attributes[COST] == pytest.approx(0.03)


def test_gemini_native_image_output_is_priced_at_the_image_token_rate(otel: Otel) -> None:
    """gemini/gemini-2.5-flash-image bills its drawn image as output image tokens: USD 0.30 per 1M input, 30 per
    1M image output (ai.google.dev/gemini-api/docs/pricing); LiteLLM passes Google's usage through."""
    answer = {"candidates": [{"content": {"role": "model", "parts": [{"inlineData": {"mimeType": "image/png",
                                                                                    "data": PNG}}]},
                              "finishReason": "STOP"}],
              "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 1290, "totalTokenCount": 1302,
                                "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 12}],
                                "candidatesTokensDetails": [{"modality": "IMAGE", "tokenCount": 1290}]},
              "modelVersion": "gemini-2.5-flash-image"}
    with respx.mock(assert_all_called=False) as mock:
        mock.route(host="generativelanguage.googleapis.com").mock(return_value=httpx.Response(200, json=answer))
        litellm.image_generation(prompt="A lighthouse at dusk", model="gemini/gemini-2.5-flash-image",
                                 api_key="gemini-test")
    span = _span(otel)
    assert span.attributes["gen_ai.usage.output_tokens"] == 1290
    assert span.attributes[COST] == pytest.approx((12 * 0.30 + 1290 * 30) / 1e6)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_a_router_image_call_is_one_record(otel: Otel, images: ImagesAPI, is_async: bool) -> None:
    router = litellm.Router(model_list=[
        {"model_name": "drawer", "litellm_params": {"model": "openai/gpt-image-1", "api_key": "sk-test"}}])
    if is_async:
        asyncio.run(router.aimage_generation(prompt="A lighthouse at dusk", model="drawer"))
    else:
        router.image_generation(prompt="A lighthouse at dusk", model="drawer")
    span = _span(otel)
    assert span.attributes["gen_ai.request.model"] == "drawer"
    assert span.attributes["gen_ai.response.model"] == "openai/gpt-image-1"  # the deployment that answered
    assert span.attributes["gen_ai.provider.name"] == "openai"
    assert span.attributes[COST] == pytest.approx(GPT_IMAGE_COST)


def test_an_image_answer_without_usage_or_images_is_unpriced(otel: Otel, images: ImagesAPI,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(IMAGE_USAGE, "input_tokens", 0)
    monkeypatch.setitem(IMAGE_USAGE, "output_tokens", 0)
    images.empty = True
    result = _image(False, model="gpt-image-1")
    assert result.data == []
    span = _span(otel)
    assert COST not in span.attributes
    assert span.attributes["llm_cost.unpriced_reason"] == "no_usage"


def test_images_without_tokens_at_a_token_priced_model_are_unpriced_not_zero(otel: Otel) -> None:
    """LiteLLM's own mock_response answers with an image URL and its zero usage: gpt-image-1 has no per-image
    price, so the image counted is unpriced with the reason, never $0."""
    result = litellm.image_generation(prompt="A lighthouse at dusk", model="gpt-image-1",
                                      mock_response="https://images.example/mock.png")
    assert result.data[0].url == "https://images.example/mock.png"
    span = _span(otel)
    assert COST not in span.attributes
    assert span.attributes["llm_cost.unpriced_reason"] == "unknown_model"


def test_image_errors_reach_the_caller_unchanged(otel: Otel, images: ImagesAPI) -> None:
    images.fail = (400, {"error": {"message": "Your request was rejected by the safety system.",
                                   "type": "image_generation_user_error", "code": "moderation_blocked"}})
    with pytest.raises(litellm.BadRequestError) as raised:
        _image(False, model="gpt-image-1")
    assert "safety system" in str(raised.value)
    span = _span(otel)
    assert span.attributes["error.type"].endswith(type(raised.value).__qualname__)
    assert COST not in span.attributes


PEERS = importlib.import_module("case_litellm")._peers()  # after cases: it needs the simulated APIs' path


@pytest.mark.parametrize("peer", PEERS, ids=lambda p: p.__module__.split(".")[0] + "." + p.__name__)
def test_with_a_peer_an_image_call_is_priced_once(otel: Otel, images: ImagesAPI, peer: Any) -> None:
    """LiteLLM's own otel callback, OpenLLMetry's and OpenInference's LiteLLM instrumentations (the last wraps
    image_generation itself, around ours): their spans carry no cost of ours, one record does."""
    # LiteLLM copies a callback into its success/failure lists, where it outlives this test's tracer provider
    lists = ("callbacks", "success_callback", "failure_callback", "_async_success_callback",
             "_async_failure_callback", "input_callback", "_async_input_callback", "service_callback")
    saved = {name: list(getattr(litellm, name)) for name in lists if isinstance(getattr(litellm, name, None), list)}
    instance = peer()
    instance.instrument(tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider)
    try:
        _image(False, model="gpt-image-1")
    finally:
        instance.uninstrument()
        for name, value in saved.items():
            getattr(litellm, name)[:] = value
    costs = [s.attributes[COST] for s in otel.spans.get_finished_spans() if COST in (s.attributes or {})]
    assert costs == [pytest.approx(GPT_IMAGE_COST)]
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(GPT_IMAGE_COST)
