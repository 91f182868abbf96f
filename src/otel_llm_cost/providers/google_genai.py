"""Google's ``google-genai`` SDK, on the Gemini API (``gcp.gemini``) and on Vertex AI (``gcp.vertex_ai``).

What is wrapped is the SDK's one-HTTP-request methods (``Models._generate_content`` and
``_generate_content_stream``, sync and ``client.aio``): the public ``generate_content`` may send several requests
(automatic function calling, automatic continuation) and returns only the last one's usage, so wrapping it would
undercount. Chats (``send_message``/``send_message_stream``) go through the same methods: each request is counted
once. ``count_tokens`` and ``compute_tokens`` cost nothing and are not wrapped.

Usage as Google bills it: ``prompt_token_count`` includes the cached subset (``cached_content_token_count``);
``tool_use_prompt_token_count`` is billed as input beside it; ``thoughts_token_count`` is billed as output beside
``candidates_token_count`` (the conventions count reasoning inside output); audio input is read from the per-modality
details, image output from the answer's. A stream's chunks carry the running total: the last one wins, never a sum.

Batch jobs (``Batches.get`` / ``_create`` / ``_list``): each inlined response of a finished job is a call of its
own at the batch rate, recorded once (``core.batches``), priced as of the job's creation. Imagen
(``_generate_images``) is billed per image generated, from the table's per-image unit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from ..core import telemetry as names
from ..core.batches import record_batch_item
from ..core.calls import RUNTIME, Adapter, LLMCostInstrumentor, Prepared, logger, mark_ours, request_attributes
from ..core.contract import ClientFlag, ProviderSpec, Reads, RequestMap, Server, Surface, UsageMap
from ..core.provider import SpecAdapter, SpecInstrumentor
from ..core.reading import field, given, whole
from ..core.telemetry import CallRecord

_MODELS = "google.genai.models"
_BATCHES = "google.genai.batches"
_CONFIG_PARAMS = (
    ("temperature", names.REQUEST_TEMPERATURE),
    ("top_p", names.REQUEST_TOP_P),
    ("top_k", names.REQUEST_TOP_K),
    ("max_output_tokens", names.REQUEST_MAX_TOKENS),
    ("frequency_penalty", names.REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", names.REQUEST_PRESENCE_PENALTY),
    ("seed", names.REQUEST_SEED),
)
_CONFIG_FIELDS = (*(name for name, _ in _CONFIG_PARAMS), "stop_sequences", "candidate_count", "service_tier")
# Vertex reports the tier it served on; ON_DEMAND is the standard price. Provisioned Throughput is a subscription
# billed apart: its calls are priced at their on-demand equivalent (no such variant in the table), and say so
_TRAFFIC_TIERS = {"ON_DEMAND_FLEX": "flex", "ON_DEMAND_PRIORITY": "priority",
                  "PROVISIONED_THROUGHPUT": "provisioned_throughput"}

GENERATE_USAGE = UsageMap(input="prompt_token_count", input_plus=("tool_use_prompt_token_count",),
                          output="candidates_token_count", output_plus=("thoughts_token_count",),
                          reasoning="thoughts_token_count", cache_read="cached_content_token_count")
_GENERATE = Reads(usage=GENERATE_USAGE, usage_at="usage_metadata", model="model_version", id="response_id")
_EMBED = Reads(usage=UsageMap(input="prompt_token_count"), usage_at="usage_metadata", model=None, id=None)


def _modality_count(details: Any, modality: str) -> int:
    """The tokens of ``modality`` in a list of ``ModalityTokenCount`` (objects or mappings)."""
    total = 0
    for entry in details or ():
        kind = field(entry, "modality")
        if str(getattr(kind, "value", kind)).upper() == modality:
            total += whole(field(entry, "token_count")) or 0
    return total


def _enum_text(value: Any) -> str | None:
    text = getattr(value, "value", value)
    return text if isinstance(text, str) and text else None


class GeminiAdapter(SpecAdapter):
    """The spec's reads plus what a path cannot say: request facts inside ``config``, finish reasons as Google's
    enum values, output made of thoughts alone, audio input and image output from the modality details, Vertex
    embeddings' counts."""

    def prepare(self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Prepared | None:
        call = self.request.call(self.operation, instance, kwargs, self.streaming)
        config = kwargs.get("config")
        settings = {} if config is None else {name: field(config, name) for name in _CONFIG_FIELDS}
        attrs = request_attributes(settings, _CONFIG_PARAMS, "stop_sequences")
        count = settings.get("candidate_count")
        if isinstance(count, int) and not isinstance(count, bool) and count != 1:
            attrs[names.REQUEST_CHOICE_COUNT] = count
        tier = _enum_text(settings.get("service_tier"))
        if given(tier) and tier is not None and tier.lower() not in ("unspecified", "service_tier_unspecified"):
            call.service_tier = tier.lower()
        return Prepared(call, kwargs, attrs)

    def read_result(self, call: CallRecord, result: Any) -> None:
        super().read_result(call, result)
        self._complete(call, result, streamed=False)

    def read_item(self, call: CallRecord, item: Any, state: Any) -> bool:
        super().read_item(call, item, state)
        self._complete(call, item, streamed=True)
        return True

    def _complete(self, call: CallRecord, obj: Any, streamed: bool) -> None:
        reasons = [text.lower() for c in field(obj, "candidates") or ()
                   if (text := _enum_text(field(c, "finish_reason"))) is not None]
        if reasons:
            call.finish_reasons = [*(call.finish_reasons or ()), *reasons] if streamed else reasons
        metadata = field(obj, "usage_metadata")
        if metadata is None:
            if self.operation == "embeddings":
                self._vertex_embedding_usage(call, obj)
            return
        tier = _TRAFFIC_TIERS.get(_enum_text(field(metadata, "traffic_type")) or "")
        if tier is not None:
            call.service_tier = tier
        usage = call.usage
        if usage is None:
            return
        if usage.output_tokens is None and usage.reasoning_tokens is not None:
            usage.output_tokens = usage.reasoning_tokens  # all output went to thinking (candidates count omitted)
        audio = _modality_count(field(metadata, "prompt_tokens_details"), "AUDIO")
        if audio:
            usage.input_audio_tokens = audio
        images = _modality_count(field(metadata, "candidates_tokens_details"), "IMAGE")
        if images:  # native image output (gemini-2.5-flash-image) has its own price
            usage.output_image_tokens = images

    def _vertex_embedding_usage(self, call: CallRecord, result: Any) -> None:
        """Vertex's ``predict`` embeddings report tokens per embedding (``statistics.token_count``)."""
        from ..core.usage import Usage

        counts = [field(field(e, "statistics"), "token_count") for e in field(result, "embeddings") or ()]
        tokens = [int(c) for c in counts if isinstance(c, (int, float)) and not isinstance(c, bool) and c >= 0]
        if tokens and len(tokens) == len(counts):
            call.usage = Usage(input_tokens=sum(tokens))


# -- batch jobs: each inlined response of a finished job is a call of its own, at the batch rate ---------------

def _record_batch_jobs(adapter: Adapter, instance: Any, result: Any) -> None:
    """Record every inlined response of the batch job(s) in ``result`` (a ``BatchJob`` or a page of them) not
    recorded before. Key: the job's name and the response's index, so polling a job never counts it twice.
    Failed items carry no response and are not billed; results written to a file (Gemini API ``responses_file``,
    Vertex Cloud Storage or BigQuery) are out of sight."""
    telemetry = RUNTIME.telemetry
    if telemetry is None or not isinstance(adapter, GeminiAdapter):
        return
    jobs = field(result, "batch_jobs")
    for job in jobs if isinstance(jobs, list) else (result,):
        name = field(job, "name")
        inlined = field(field(job, "dest"), "inlined_responses")
        if not isinstance(name, str) or not name or not isinstance(inlined, list):
            continue
        model = field(job, "model")
        sent = field(job, "create_time")  # priced as of when the job was sent, not when it is read
        for index, item in enumerate(inlined):
            response = field(item, "response")
            if response is None:
                continue
            provider, host, port = adapter.request.endpoint(instance)
            call = CallRecord(adapter.operation, provider, model if isinstance(model, str) else None, host, port,
                              False)
            if isinstance(sent, datetime) and sent.tzinfo is not None:
                call.start_time = sent
            record_batch_item(telemetry, f"{name}#{index}", call, partial(adapter.read_result, result=response))


def _observe_batches(instrumentor: LLMCostInstrumentor, adapter: Adapter, instance: Any, result: Any) -> None:
    if not instrumentor.is_instrumented_by_opentelemetry:
        return
    try:
        _record_batch_jobs(adapter, instance, result)
    except Exception:
        logger.debug("otel-llm-cost: could not read a Gemini batch job", exc_info=True)


def _batch_jobs(instrumentor: LLMCostInstrumentor, adapter: Adapter) -> Callable[..., Any]:
    """Wrapper factory for ``Batches.get`` / ``_create`` / ``_list``: the job is the SDK's, untouched."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        result = wrapped(*args, **kwargs)
        _observe_batches(instrumentor, adapter, instance, result)
        return result

    return mark_ours(wrapper)


def _async_batch_jobs(instrumentor: LLMCostInstrumentor, adapter: Adapter) -> Callable[..., Any]:
    """``AsyncBatches``' coroutine methods."""

    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> Any:
        result = await wrapped(*args, **kwargs)
        _observe_batches(instrumentor, adapter, instance, result)
        return result

    return mark_ours(wrapper)


class ImagenAdapter(GeminiAdapter):
    """Imagen bills per image generated and not the prompt: the usage is the number of images the answer carries
    (bytes or a Cloud Storage URI; a prediction filtered for safety carries none and is not billed), priced at the
    table's per-image price. No token count is reported, so none is recorded."""

    def read_result(self, call: CallRecord, result: Any) -> None:
        from ..core.usage import Usage

        images = field(result, "generated_images")
        if not isinstance(images, list):
            return  # no answer to count: unpriced (no_usage), never $0
        made = [image for g in images if (image := field(g, "image")) is not None
                and (field(image, "image_bytes") or field(image, "gcs_uri"))]
        call.usage = Usage(output_images=len(made))


def _adapter(streaming: bool | None) -> Any:
    return partial(GeminiAdapter, streaming=streaming)


SPEC = ProviderSpec(
    name="google_genai", provider=ClientFlag("vertexai", "gcp.vertex_ai", "gcp.gemini"),
    streams_call_sdks=False,  # an HTTP client: its streams call no other SDK
    server=Server(client="_api_client", base_url="_http_options.base_url"),
    request=RequestMap(stream=None),
    surfaces=(
        Surface(_MODELS, "Models", ("_generate_content",), reads=_GENERATE, adapter=_adapter(False)),
        Surface(_MODELS, "Models", ("_generate_content_stream",), reads=_GENERATE, adapter=_adapter(True)),
        Surface(_MODELS, "AsyncModels", async_=("_generate_content",), reads=_GENERATE, adapter=_adapter(False)),
        Surface(_MODELS, "AsyncModels", async_=("_generate_content_stream",), reads=_GENERATE,
                adapter=_adapter(True)),
        Surface(_MODELS, "Models", ("embed_content",), operation="embeddings", reads=_EMBED, adapter=_adapter(False)),
        Surface(_MODELS, "AsyncModels", async_=("embed_content",), operation="embeddings", reads=_EMBED,
                adapter=_adapter(False)),
        # Imagen (generate_images sends one request through _generate_images), priced per image
        Surface(_MODELS, "Models", ("_generate_images",), operation="generate_content", reads=_GENERATE,
                adapter=partial(ImagenAdapter, streaming=False)),
        Surface(_MODELS, "AsyncModels", async_=("_generate_images",), operation="generate_content", reads=_GENERATE,
                adapter=partial(ImagenAdapter, streaming=False)),
        # create() calls _create(); list() pages through _list()
        Surface(_BATCHES, "Batches", ("get", "_create", "_list"), reads=_GENERATE, adapter=_adapter(False),
                wrapper=_batch_jobs),
        Surface(_BATCHES, "AsyncBatches", async_=("get", "_create", "_list"), reads=_GENERATE,
                adapter=_adapter(False), wrapper=_async_batch_jobs),
    ))


class GoogleGenAIInstrumentor(SpecInstrumentor):
    """Entry point ``llm_cost_google_genai``: cost and tokens for every Gemini and Vertex AI call made through the
    ``google-genai`` SDK."""

    spec = SPEC
