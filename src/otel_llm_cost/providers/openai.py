"""OpenAI SDK (3.x on httpx2, 2.x on httpx) and the OpenAI-compatible providers reached through it.

Surfaces: chat.completions.create/parse (and the ``.stream()`` helper, which goes through create),
responses.create/parse (and ``.stream()``), embeddings.create, legacy completions.create, their
``with_raw_response``/``with_streaming_response`` variants, sync and async.
"""

from __future__ import annotations

from typing import Any

from ..core import telemetry as names
from ..core.calls import RUNTIME, Prepared
from ..core.contract import ByHost, ProviderSpec, Reads, RequestMap, Surface, UsageMap
from ..core.provider import SpecAdapter, SpecInstrumentor
from ..core.reading import field, given
from ..core.telemetry import CallRecord

# base_url host (suffix) -> gen_ai.provider.name, for OpenAI-compatible providers used through this SDK
HOSTS = ByHost(
    hosts=(
        ("api.openai.com", "openai"),
        (".openai.azure.com", "azure.ai.openai"),
        (".azure.com", "azure.ai.openai"),
        ("api.deepseek.com", "deepseek"),
        ("api.groq.com", "groq"),
        ("api.x.ai", "x_ai"),
        ("openrouter.ai", "openrouter"),
        ("api.together.xyz", "together_ai"),
        ("api.together.ai", "together_ai"),
        ("api.fireworks.ai", "fireworks"),
        ("api.mistral.ai", "mistral_ai"),
        ("api.perplexity.ai", "perplexity"),
        ("api.cerebras.ai", "cerebras"),
        ("api.moonshot.ai", "moonshot_ai"),
        ("generativelanguage.googleapis.com", "gcp.gemini"),
    ),
    default="openai", by_class=(("Azure", "azure.ai.openai"),), by_port=((11434, "ollama"),))
# Chat Completions request parameters, shared by the OpenAI-compatible SDKs (groq)
CHAT_PARAMS = (
    ("temperature", names.REQUEST_TEMPERATURE),
    ("top_p", names.REQUEST_TOP_P),
    ("max_tokens", names.REQUEST_MAX_TOKENS),
    ("max_completion_tokens", names.REQUEST_MAX_TOKENS),
    ("max_output_tokens", names.REQUEST_MAX_TOKENS),
    ("frequency_penalty", names.REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", names.REQUEST_PRESENCE_PENALTY),
    ("seed", names.REQUEST_SEED),
)
REQUEST = RequestMap(params=(*CHAT_PARAMS, ("service_tier", names.OPENAI_REQUEST_SERVICE_TIER)), stop="stop",
                     service_tier="service_tier", choice_count="n")
# Chat/legacy-completions usage: cached, audio tokens inside prompt; reasoning, audio inside completion.
# DeepSeek reports cache hits at the top level; OpenRouter reports its own cost.
CHAT_USAGE = UsageMap(
    input="prompt_tokens", output="completion_tokens",
    cache_read=("prompt_tokens_details.cached_tokens", "prompt_cache_hit_tokens"),
    cache_write="prompt_tokens_details.cache_write_tokens",
    reasoning="completion_tokens_details.reasoning_tokens",
    input_audio="prompt_tokens_details.audio_tokens", output_audio="completion_tokens_details.audio_tokens",
    input_image="prompt_tokens_details.image_tokens", cost="cost")
CHAT_READS = Reads(usage=CHAT_USAGE, finish="choices[].finish_reason", service_tier="service_tier")
RESPONSES_READS = Reads(
    usage=UsageMap(input="input_tokens", output="output_tokens", cache_read="input_tokens_details.cached_tokens",
                   cache_write="input_tokens_details.cache_write_tokens",
                   reasoning="output_tokens_details.reasoning_tokens", cost="cost"),
    finish=("incomplete_details.reason", "status"), service_tier="service_tier")
EMBEDDINGS_READS = Reads(usage=UsageMap(input="prompt_tokens", cost="cost"))


class ChatAdapter(SpecAdapter):
    """Chat Completions (and legacy completions): asks a stream for its usage chunk, which the caller never sees
    unless it asked for it."""

    def prepare(self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Prepared | None:
        prepared = super().prepare(instance, args, kwargs)
        assert prepared is not None
        settings = RUNTIME.settings
        if prepared.call.streaming and settings is not None and settings.stream_usage \
                and not given(kwargs.get("stream_options")):
            # Ask for the final usage chunk; the caller never sees it (hidden in read_item).
            prepared.kwargs = {**kwargs, "stream_options": {"include_usage": True}}
            prepared.state = True
        return prepared

    def read_item(self, call: CallRecord, item: Any, state: Any) -> bool:
        self.items.facts(call, item, streamed=True)
        has_usage = self.items.usage_of(call, item, streamed=True)
        # hide the usage-only chunk we asked for (the caller did not)
        return not (has_usage and state is True and not field(item, "choices"))


class ResponsesAdapter(SpecAdapter):
    """responses.create / parse / stream: the response (usage on the final one) comes inside lifecycle events."""

    def read_item(self, call: CallRecord, item: Any, state: Any) -> bool:
        response = field(item, "response")
        if response is not None and getattr(item, "type", "") in (
                "response.created", "response.completed", "response.incomplete", "response.failed"):
            self.read_result(call, response)
        return True


_CHAT = "openai.resources.chat.completions.completions"
_RESPONSES = "openai.resources.responses.responses"
SPEC = ProviderSpec(
    name="openai", provider=HOSTS, request=REQUEST,
    surfaces=(
        Surface(_CHAT, "Completions", ("create", "parse"), reads=CHAT_READS, adapter=ChatAdapter),
        Surface(_CHAT, "AsyncCompletions", async_=("create", "parse"), reads=CHAT_READS, adapter=ChatAdapter),
        Surface(_RESPONSES, "Responses", ("create", "parse"), reads=RESPONSES_READS, adapter=ResponsesAdapter),
        Surface(_RESPONSES, "AsyncResponses", async_=("create", "parse"), reads=RESPONSES_READS,
                adapter=ResponsesAdapter),
        Surface("openai.resources.embeddings", "Embeddings", ("create",), operation="embeddings",
                reads=EMBEDDINGS_READS),
        Surface("openai.resources.embeddings", "AsyncEmbeddings", async_=("create",), operation="embeddings",
                reads=EMBEDDINGS_READS),
        Surface("openai.resources.completions", "Completions", ("create",), operation="text_completion",
                reads=CHAT_READS, adapter=ChatAdapter),
        Surface("openai.resources.completions", "AsyncCompletions", async_=("create",), operation="text_completion",
                reads=CHAT_READS, adapter=ChatAdapter),
    ))


class OpenAIInstrumentor(SpecInstrumentor):
    """Entry point ``llm_cost_openai``: cost and tokens for every call made through the ``openai`` SDK."""

    spec = SPEC
