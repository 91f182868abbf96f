"""Cohere's ``cohere`` SDK: ``ClientV2`` / ``AsyncClientV2`` (API v2) and the v1 ``Client`` / ``AsyncClient``:
chat, chat_stream, embed and rerank.

What Cohere bills is ``billed_units`` (input and output tokens, ``search_units`` for rerank), reported beside the
raw ``tokens`` the model saw (these include the prompt template, so they can be larger): the call is priced from
the billed counts, while the span's and metrics' token counts are the raw ones (the billed ones when no raw ones
are reported, as in v1 embed's merged batches). Rerank is billed per search unit. The SDK types every count as a
float. Responses name no model: the request's model prices the call.

Where things are: v2 methods are defined on ``V2Client`` / ``AsyncV2Client`` (``ClientV2`` inherits them first);
v1 ``chat`` / ``chat_stream`` / ``rerank`` on ``BaseCohere`` / ``AsyncBaseCohere``, but v1 ``embed`` is
``Client.embed``, which splits the texts into batches and calls ``BaseCohere.embed`` for each on a thread pool (no
context follows there): only ``Client.embed`` is wrapped, once per logical call, priced from its merged meta. The
subclasses ``ClientV2`` and ``Client`` are listed too: a peer instrumentation that patched them (OpenLLMetry does)
gets us inside its wrapper; without one, nothing is wrapped there. ``chat_stream`` is a generator function: the
request is sent when the caller starts iterating; v2 reports usage on ``message-end`` (``delta.usage``), v1 on
``stream-end`` (``response.meta``). Clients bind ``chat``/``chat_stream`` when they are made: instrument before
making clients (``opentelemetry-instrument`` does).
"""

from __future__ import annotations

from functools import partial

from ..core import telemetry as names
from ..core.contract import Fixed, ProviderSpec, Reads, RequestMap, Server, Surface, UsageMap
from ..core.provider import SpecAdapter, SpecInstrumentor

_TOKENS = UsageMap(input="tokens.input_tokens", output="tokens.output_tokens", cache_read="cached_tokens",
                   floats=True)
_BILLED = UsageMap(input="billed_units.input_tokens", output="billed_units.output_tokens",
                   rerank_searches="billed_units.search_units", floats=True)
_V2_CHAT = Reads(usage=_TOKENS, billed=_BILLED, model=None, finish="finish_reason")
_V2_STREAM = Reads(usage=_TOKENS, billed=_BILLED, usage_at="delta.usage", model=None, finish="delta.finish_reason")
_V1_CHAT = Reads(usage=_TOKENS, billed=_BILLED, usage_at="meta", model=None, id="generation_id",
                 finish="finish_reason")
_V1_STREAM = Reads(usage=_TOKENS, billed=_BILLED, usage_at="response.meta", model=None, id="generation_id",
                   finish="finish_reason")
_META = Reads(usage=_TOKENS, billed=_BILLED, usage_at="meta", model=None)  # embed and rerank, v1 and v2
_STREAMS = partial(SpecAdapter, streaming=True)  # chat_stream has no stream flag: it always streams

_PARAMS = (("temperature", names.REQUEST_TEMPERATURE), ("p", names.REQUEST_TOP_P), ("k", names.REQUEST_TOP_K),
           ("max_tokens", names.REQUEST_MAX_TOKENS), ("seed", names.REQUEST_SEED),
           ("frequency_penalty", names.REQUEST_FREQUENCY_PENALTY),
           ("presence_penalty", names.REQUEST_PRESENCE_PENALTY))


def _surfaces(module: str, owner: str, is_async: bool, chat: Reads, stream: Reads,
              embed: bool = True) -> tuple[Surface, ...]:
    """One client class's surfaces. ``chat_stream`` is listed as a plain method for async clients too: it is an
    async generator function, whose call returns the stream without awaiting."""
    calls = (("chat", "chat", chat), ("rerank", "rerank", _META), *((("embed", "embeddings", _META),) if embed else ()))
    return (*(Surface(module, owner, sync=() if is_async else (method,), async_=(method,) if is_async else (),
                      operation=operation, reads=reads) for method, operation, reads in calls),
            Surface(module, owner, ("chat_stream",), reads=stream, adapter=_STREAMS))


SPEC = ProviderSpec(
    name="cohere", provider=Fixed("cohere"),
    streams_call_sdks=False,  # an HTTP client: its streams call no other SDK
    # clients hold their wrapper; V2Client (``Client().v2``) in cohere 7 only through its raw client
    server=Server(client=("_client_wrapper", "_raw_client._client_wrapper"), base_url="_base_url"),
    request=RequestMap(stream=None, params=_PARAMS, stop="stop_sequences"),
    surfaces=(
        *_surfaces("cohere.v2.client", "V2Client", False, _V2_CHAT, _V2_STREAM),
        *_surfaces("cohere.v2.client", "AsyncV2Client", True, _V2_CHAT, _V2_STREAM),
        *_surfaces("cohere.client_v2", "ClientV2", False, _V2_CHAT, _V2_STREAM),
        *_surfaces("cohere.client_v2", "AsyncClientV2", True, _V2_CHAT, _V2_STREAM),
        # v1: embed only at the batching level (Client), never also per batch (BaseCohere)
        *_surfaces("cohere.base_client", "BaseCohere", False, _V1_CHAT, _V1_STREAM, embed=False),
        *_surfaces("cohere.base_client", "AsyncBaseCohere", True, _V1_CHAT, _V1_STREAM, embed=False),
        *_surfaces("cohere.client", "Client", False, _V1_CHAT, _V1_STREAM),
        *_surfaces("cohere.client", "AsyncClient", True, _V1_CHAT, _V1_STREAM),
    ))


class CohereInstrumentor(SpecInstrumentor):
    """Entry point ``llm_cost_cohere``: cost and tokens for every call made through the ``cohere`` SDK, priced
    from what Cohere bills."""

    spec = SPEC
