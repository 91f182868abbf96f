"""LiteLLM (``litellm.completion`` and friends, and ``litellm.Router``): one record per call, whatever provider
LiteLLM routes it to and whatever path it takes underneath.

Surfaces: the module functions ``completion``/``acompletion``, ``embedding``/``aembedding``, ``text_completion``/
``atext_completion``, ``responses``/``aresponses``, ``image_generation``/``aimage_generation`` (priced per token
or per image, see ``LiteLLMImages``), and the same methods of the Router (they live on the Router's core class,
``RustCore``, since LiteLLM 1.110; it has no sync ``responses``). The Router calls the module functions
underneath, and LiteLLM calls the openai SDK underneath for OpenAI-compatible providers: both are inner layers of
the same logical call, which the outermost one records (the nested-call rule, ``core.calls``). A Router's retries
and fallbacks are therefore one record, priced at the model that answered (the result's model).

The provider is LiteLLM's own routing (``get_llm_provider``: the ``anthropic/`` prefix, ``custom_llm_provider``,
``api_base``), mapped to the ``gen_ai.provider.name`` values our other providers emit; the result's
``_hidden_params["custom_llm_provider"]`` (the deployment that answered) has the last word. The usage LiteLLM
returns is OpenAI-shaped whatever the provider (prompt tokens include the cache, completion tokens the
reasoning); the cache writes and the 1-hour subset are where LiteLLM puts Anthropic's. LiteLLM's own cost
(``usage.cost``, ``_hidden_params["response_cost"]``) is LiteLLM's estimate, not the provider's report: not read.
Streams (``CustomStreamWrapper``): LiteLLM itself asks OpenAI-compatible providers for the usage chunk, so no
request is changed here; the usage is read from the chunk that carries it, or from the final chunk's hidden
``usage`` (LiteLLM's ``UnreportedUsage`` placeholder, all zeros, is no usage; so is the zero usage it writes on a
plain result when the provider reported none: unpriced, never a silent $0). A stream whose provider sent no usage
gets one LiteLLM counted itself, indistinguishable from a report: priced as the app sees it.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from ..core.calls import Prepared
from ..core.contract import Fixed, ProviderSpec, Reads, RequestMap, Server, Surface, UsageMap
from ..core.provider import RequestReader, SpecAdapter, SpecInstrumentor, server_address
from ..core.reading import field, given
from ..core.telemetry import CallRecord
from ..core.usage import Usage
from ..pricing.book import price_context
from .openai import CHAT_PARAMS, RESPONSES_READS, ResponsesAdapter

# LiteLLM's custom_llm_provider -> gen_ai.provider.name (the values our SDK providers emit for the same API);
# a provider not listed keeps LiteLLM's name.
PROVIDERS: dict[str, str] = {
    "openai": "openai", "text-completion-openai": "openai", "chatgpt": "openai",
    "azure": "azure.ai.openai", "azure_text": "azure.ai.openai", "azure_ai": "azure.ai.inference",
    "anthropic": "anthropic", "anthropic_text": "anthropic",
    "gemini": "gcp.gemini", "vertex_ai": "gcp.vertex_ai", "vertex_ai_beta": "gcp.vertex_ai",
    "bedrock": "aws.bedrock", "bedrock_converse": "aws.bedrock",
    "mistral": "mistral_ai", "codestral": "mistral_ai", "text-completion-codestral": "mistral_ai",
    "cohere": "cohere", "cohere_chat": "cohere",
    "groq": "groq", "ollama": "ollama", "ollama_chat": "ollama", "openrouter": "openrouter",
    "deepseek": "deepseek", "xai": "x_ai", "together_ai": "together_ai", "fireworks_ai": "fireworks",
    "perplexity": "perplexity", "cerebras": "cerebras", "moonshot": "moonshot_ai", "databricks": "databricks",
    "cloudflare": "cloudflare", "github_copilot": "github_copilot", "voyage": "voyage_ai", "novita": "novita",
    "watsonx": "ibm.watsonx.ai", "watsonx_text": "ibm.watsonx.ai", "zai": "zhipu_ai",
}
# A call whose route LiteLLM cannot tell before it runs (a Router model group): until its result names the
# deployment that answered.
UNROUTED = "litellm"

# LiteLLM's usage, the same whatever the provider: OpenAI's fields, plus Anthropic's cache writes (all of them,
# and the 1-hour subset) and server tool use.
USAGE = UsageMap(
    input="prompt_tokens", output="completion_tokens",
    cache_read=("prompt_tokens_details.cached_tokens", "cache_read_input_tokens"),
    cache_write=("cache_creation_input_tokens", "prompt_tokens_details.cache_creation_tokens",
                 "prompt_tokens_details.cache_write_tokens"),
    cache_write_1h="prompt_tokens_details.cache_creation_token_details.ephemeral_1h_input_tokens",
    reasoning="completion_tokens_details.reasoning_tokens",
    input_audio="prompt_tokens_details.audio_tokens", output_audio="completion_tokens_details.audio_tokens",
    input_image="prompt_tokens_details.image_tokens", web_searches="server_tool_use.web_search_requests")
CHAT_READS = Reads(usage=USAGE, finish="choices[].finish_reason")
EMBEDDING_READS = Reads(usage=UsageMap(input="prompt_tokens"))
# An ImageResponse's usage (OpenAI's images API: gpt-image-1; LiteLLM puts Gemini's in the same shape): its input
# counts text and image tokens, its output the image tokens drawn.
IMAGE_READS = Reads(usage=UsageMap(input="input_tokens", output="output_tokens",
                                   input_image="input_tokens_details.image_tokens",
                                   output_image="output_tokens_details.image_tokens"), model=None)
REQUEST = RequestMap(params=CHAT_PARAMS, stop="stop", choice_count="n")


class _Routes:
    """(gen_ai.provider.name, server address, port) of a request, from LiteLLM's own ``get_llm_provider``,
    memoised per (model, custom_llm_provider, api_base): it parses names and reads LiteLLM's provider lists."""

    def __init__(self, size: int = 512) -> None:
        self.memo: dict[tuple[Any, Any, Any], tuple[str, str | None, int | None]] = {}
        self.size = size
        self.lock = threading.Lock()

    def __call__(self, model: Any, custom: Any, api_base: Any) -> tuple[str, str | None, int | None]:
        key = (model, custom if isinstance(custom, str) else None, api_base if isinstance(api_base, str) else None)
        found = self.memo.get(key)
        if found is None:
            found = _route(*key)
            with self.lock:
                if len(self.memo) >= self.size:
                    self.memo.clear()
                self.memo[key] = found
        return found


def _route(model: Any, custom: str | None, api_base: str | None) -> tuple[str, str | None, int | None]:
    if not isinstance(model, str) or not model:
        return (provider_name(custom) if custom else UNROUTED), None, None
    try:
        from litellm import get_llm_provider

        _, provider, _, base = get_llm_provider(model=model, custom_llm_provider=custom, api_base=api_base)
    except Exception:  # a Router model group, an unknown route: told by the result
        return (provider_name(custom) if custom else UNROUTED), None, None
    host, port = server_address(base) if isinstance(base, str) and base else (None, None)
    return provider_name(provider), host, port


def provider_name(litellm_provider: Any) -> str:
    """gen_ai.provider.name of a LiteLLM ``custom_llm_provider``."""
    if not isinstance(litellm_provider, str) or not litellm_provider:
        return UNROUTED
    return PROVIDERS.get(litellm_provider, litellm_provider)


def _hidden(obj: Any) -> dict[str, Any] | None:
    """A LiteLLM result's ``_hidden_params`` (a pydantic private attribute on some results, a dict on others)."""
    try:
        hidden = getattr(obj, "_hidden_params", None)
    except Exception:
        return None
    return hidden if isinstance(hidden, dict) else None


def answered(call: CallRecord, hidden: dict[str, Any], routes: _Routes) -> None:
    """The provider of the deployment that answered, from a result's hidden parameters: its
    ``custom_llm_provider``, else the routing of its ``litellm_model_name`` (a Router's fallback result names
    only the latter)."""
    provider = hidden.get("custom_llm_provider")
    if isinstance(provider, str) and provider:
        call.answered_by(provider_name(provider))
    elif hidden.get("litellm_model_name"):
        routed = routes(hidden.get("litellm_model_name"), None, None)[0]
        if routed != UNROUTED:
            call.answered_by(routed)


class _Routed:
    """Request facts of a LiteLLM call (its model may be positional; its provider is LiteLLM's routing) and the
    provider named by the result. Mixed into the ``SpecAdapter``s below."""

    positional: tuple[str, ...] = ()
    request: RequestReader
    operation: str
    streaming: bool | None
    routes = _Routes()

    def prepare(self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Prepared | None:
        view = {**dict(zip(self.positional, args, strict=False)), **kwargs} if args else kwargs
        call = self.request.call(self.operation, instance, view, self.streaming)
        call.provider, host, port = self.routes(view.get("model"), view.get("custom_llm_provider"),
                                                view.get("api_base") if given(view.get("api_base")) else None)
        if host:
            call.server_address, call.server_port = host, port
        return Prepared(call, kwargs, self.request.attributes(view))

    def answered(self, call: CallRecord, obj: Any) -> None:
        """The deployment that answered names the provider (a Router's fallback may be another one)."""
        hidden = _hidden(obj)
        if hidden is not None:
            answered(call, hidden, self.routes)


class LiteLLMAdapter(_Routed, SpecAdapter):
    """Chat and text completions and embeddings: ``ModelResponse``-like results and ``CustomStreamWrapper``
    streams of ``ModelResponseStream`` chunks."""

    def __init__(self, *args: Any, positional: tuple[str, ...] = ("model",), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.positional = positional

    def read_result(self, call: CallRecord, result: Any) -> None:
        super().read_result(call, result)
        self.answered(call, result)
        _variant(call, field(result, "usage"))

    def prepare(self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Prepared | None:
        prepared = super().prepare(instance, args, kwargs)
        if prepared is not None and prepared.call.streaming:
            prepared.state = _Seen()
        return prepared

    def read_item(self, call: CallRecord, item: Any, state: Any) -> bool:
        self.items.item(call, item)
        hidden = _hidden(item)
        if hidden is not None:
            answered(call, hidden, self.routes)
            if isinstance(state, _Seen):
                state.hidden = hidden
        usage = field(item, "usage")
        if usage is not None:
            _variant(call, usage)
        return True

    def before_finish(self, call: CallRecord, state: Any) -> None:
        """A stream's usage from the last chunk's hidden parameters, and LiteLLM's zero placeholder dropped.

        The last chunk's hidden usage: LiteLLM puts the stream's usage there when the caller did not ask for
        a usage chunk, and completes it (server tool use...) only when the stream ends. Its ``UnreportedUsage``
        placeholder (all zeros: the provider sent none) is no usage."""
        hidden = state.hidden if isinstance(state, _Seen) else None
        usage = None if hidden is None else hidden.get("usage")
        if usage is not None and type(usage).__name__ != "UnreportedUsage":
            self.items.usage_of(call, {"usage": usage}, streamed=True)
            _variant(call, usage)
        found = call.usage
        if found is not None and not found.input_tokens and not found.output_tokens:
            # LiteLLM writes a zero usage when the provider reported none; every request has input tokens, so
            # zero input is no report: unpriced (no_usage), never a silent $0
            call.usage = None


def _variant(call: CallRecord, usage: Any) -> None:
    """Anthropic's price variants, which LiteLLM's usage passes on (``inference_geo``, ``speed``): priced as on
    the anthropic SDK (US-only inference 1.1x, fast mode); Bedrock and Vertex price their regions in their rows."""
    if call.provider == "anthropic" and usage is not None:
        context = price_context(call.service_tier, field(usage, "speed"), field(usage, "inference_geo"))
        if context is not None:
            call.price_context = context


class _Seen:
    """A stream's last hidden parameters (LiteLLM mutates them after handing the chunk out)."""

    __slots__ = ("hidden",)

    def __init__(self) -> None:
        self.hidden: dict[str, Any] | None = None


class LiteLLMResponses(_Routed, ResponsesAdapter):
    """``responses`` / ``aresponses``: OpenAI's Responses API shape, whatever provider answers."""

    positional = ("input", "model")

    def read_result(self, call: CallRecord, result: Any) -> None:
        super().read_result(call, result)
        self.answered(call, result)


class LiteLLMImages(_Routed, SpecAdapter):
    """``image_generation`` / ``aimage_generation``: an ``ImageResponse`` whatever provider drew the images.

    Token-billed models (gpt-image-1, Gemini's native image models) report their usage (text and image input,
    image output): priced per token. Per-image models (Imagen, DALL-E) report none, and LiteLLM writes an all-zero
    usage in its place: the images the answer carries (bytes or a URL) are the usage, priced at the table's
    per-image price; a model the table has no per-image price for is unpriced (say so, never $0). An answer with
    neither tokens nor images is no usage. The result names no model: the deployment LiteLLM sent the request to
    (``_hidden_params["litellm_model_name"]``) is the response model, so a Router's model group is priced."""

    positional = ("prompt", "model")

    def read_result(self, call: CallRecord, result: Any) -> None:
        super().read_result(call, result)
        hidden = _hidden(result)
        if hidden is not None:
            answered(call, hidden, self.routes)
            # an ImageResponse names no model: the deployment LiteLLM sent it to does (a Router's model group
            # is no table model)
            deployment = hidden.get("litellm_model_name")
            if isinstance(deployment, str) and deployment and not call.response_model:
                call.response_model = deployment
        found = call.usage
        if found is not None and (found.input_tokens or found.output_tokens):
            return
        data = field(result, "data")
        made = sum(1 for image in data if field(image, "b64_json") or field(image, "url")) \
            if isinstance(data, list) else 0
        call.usage = Usage(output_images=made) if made else None


def _adapter(**options: Any) -> Any:
    return functools.partial(LiteLLMAdapter, **options)


def _surfaces(module: str, owner: str | None) -> tuple[Surface, ...]:
    chat = _adapter(positional=("model", "messages"))
    return (
        Surface(module, owner, ("completion",), ("acompletion",), reads=CHAT_READS, adapter=chat),
        Surface(module, owner, ("text_completion",), ("atext_completion",), operation="text_completion",
                reads=CHAT_READS, adapter=_adapter(positional=("prompt", "model"))),
        Surface(module, owner, ("embedding",), ("aembedding",), operation="embeddings", reads=EMBEDDING_READS,
                adapter=_adapter(positional=("model", "input"))),
        Surface(module, owner, ("responses",), ("aresponses",), reads=RESPONSES_READS, adapter=LiteLLMResponses),
        # the operation google-genai's Imagen uses too (semantic conventions name none for image generation)
        Surface(module, owner, ("image_generation",), ("aimage_generation",), operation="generate_content",
                reads=IMAGE_READS, adapter=functools.partial(LiteLLMImages, streaming=False)),
    )


SPEC = ProviderSpec(
    name="litellm", provider=Fixed(UNROUTED), request=REQUEST, server=Server(client=None),
    surfaces=(
        *_surfaces("litellm", None),
        *_surfaces("litellm.router_rust.core", "RustCore"),  # the Router's methods (its core's, since 1.110)
    ))


class LiteLLMInstrumentor(SpecInstrumentor):
    """Entry point ``llm_cost_litellm``: cost and tokens for every call made through LiteLLM (module functions and
    the Router), one record per call whatever LiteLLM calls underneath."""

    spec = SPEC

