"""OpenAI SDK (3.x on httpx2, 2.x on httpx) and the OpenAI-compatible providers reached through it.

Surfaces: chat.completions.create/parse (and the ``.stream()`` helper, which goes through create),
responses.create/parse (and ``.stream()``), embeddings.create, legacy completions.create, their
``with_raw_response``/``with_streaming_response`` variants, sync and async.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..core import telemetry as names
from ..core.calls import RUNTIME, Adapter, LLMCostInstrumentor, Prepared, logger, mark_ours
from ..core.contract import ByHost, ProviderSpec, Reads, RequestMap, Surface, UsageMap
from ..core.provider import SpecAdapter, SpecInstrumentor
from ..core.reading import field, fields_of, given
from ..core.streams import end_stream
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
# Providers whose answer to ``stream_options.include_usage`` is known exactly (OpenAI's: ``"usage": null`` on
# every chunk, then one chunk without choices carrying the usage), so that what it adds can be taken out again.
# Elsewhere the option is not injected: a provider may send usage unasked, or answer the option otherwise, and
# the application must see what it would have seen without us.
_USAGE_OPTION_PROVIDERS = frozenset(("openai", "azure.ai.openai", "deepseek"))
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
                and prepared.call.provider in _USAGE_OPTION_PROVIDERS and not given(kwargs.get("stream_options")):
            # Ask for the final usage chunk; the caller never sees it (hidden in read_item).
            prepared.kwargs = {**kwargs, "stream_options": {"include_usage": True}}
            prepared.state = True
        return prepared

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        items = self.items
        # a content chunk (no usage, no finish reason, model and id known) can be passed with no reader call when
        # the reader reads nothing else of a chunk: its finish reasons from "choices[].finish_reason", its usage
        # under "usage", no duration
        self._quick = items.finish_over == ("choices", "finish_reason") and items.usage_name == "usage" \
            and items.duration is None

    def read_item(self, call: CallRecord, item: Any, state: Any) -> bool:
        if self._quick and call.response_id is not None and call.response_model is not None:
            try:  # most chunks of a stream: attribute syntax and dict lookups only, no call
                fields = item.__dict__
                choices = fields["choices"]
                quiet = fields["usage"] is None and choices.__class__ is list and choices \
                    and not item.__pydantic_extra__
                if quiet:
                    for choice in choices:  # a loop, not all(): no generator calls
                        if choice.__dict__["finish_reason"] is not None:
                            quiet = False
                            break
                if quiet:
                    if state is True:  # as _without_asked_usage does with a chunk that has choices
                        fields_set = item.__pydantic_fields_set__
                        if fields_set.__class__ is set and "usage" in fields_set:
                            fields["usage"] = None
                            fields_set.discard("usage")
                    return True
            except (AttributeError, KeyError):
                pass  # not a plain model chunk: read it the long way
        view = fields_of(item)  # read once for both (every chunk)
        self.items.item(call, item, view)
        if state is not True:
            return True
        return _without_asked_usage(item, view.get("choices"), view.get("usage"), bool(call.finish_reasons))


def _without_asked_usage(item: Any, choices: Any, usage: Any, finished: bool) -> bool:
    """Take out of a chunk what exists only because we asked for usage (the caller did not); False hides it.

    That is the usage chunk: no choices, nothing of its own but the usage, with counts, or empty (``null``)
    after the answer's finish reason (before it, a chunk without choices is part of the answer). And on every
    other chunk the ``usage`` the API then writes (``null``, or the counts on the last content chunk): the caller
    gets the chunk as unasked, ``model_dump(exclude_unset=True)`` included. Read before, by ``read_item``.
    """
    try:  # every chunk: attribute syntax, no call
        fields_set = item.__pydantic_fields_set__
    except AttributeError:
        return True
    if fields_set.__class__ is not set or "usage" not in fields_set:
        return True
    if not choices and (usage is not None or finished) and not getattr(item, "__pydantic_extra__", None):
        return False  # the usage chunk we asked for (an Azure prompt_filter_results chunk has extras: kept)
    vars(item)["usage"] = None
    fields_set.discard("usage")
    return True


class ResponsesAdapter(SpecAdapter):
    """responses.create / parse / stream: the response (usage on the final one) comes inside lifecycle events."""

    def read_item(self, call: CallRecord, item: Any, state: Any) -> bool:
        response = field(item, "response")
        if response is not None and getattr(item, "type", "") in (
                "response.created", "response.completed", "response.incomplete", "response.failed"):
            self.read_result(call, response)
        return True


def _end_helper_call(helper: Any) -> None:
    """The stream helpers (``chat.completions.stream()``, ``responses.stream()``) close the HTTP response directly,
    past our stream proxy in their ``_raw_stream``: a helper left early (or failing inside its ``with``) would end
    its call only when garbage-collected, or never if the app keeps it. So their ``close()`` ends it too."""
    try:
        end_stream(getattr(helper, "_raw_stream", None))
    except Exception:
        logger.debug("otel-llm-cost: could not end a stream helper's call", exc_info=True)


def _helper_close(instrumentor: LLMCostInstrumentor, adapter: Adapter) -> Callable[..., Any]:
    """Wrapper factory for a sync stream helper's ``close()``."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            return wrapped(*args, **kwargs)
        finally:
            _end_helper_call(instance)

    return mark_ours(wrapper)


def _async_helper_close(instrumentor: LLMCostInstrumentor, adapter: Adapter) -> Callable[..., Any]:
    """Wrapper factory for an async stream helper's ``close()``."""

    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> Any:
        try:
            return await wrapped(*args, **kwargs)
        finally:
            _end_helper_call(instance)

    return mark_ours(wrapper)


def _helper_surfaces() -> tuple[Surface, ...]:
    """The stream helpers' ``close()``: not a call of its own, the end of the call whose stream they hold."""
    out: list[Surface] = []
    for module, cls in (("openai.lib.streaming.chat._completions", "ChatCompletionStream"),
                        ("openai.lib.streaming.responses._responses", "ResponseStream")):
        out.append(Surface(module, cls, ("close",), reads=CHAT_READS, wrapper=_helper_close))
        out.append(Surface(module, f"Async{cls}", async_=("close",), reads=CHAT_READS, wrapper=_async_helper_close))
    return tuple(out)


_CHAT = "openai.resources.chat.completions.completions"
_RESPONSES = "openai.resources.responses.responses"
SPEC = ProviderSpec(
    name="openai", provider=HOSTS, request=REQUEST,
    streams_call_sdks=False,  # an HTTP client: its streams call no other SDK
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
        *_helper_surfaces(),
    ))


class OpenAIInstrumentor(SpecInstrumentor):
    """Entry point ``llm_cost_openai``: cost and tokens for every call made through the ``openai`` SDK."""

    spec = SPEC
