"""Mistral's native SDK (``mistralai``: ``from mistralai.client import Mistral`` from mistralai 2, ``from mistralai
import Mistral`` in 1.x): chat, FIM and agents completions plain and streamed (sync and ``*_async`` methods on the
same classes), embeddings, OCR and audio transcription.

``chat.parse`` / ``parse_async`` / ``parse_stream`` call ``complete`` / ``stream`` underneath, so they are counted
there, once. Plain results carry OpenAI-shaped usage (``prompt_tokens`` including the cached subset, reported
under ``prompt_tokens_details.cached_tokens`` as a pydantic extra); a stream is a separate method (no ``stream``
keyword decides it) whose items are ``CompletionEvent``s with the chunk under ``data``: usage arrives on the final
chunk, unasked. OCR is billed per page (``usage_info.pages_processed``) and transcription per audio minute
(``usage.prompt_audio_seconds``), priced where the table has those prices. The server is the SDK configuration's
(``api.mistral.ai``, its EU and US hosts, or the ``server_url`` given); Azure AI and Vertex AI deployments, which
have SDK packages of their own (``mistralai.azure``, ``mistralai.gcp``), are named by their hosts.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from ..core import telemetry as names
from ..core.contract import ByHost, ProviderSpec, Reads, RequestMap, Server, Surface, UsageMap
from ..core.provider import SpecAdapter, SpecInstrumentor

_USAGE = UsageMap(input="prompt_tokens", output="completion_tokens",
                  cache_read="prompt_tokens_details.cached_tokens")
_RESULT = Reads(usage=_USAGE, finish="choices[].finish_reason", service_tier="usage.service_tier")
# a stream's items are CompletionEvents: the chunk is under ``data``, its usage on the last one
_STREAMED = Reads(usage=_USAGE, usage_at="data.usage", model="data.model", id="data.id",
                  finish="data.choices[].finish_reason", service_tier="data.usage.service_tier")
_EMBEDDINGS = Reads(usage=UsageMap(input="prompt_tokens"))
_OCR = Reads(usage=UsageMap(document_pages="pages_processed"), usage_at="usage_info", id=None)
# transcription is billed per audio minute alone: its token counts (the audio's, as tokens) are not billed again
# where a model also has token prices (voxtral-small-latest)
_TRANSCRIPTION = Reads(usage=UsageMap(audio_seconds="prompt_audio_seconds"), id=None)

_PARAMS = (
    ("temperature", names.REQUEST_TEMPERATURE),
    ("top_p", names.REQUEST_TOP_P),
    ("top_k", names.REQUEST_TOP_K),
    ("max_tokens", names.REQUEST_MAX_TOKENS),
    ("frequency_penalty", names.REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", names.REQUEST_PRESENCE_PENALTY),
    ("random_seed", names.REQUEST_SEED),
)


def _server_url(resource: Any) -> Any:
    """The URL a resource sends to: its configuration's ``server_url``, else the named server's (global, eu, us)."""
    config = getattr(resource, "sdk_configuration", None)
    try:
        return None if config is None else config.get_server_details()[0]
    except ValueError:  # an unknown server name: the SDK says so to the caller itself
        return None


_STREAMING = partial(SpecAdapter, streaming=True)


def _completions(module: str, owner: str, operation: str = "chat") -> tuple[Surface, ...]:
    """``complete`` / ``complete_async`` and ``stream`` / ``stream_async`` of one completions class."""
    return (Surface(module, owner, ("complete",), ("complete_async",), operation, reads=_RESULT),
            Surface(module, owner, ("stream",), ("stream_async",), operation, reads=_STREAMED, adapter=_STREAMING))


def _surfaces(package: str) -> tuple[Surface, ...]:
    """Every surface of the SDK laid out under ``package``: ``mistralai.client`` from mistralai 2, ``mistralai``
    in 1.x (``from mistralai import Mistral``); the layout a release does not have is not there to wrap."""
    return (
        *_completions(f"{package}.chat", "Chat"),
        *_completions(f"{package}.fim", "Fim", "text_completion"),
        *_completions(f"{package}.agents", "Agents"),
        Surface(f"{package}.embeddings", "Embeddings", ("create",), ("create_async",), "embeddings",
                reads=_EMBEDDINGS),
        Surface(f"{package}.ocr", "Ocr", ("process",), ("process_async",), "ocr", reads=_OCR),
        Surface(f"{package}.transcriptions", "Transcriptions", ("complete",), ("complete_async",), "transcription",
                reads=_TRANSCRIPTION),
    )


SPEC = ProviderSpec(
    name="mistralai",
    streams_call_sdks=False,  # an HTTP client: its streams call no other SDK
    provider=ByHost(hosts=(("aiplatform.googleapis.com", "gcp.vertex_ai"), (".azure.com", "azure.ai.inference")),
                    default="mistral_ai"),
    server=Server(client="", base_url=_server_url),
    # "auto" and "standard_only" name no tier of their own: the response's usage says which served the call
    request=RequestMap(stream=None, params=_PARAMS, stop="stop", service_tier="service_tier",
                       tier_unset=("auto", "standard_only"), choice_count="n"),
    surfaces=(
        *_surfaces("mistralai.client"),
        *_surfaces("mistralai"),
        *_completions("mistralai.azure.client.chat", "Chat"),
        *_completions("mistralai.gcp.client.chat", "Chat"),
    ))


class MistralInstrumentor(SpecInstrumentor):
    """Entry point ``llm_cost_mistralai``: cost and tokens for every call made through the ``mistralai`` SDK."""

    spec = SPEC
