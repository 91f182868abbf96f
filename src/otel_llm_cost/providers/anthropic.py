"""Anthropic SDK (2.x, on httpx2): first-party, Bedrock and Vertex clients, sync and async.

Surfaces: ``messages.create`` (plain and ``stream=True``), the ``messages.stream()`` helper and
``messages.parse`` (both bypass ``create``), the ``beta.messages`` variants, the copies of those methods the
Bedrock and Vertex beta resources take at import time, raw-response variants, and ``messages.batches.results``
(each succeeded item is a call of its own, priced at the batch rate). ``count_tokens`` is not billable and
is left alone: no span, no metric (the SDK's own ``anthropic.messages.count_tokens`` span, if on, remains).

Usage (see docs/anthropic.md): Anthropic's ``input_tokens`` EXCLUDES the cache, so the conventions' input total is
``input_tokens + cache_creation_input_tokens + cache_read_input_tokens``; 1-hour cache writes come from
``cache_creation.ephemeral_1h_input_tokens``; thinking tokens are the reasoning subset of output; web searches
are priced per request; ``usage.inference_geo`` "us" (US-only inference) selects the table's 1.1x surcharge
variant. Streams report usage on ``message_start`` and cumulatively on ``message_delta``:
later values overwrite, never add.

The SDK's own spans (``anthropic.messages.create``): with ``OTEL_LLM_COST_ANTHROPIC_NATIVE_SPANS=keep``
(default) they are left alone and become children of our span (ours is current during the request); they
carry tokens but no cost and no metrics, so our metrics count every call once. ``disable`` sets the SDK's
own switch ``ANTHROPIC_OPEN_TELEMETRY=false`` (read when a client is constructed) unless the user set it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from typing import Any

from ..core import telemetry as names
from ..core.batches import BATCH, record_batch_item
from ..core.calls import RUNTIME, Adapter, LLMCostInstrumentor, Prepared, logger, mark_ours
from ..core.contract import ClientAttr, ProviderSpec, Reads, RequestMap, Surface
from ..core.provider import RequestReader, SpecInstrumentor
from ..core.reading import field, fields_of, whole
from ..core.streams import AsyncStreamProxy, SyncStreamProxy
from ..core.telemetry import CallRecord, Telemetry
from ..core.usage import Usage
from ..pricing.book import STANDARD_GEOS, price_context

_NATIVE_SWITCH = "ANTHROPIC_OPEN_TELEMETRY"
# Every 2.x client has ``_gen_ai_provider_name``; for one that does not, its class name says (AnthropicAWS,
# GoogleCloud and Foundry inherit "anthropic", as the SDK's own spans say).
_PROVIDER = ClientAttr("_gen_ai_provider_name", "anthropic", by_class=(("Bedrock", "aws.bedrock"),
                                                                         ("Vertex", "gcp.vertex_ai")))
# anthropic 2.x has no sampling parameters (temperature, top_p, top_k) any more
_REQUEST = RequestMap(params=(("max_tokens", names.REQUEST_MAX_TOKENS),), stop="stop_sequences")


# (slot, object, count in it): the counts one level down in a usage report
_NESTED_COUNTS = (("cache_1h", "cache_creation", "ephemeral_1h_input_tokens"),
                  ("thinking", "output_tokens_details", "thinking_tokens"),
                  ("web_searches", "server_tool_use", "web_search_requests"))


class _Counts:
    """Anthropic usage fields as reported so far; a later report of a field overwrites it (streams)."""

    __slots__ = ("cache_1h", "cache_read", "cache_write", "compaction", "geo", "input", "output", "speed",
                 "thinking", "tier", "web_searches")

    def __init__(self) -> None:
        self.input: int | None = None
        self.output: int | None = None
        self.cache_read: int | None = None
        self.cache_write: int | None = None
        self.cache_1h: int | None = None
        self.thinking: int | None = None
        self.web_searches: int | None = None
        self.tier: str | None = None
        self.speed: str | None = None
        self.geo: str | None = None  # usage.inference_geo: "us" (US-only inference, 1.1x) or "global"
        self.compaction: tuple[int, int, int, int] | None = None  # input, output, cache read, cache write

    def read(self, usage: Any) -> None:
        """Take every field ``usage`` (``Usage``, ``BetaUsage`` or a stream's ``MessageDeltaUsage``) reports.
        Each object is read once through ``fields_of`` (every call: a ``field()`` per count cost ~40 calls)."""
        fields = fields_of(usage)
        # ``fields[name] if name in fields``: ``get`` with no call for a dict
        if (value := fields["input_tokens"] if "input_tokens" in fields else None).__class__ is int:  # noqa: SIM401
            self.input = value
        if (value := fields["output_tokens"] if "output_tokens" in fields else None).__class__ is int:  # noqa: SIM401
            self.output = value
        name = "cache_read_input_tokens"
        if (value := fields[name] if name in fields else None).__class__ is int:  # noqa: SIM401
            self.cache_read = value
        name = "cache_creation_input_tokens"
        if (value := fields[name] if name in fields else None).__class__ is int:  # noqa: SIM401
            self.cache_write = value
        for slot, parent, name in _NESTED_COUNTS:
            obj = fields[parent] if parent in fields else None  # noqa: SIM401
            if obj is not None and (value := fields_of(obj).get(name)).__class__ is int:
                setattr(self, slot, value)
        text = fields.get("service_tier")
        if isinstance(text, str) and text:
            self.tier = text
        text = fields.get("speed")
        if isinstance(text, str) and text:
            self.speed = text
        text = fields.get("inference_geo")
        if isinstance(text, str) and text:
            self.geo = text
        iterations = fields.get("iterations")
        if isinstance(iterations, list):
            # compaction runs are billed but NOT included in the top-level counts (BetaUsage docs)
            parts = [it for it in iterations if getattr(it, "type", None) == "compaction"]
            if parts:
                def total(name: str) -> int:
                    return sum(whole(field(it, name)) or 0 for it in parts)

                self.compaction = (total("input_tokens"), total("output_tokens"), total("cache_read_input_tokens"),
                                   total("cache_creation_input_tokens"))

    def usage(self) -> Usage | None:
        """The conventions' Usage: input INCLUDES cache reads and writes; output includes thinking."""
        if self.input is None and self.output is None:
            return None
        cache_read, cache_write = self.cache_read or 0, self.cache_write or 0
        extra_in = extra_out = 0
        if self.compaction is not None:
            c_in, extra_out, c_read, c_write = self.compaction
            cache_read, cache_write = cache_read + c_read, cache_write + c_write
            extra_in = c_in + c_read + c_write
        total_in = None if self.input is None else self.input + (self.cache_read or 0) + (self.cache_write or 0)
        return Usage(
            input_tokens=None if total_in is None else total_in + extra_in,
            output_tokens=None if self.output is None else self.output + extra_out,
            cache_read_tokens=cache_read if self.cache_read is not None or self.compaction else None,
            cache_write_tokens=cache_write if self.cache_write is not None or self.compaction else None,
            cache_write_1h_tokens=self.cache_1h,
            reasoning_tokens=self.thinking,
            web_searches=self.web_searches or None,
        )

    def apply(self, call: CallRecord) -> None:
        call.usage = self.usage()
        if self.tier:
            call.service_tier = self.tier
        # fast mode and US-only inference are price variants of their own, together with the service tier;
        # inference_geo is the Claude API's (Bedrock and Vertex price their regions in their own rows)
        geo = self.geo if call.provider == "anthropic" else None
        if self.speed is None and (geo is None or geo in STANDARD_GEOS):  # the common case: no call (every call)
            return
        context = price_context(self.tier or call.service_tier, self.speed, geo)
        if context is not None:
            call.price_context = context


def _message_facts(call: CallRecord, message: Any, fields: Any = None) -> None:
    """Model, id and stop reason of a message (``fields``: its ``fields_of``, when the caller has it)."""
    if fields is None:
        fields = fields_of(message)
    model = fields["model"] if "model" in fields else None  # noqa: SIM401
    if model.__class__ is str and model:
        call.response_model = model
    mid = fields["id"] if "id" in fields else None  # noqa: SIM401
    if mid.__class__ is str and mid:
        call.response_id = mid
    reason = fields["stop_reason"] if "stop_reason" in fields else None  # noqa: SIM401
    if isinstance(reason, str) and reason:
        call.finish_reasons = [reason]


def read_message(call: CallRecord, message: Any) -> None:
    """Facts and usage of a complete message."""
    fields = fields_of(message)
    _message_facts(call, message, fields)
    usage = fields["usage"] if "usage" in fields else None  # noqa: SIM401
    if usage is not None:
        counts = _Counts()
        counts.read(usage)
        counts.apply(call)


class MessagesAdapter(Adapter):
    """messages.create / parse (plain or ``stream=True``), beta too; ``managed`` for the ``stream()`` helper.
    Hand-written (the contract's escape hatch): usage fields overwrite per field across stream events, and the
    conventions' input total is a sum of three fields plus compaction runs (``_Counts``)."""

    def __init__(self, operation: str, request: RequestReader, reads: Reads | None = None,
                 stream_reads: Reads | None = None, managed: bool = False) -> None:
        self.operation = operation
        self.request = request
        self.managed = managed

    def prepare(self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Prepared | None:
        call = self.request.call(self.operation, instance, kwargs, streaming=True if self.managed else None)
        call.price_request_model_first = call.provider == "aws.bedrock"
        return Prepared(call, kwargs, self.request.attributes(kwargs), _Counts() if call.streaming else None)

    read_kinds = ("type", frozenset(("message_start", "message_delta")))  # read_item reads nothing else

    read_result = staticmethod(read_message)  # type: ignore[assignment]  # no method in between (every call)

    def read_item(self, call: CallRecord, item: Any, state: Any) -> bool:
        try:  # every event: attribute syntax, no call (getattr() is one)
            kind = item.type
        except AttributeError:
            kind = None
        if kind == "message_start":
            message = getattr(item, "message", None)
            _message_facts(call, message)
            usage = getattr(message, "usage", None)
        elif kind == "message_delta":
            reason = getattr(getattr(item, "delta", None), "stop_reason", None)
            if isinstance(reason, str) and reason:
                call.finish_reasons = [reason]
            usage = getattr(item, "usage", None)
        else:
            return True
        if usage is not None and isinstance(state, _Counts):
            state.read(usage)
            state.apply(call)
        return True

    def attach_stream(self, entered: Any, wrap: Callable[[Any], Any]) -> None:
        # MessageStream reads every event (iteration, text_stream, get_final_message, close) from _raw_stream
        entered._raw_stream = wrap(entered._raw_stream)


# -- message batches: every succeeded result is a call of its own ------------------------------------------

class _BatchObserver:
    """Observer of a results stream: records one call per succeeded item as the caller reads it."""

    __slots__ = ("adapter", "instance", "telemetry")

    def __init__(self, telemetry: Telemetry, instance: Any, adapter: MessagesAdapter) -> None:
        self.telemetry = telemetry
        self.instance = instance
        self.adapter = adapter

    def on_item(self, item: Any) -> bool:
        result = getattr(item, "result", None)
        message = getattr(result, "message", None)
        mid = getattr(message, "id", None)
        if getattr(result, "type", None) != "succeeded" or not isinstance(mid, str):
            return True
        provider, host, port = self.adapter.request.endpoint(self.instance)
        model = getattr(message, "model", None)
        call = CallRecord("chat", provider, model if isinstance(model, str) else None, host, port, False)
        call.service_tier = BATCH  # known before the usage is read: a price variant (US-only) keeps the batch rate
        record_batch_item(self.telemetry, mid, call, lambda c: read_message(c, message))
        return True

    def on_result(self, result: Any) -> None:
        """Results are only streamed."""

    def on_end(self, error: BaseException | None) -> None:
        """Each item was recorded as it passed."""


def _observed_results(instrumentor: LLMCostInstrumentor, adapter: Adapter, result: Any, instance: Any,
                      proxy: type) -> Any:
    telemetry = RUNTIME.telemetry
    if telemetry is None or not instrumentor.is_instrumented_by_opentelemetry or not isinstance(
            adapter, MessagesAdapter):
        return result
    try:
        return proxy(result, _BatchObserver(telemetry, instance, adapter))
    except Exception:
        logger.debug("otel-llm-cost: could not observe batch results", exc_info=True)
        return result


def _batch_results(instrumentor: LLMCostInstrumentor, adapter: Adapter) -> Callable[..., Any]:
    """Wrapper factory for ``Batches.results``: a results stream whose every succeeded item is a call."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return _observed_results(instrumentor, adapter, wrapped(*args, **kwargs), instance, SyncStreamProxy)

    return mark_ours(wrapper)


def _async_batch_results(instrumentor: LLMCostInstrumentor, adapter: Adapter) -> Callable[..., Any]:
    """``AsyncBatches.results``: awaited, it gives an async results stream."""

    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> Any:
        return _observed_results(instrumentor, adapter, await wrapped(*args, **kwargs), instance, AsyncStreamProxy)

    return mark_ours(wrapper)


def _surfaces() -> tuple[Surface, ...]:
    out: list[Surface] = []
    for module in ("anthropic.resources.messages.messages", "anthropic.resources.beta.messages.messages",
                   # import-time copies of the first-party beta methods: wrapping the originals misses them
                   "anthropic.lib.bedrock._beta_messages", "anthropic.lib.vertex._beta_messages"):
        out.append(Surface(module, "Messages", ("create", "parse"), adapter=MessagesAdapter))
        out.append(Surface(module, "AsyncMessages", async_=("create", "parse"), adapter=MessagesAdapter))
        for cls in ("Messages", "AsyncMessages"):  # stream() is a plain def in both: a stream manager
            out.append(Surface(module, cls, ("stream",), adapter=partial(MessagesAdapter, managed=True)))
    for module in ("anthropic.resources.messages.batches", "anthropic.resources.beta.messages.batches"):
        out.append(Surface(module, "Batches", ("results",), adapter=MessagesAdapter, wrapper=_batch_results))
        out.append(Surface(module, "AsyncBatches", async_=("results",), adapter=MessagesAdapter,
                           wrapper=_async_batch_results))
    return tuple(out)


SPEC = ProviderSpec(name="anthropic", provider=_PROVIDER, request=_REQUEST, surfaces=_surfaces(),
                    streams_call_sdks=False)  # an HTTP client: its streams call no other SDK


class AnthropicInstrumentor(SpecInstrumentor):
    """Entry point ``llm_cost_anthropic``: cost and tokens for every call made through the ``anthropic`` SDK."""

    spec = SPEC

    def _instrument(self, **kwargs: Any) -> None:
        super()._instrument(**kwargs)
        self._set_native_switch = False
        settings = RUNTIME.settings
        if settings is not None and settings.anthropic_native_spans == "disable" \
                and not os.environ.get(_NATIVE_SWITCH):
            os.environ[_NATIVE_SWITCH] = "false"  # the SDK's own switch, read by clients constructed from now on
            self._set_native_switch = True

    def _uninstrument(self, **kwargs: Any) -> None:
        if getattr(self, "_set_native_switch", False) and os.environ.get(_NATIVE_SWITCH) == "false":
            del os.environ[_NATIVE_SWITCH]
        self._set_native_switch = False
        super()._uninstrument(**kwargs)
