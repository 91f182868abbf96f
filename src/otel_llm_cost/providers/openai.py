"""OpenAI SDK (3.x on httpx2, 2.x on httpx) and the OpenAI-compatible providers reached through it.

Surfaces: chat.completions.create/parse (and the ``.stream()`` helper, which goes through create),
responses.create/parse (and ``.stream()``), embeddings.create, legacy completions.create, their
``with_raw_response``/``with_streaming_response`` variants, sync and async.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Collection
from typing import Any

from .. import telemetry as names
from ..streams import end_stream
from ..telemetry import CallRecord
from ..usage import Usage
from ._base import (
    RUNTIME,
    Adapter,
    LLMCostInstrumentor,
    Prepared,
    Target,
    field,
    given,
    logger,
    mark_ours,
    request_attributes,
    server_address,
    whole,
)

_INSTRUMENTS = ("openai >= 1.40.0, < 4",)

# base_url host (suffix) -> gen_ai.provider.name, for OpenAI-compatible providers used through this SDK
_HOST_PROVIDERS = (
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
)
# Providers whose answer to ``stream_options.include_usage`` is known exactly (OpenAI's: ``"usage": null`` on
# every chunk, then one chunk without choices carrying the usage), so that what it adds can be taken out again.
# Elsewhere the option is not injected: a provider may send usage unasked, or answer the option otherwise, and
# the application must see what it would have seen without us.
_USAGE_OPTION_PROVIDERS = frozenset(("openai", "azure.ai.openai", "deepseek"))
_REQUEST_PARAMS = (
    ("temperature", names.REQUEST_TEMPERATURE),
    ("top_p", names.REQUEST_TOP_P),
    ("max_tokens", names.REQUEST_MAX_TOKENS),
    ("max_completion_tokens", names.REQUEST_MAX_TOKENS),
    ("max_output_tokens", names.REQUEST_MAX_TOKENS),
    ("frequency_penalty", names.REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", names.REQUEST_PRESENCE_PENALTY),
    ("seed", names.REQUEST_SEED),
    ("service_tier", names.OPENAI_REQUEST_SERVICE_TIER),
)
# Per client object, dropped with it: an id() key would hand a dead client's provider to a new client that
# reuses its address (seen: calls to api.openai.com recorded as ollama).
_server_cache: weakref.WeakKeyDictionary[Any, tuple[str, str | None, int | None]] = weakref.WeakKeyDictionary()


def _server(instance: Any) -> tuple[str, str | None, int | None]:
    """(gen_ai.provider.name, server.address, server.port) from the resource's client, memoised per client."""
    client = getattr(instance, "_client", None)
    try:
        found = _server_cache.get(client)
    except TypeError:  # not weak-referenceable (or unhashable): read it every time
        found = None
    if found is not None:
        return found
    host, port = server_address(client)
    provider = "openai"
    if "Azure" in type(client).__name__:
        provider = "azure.ai.openai"
    elif host:
        for suffix, name in _HOST_PROVIDERS:
            if host == suffix or host.endswith(suffix):
                provider = name
                break
        else:
            if port == 11434:
                provider = "ollama"
    found = (provider, host, port)
    with contextlib.suppress(TypeError):
        _server_cache[client] = found
    return found


def _request_attributes(kwargs: dict[str, Any]) -> dict[str, Any]:
    attrs = request_attributes(kwargs, _REQUEST_PARAMS, "stop")
    n = kwargs.get("n")
    if given(n) and isinstance(n, int) and n != 1:
        attrs[names.REQUEST_CHOICE_COUNT] = n
    return attrs


def _chat_usage(usage: Any) -> Usage:
    """Chat/legacy-completions usage: cached, audio tokens inside prompt; reasoning, audio inside completion."""
    prompt = field(usage, "prompt_tokens_details")
    completion = field(usage, "completion_tokens_details")
    cached = whole(field(prompt, "cached_tokens"))
    if cached is None:  # DeepSeek reports cache hits at the top level
        cached = whole(field(usage, "prompt_cache_hit_tokens"))
    return Usage(
        input_tokens=whole(field(usage, "prompt_tokens")),
        output_tokens=whole(field(usage, "completion_tokens")),
        cache_read_tokens=cached,
        cache_write_tokens=whole(field(prompt, "cache_write_tokens")),
        reasoning_tokens=whole(field(completion, "reasoning_tokens")),
        input_audio_tokens=whole(field(prompt, "audio_tokens")),
        output_audio_tokens=whole(field(completion, "audio_tokens")),
        input_image_tokens=whole(field(prompt, "image_tokens")),
    )


def _responses_usage(usage: Any) -> Usage:
    inp = field(usage, "input_tokens_details")
    out = field(usage, "output_tokens_details")
    return Usage(
        input_tokens=whole(field(usage, "input_tokens")),
        output_tokens=whole(field(usage, "output_tokens")),
        cache_read_tokens=whole(field(inp, "cached_tokens")),
        cache_write_tokens=whole(field(inp, "cache_write_tokens")),
        reasoning_tokens=whole(field(out, "reasoning_tokens")),
    )


def _provider_cost(usage: Any) -> float | None:
    """A cost the provider reported itself (OpenRouter ``usage.cost``), else None."""
    cost = field(usage, "cost")
    if not isinstance(cost, (int, float)) or isinstance(cost, bool):
        return None
    try:
        return float(cost)
    except OverflowError:  # an int past the float range: out of range, as telemetry will say
        return float("inf")


class _OpenAIAdapter(Adapter):
    """Request side shared by every OpenAI surface."""

    def prepare(self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Prepared | None:
        provider, host, port = _server(instance)
        model = kwargs.get("model")
        streaming = kwargs.get("stream") is True
        call = CallRecord(self.operation, provider, model if isinstance(model, str) else None, host, port, streaming)
        tier = kwargs.get("service_tier")
        if given(tier) and isinstance(tier, str) and tier != "auto":
            call.service_tier = tier
        return Prepared(call, kwargs, _request_attributes(kwargs))

    def _response_facts(self, call: CallRecord, obj: Any) -> None:
        model = field(obj, "model")
        if isinstance(model, str) and model:
            call.response_model = model
        rid = field(obj, "id")
        if isinstance(rid, str) and call.response_id is None:
            call.response_id = rid
        tier = field(obj, "service_tier")
        if isinstance(tier, str) and tier:
            call.service_tier = tier


class ChatAdapter(_OpenAIAdapter):
    """chat.completions (and legacy completions with ``operation = "text_completion"``)."""

    operation = "chat"

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

    def read_result(self, call: CallRecord, result: Any) -> None:
        self._response_facts(call, result)
        choices = field(result, "choices")  # of any type in a broken answer: its usage still counts
        reasons = [field(c, "finish_reason") for c in choices] if isinstance(choices, list) else ()
        if any(reasons):
            call.finish_reasons = [str(r) for r in reasons if r]
        usage = field(result, "usage")
        if usage is not None:
            call.usage = _chat_usage(usage)
            call.provider_cost = _provider_cost(usage)

    def read_item(self, call: CallRecord, item: Any, state: Any) -> bool:
        if call.response_model is None or call.response_id is None:
            self._response_facts(call, item)
        choices = field(item, "choices")
        for choice in choices if isinstance(choices, list) else ():
            reason = field(choice, "finish_reason")
            if reason:
                call.finish_reasons = [*(call.finish_reasons or ()), str(reason)]
        usage = field(item, "usage")
        if usage is not None:
            call.usage = _chat_usage(usage)
            call.provider_cost = _provider_cost(usage)
            tier = field(item, "service_tier")
            if isinstance(tier, str) and tier:
                call.service_tier = tier
        return state is not True or _without_asked_usage(item, choices, usage, bool(call.finish_reasons))


def _without_asked_usage(item: Any, choices: Any, usage: Any, finished: bool) -> bool:
    """Take out of a chunk what exists only because we asked for usage (the caller did not); False hides it.

    That is the usage chunk: no choices, nothing of its own but the usage, with counts, or empty (``null``)
    after the answer's finish reason (before it, a chunk without choices is part of the answer). And on every
    other chunk the ``usage`` the API then writes (``null``, or the counts on the last content chunk): the caller
    gets the chunk as unasked, ``model_dump(exclude_unset=True)`` included. Read before, by ``read_item``.
    """
    fields_set = getattr(item, "__pydantic_fields_set__", None)
    if not isinstance(fields_set, set) or "usage" not in fields_set:
        return True
    if not choices and (usage is not None or finished) and not getattr(item, "__pydantic_extra__", None):
        return False  # the usage chunk we asked for (an Azure prompt_filter_results chunk has extras: kept)
    vars(item)["usage"] = None
    fields_set.discard("usage")
    return True


class TextCompletionAdapter(ChatAdapter):
    operation = "text_completion"


class ResponsesAdapter(_OpenAIAdapter):
    """responses.create / parse / stream: usage arrives on the final ``response.completed`` event."""

    operation = "chat"

    def read_result(self, call: CallRecord, result: Any) -> None:
        self._response_facts(call, result)
        status = field(result, "status")
        incomplete = field(field(result, "incomplete_details"), "reason")
        if isinstance(incomplete, str) and incomplete:
            call.finish_reasons = [incomplete]
        elif isinstance(status, str) and status:
            call.finish_reasons = [status]
        usage = field(result, "usage")
        if usage is not None:
            call.usage = _responses_usage(usage)
            call.provider_cost = _provider_cost(usage)

    def read_item(self, call: CallRecord, item: Any, state: Any) -> bool:
        response = field(item, "response")
        if response is not None and getattr(item, "type", "") in (
                "response.created", "response.completed", "response.incomplete", "response.failed"):
            self.read_result(call, response)
        return True


class EmbeddingsAdapter(_OpenAIAdapter):
    operation = "embeddings"

    def read_result(self, call: CallRecord, result: Any) -> None:
        self._response_facts(call, result)
        usage = field(result, "usage")
        if usage is not None:
            call.usage = Usage(input_tokens=whole(field(usage, "prompt_tokens")), output_tokens=None)
            call.provider_cost = _provider_cost(usage)


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


_CHAT = ChatAdapter()
_RESPONSES = ResponsesAdapter()
_EMBEDDINGS = EmbeddingsAdapter()
_COMPLETIONS = TextCompletionAdapter()


class OpenAIInstrumentor(LLMCostInstrumentor):
    """Entry point ``llm_cost_openai``: cost and tokens for every call made through the ``openai`` SDK."""

    name = "openai"
    instruments: Collection[str] = _INSTRUMENTS

    def targets(self) -> list[Target]:
        chat = "openai.resources.chat.completions.completions"
        responses = "openai.resources.responses.responses"
        out: list[Target] = []
        for module, cls, methods, adapter in (
            (chat, "Completions", ("create", "parse"), _CHAT),
            (responses, "Responses", ("create", "parse"), _RESPONSES),
            ("openai.resources.embeddings", "Embeddings", ("create",), _EMBEDDINGS),
            ("openai.resources.completions", "Completions", ("create",), _COMPLETIONS),
        ):
            for method in methods:
                out.append(Target(module, f"{cls}.{method}", adapter))
                out.append(Target(module, f"Async{cls}.{method}", adapter, is_async=True))
        for module, cls in (("openai.lib.streaming.chat._completions", "ChatCompletionStream"),
                            ("openai.lib.streaming.responses._responses", "ResponseStream")):
            out.append(Target(module, f"{cls}.close", _CHAT, factory=_helper_close))
            out.append(Target(module, f"Async{cls}.close", _CHAT, True, factory=_async_helper_close))
        return out
