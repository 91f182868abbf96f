"""Groq's native SDK (``groq.Groq``, ``AsyncGroq``): chat completions plain and streamed, and embeddings.

The API is OpenAI-shaped, so the request parameters and the usage fields are OpenAI's Chat Completions ones; what
differs is the stream: its usage arrives on the final chunk under ``x_groq.usage`` (``chunk.usage`` stays None),
and the SDK has no ``stream_options`` to ask for it (Groq always sends it).
"""

from __future__ import annotations

from ..core.contract import Fixed, ProviderSpec, Reads, RequestMap, Surface, UsageMap
from ..core.provider import SpecInstrumentor
from .openai import CHAT_PARAMS, CHAT_READS, CHAT_USAGE

_CHAT = "groq.resources.chat.completions"
_STREAM_READS = Reads(usage=CHAT_USAGE, usage_at=("x_groq.usage", "usage"), finish="choices[].finish_reason",
                      service_tier="service_tier")
_EMBEDDINGS = Reads(usage=UsageMap(input="prompt_tokens"))

SPEC = ProviderSpec(
    name="groq", provider=Fixed("groq"),
    streams_call_sdks=False,  # an HTTP client: its streams call no other SDK
    # "on_demand" is Groq's standard tier: the price table's plain prices
    request=RequestMap(params=CHAT_PARAMS, stop="stop", service_tier="service_tier",
                       tier_unset=("auto", "on_demand"), choice_count="n"),
    surfaces=(
        Surface(_CHAT, "Completions", ("create",), reads=CHAT_READS, stream_reads=_STREAM_READS),
        Surface(_CHAT, "AsyncCompletions", async_=("create",), reads=CHAT_READS, stream_reads=_STREAM_READS),
        Surface("groq.resources.embeddings", "Embeddings", ("create",), operation="embeddings", reads=_EMBEDDINGS),
        Surface("groq.resources.embeddings", "AsyncEmbeddings", async_=("create",), operation="embeddings",
                reads=_EMBEDDINGS),
    ))


class GroqInstrumentor(SpecInstrumentor):
    """Entry point ``llm_cost_groq``: cost and tokens for every call made through the ``groq`` SDK."""

    spec = SPEC

