"""AWS Bedrock through boto3 / botocore ``bedrock-runtime`` clients: Converse, InvokeModel and their streams.

Hook: ``botocore.client.BaseClient._make_api_call(operation_name, api_params)``, which every client method of every
client calls however the client was made (``boto3.client``, sessions, ``botocore`` directly, before or after
``instrument()``). It is the method ``opentelemetry-instrumentation-botocore`` wraps too, so with that peer (or
OpenLLMetry's Bedrock wrappers, which sit above it on the client) our wrapper runs inside their span and puts the
cost on it. Calls of other services and other operations pass straight through. aiobotocore (and aioboto3 over
it) overrides that method with a coroutine, wrapped the same way when it is installed; its InvokeModel body reads
asynchronously, so those calls are counted from the token headers.

Usage, in every place Bedrock reports it (``docs``: README "AWS Bedrock"). Bedrock's own counts (Converse
``usage``, the ``x-amzn-bedrock-*-token-count`` response headers, a stream's ``amazon-bedrock-invocationMetrics``)
EXCLUDE the cache, like Anthropic's, so the conventions' input total adds cache reads and writes. InvokeModel bodies
are each model family's own JSON; the headers are the baseline that works for any model, and a body's usage, when
its family is known, refines it (cache counts). The body is read once and handed back as an equal
``StreamingBody`` (what the official botocore instrumentation does), so the caller reads it as before.
"""

from __future__ import annotations

import inspect
import io
import json
from collections.abc import Callable, Mapping
from typing import Any

from ..core import telemetry as names
from ..core.calls import Adapter, Prepared, logger, request_attributes
from ..core.contract import Fixed, ProviderSpec, RequestMap, Server, Surface, UsageMap
from ..core.provider import RequestReader, SpecInstrumentor, UsageReader
from ..core.reading import Reader, compile_path, field, whole
from ..core.telemetry import CallRecord, error_type
from ..core.usage import USAGE_FIELDS, Usage
from .openai import CHAT_USAGE

# operation name -> (streamed, InvokeModel-style model-native body)
_OPERATIONS = {"Converse": (False, False), "ConverseStream": (True, False), "InvokeModel": (False, True),
               "InvokeModelWithResponseStream": (True, True)}
_SERVICE = "bedrock-runtime"
CLOUD_REGION = "cloud.region"  # the conventions' name for the AWS region the client calls


def _native(input: str, output: str, cache_read: str, cache_write: str) -> UsageReader:
    """A count map where the input count excludes cache reads and writes (they are added to the input total)."""
    return UsageReader(UsageMap(input=input, output=output, cache_read=cache_read, cache_write=cache_write,
                                input_plus=(cache_read, cache_write)))


_CONVERSE_USAGE = _native("inputTokens", "outputTokens", "cacheReadInputTokens", "cacheWriteInputTokens")
_METRICS_USAGE = _native("inputTokenCount", "outputTokenCount", "cacheReadInputTokenCount",
                         "cacheWriteInputTokenCount")
_HEADERS = ("x-amzn-bedrock-input-token-count", "x-amzn-bedrock-output-token-count",
            "x-amzn-bedrock-cache-read-input-token-count", "x-amzn-bedrock-cache-write-input-token-count")
_HEADER_USAGE = _native(*_HEADERS)
_ANTHROPIC = UsageReader(UsageMap(
    input="input_tokens", output="output_tokens", cache_read="cache_read_input_tokens",
    cache_write="cache_creation_input_tokens", cache_write_1h="cache_creation.ephemeral_1h_input_tokens",
    input_plus=("cache_read_input_tokens", "cache_creation_input_tokens")))
# InvokeModel bodies, by model family: (where the usage object is, None for the body itself; its count map).
# The first that yields a count wins; streamed chunks are read the same way.
_BODY_USAGE: tuple[tuple[Reader | None, UsageReader], ...] = (
    (compile_path("amazon-bedrock-invocationMetrics"), _METRICS_USAGE),  # any model's final stream chunk
    (compile_path("usage"), _ANTHROPIC),  # Anthropic Claude (and message_delta of its streams)
    (compile_path("message.usage"), _ANTHROPIC),  # Anthropic stream message_start
    (compile_path("usage"), _native("inputTokens", "outputTokens", "cacheReadInputTokenCount",
                                    "cacheWriteInputTokenCount")),  # Amazon Nova
    (compile_path("usage"), UsageReader(CHAT_USAGE)),  # OpenAI-style bodies (gpt-oss, DeepSeek, Mistral chat)
    (None, UsageReader(UsageMap(input="prompt_token_count", output="generation_token_count"))),  # Meta Llama
    (None, UsageReader(UsageMap(input="inputTextTokenCount"))),  # Amazon Titan text and embeddings
    (compile_path("meta.billed_units"), UsageReader(UsageMap(input="input_tokens", output="output_tokens"))),  # Cohere
)
_FINISH = tuple(compile_path(p) for p in (
    "stopReason", "stop_reason", "delta.stop_reason", "finish_reason", "completionReason",
    "choices[].finish_reason", "choices[].stop_reason", "results[].completionReason", "outputs[].stop_reason",
    "generations[].finish_reason"))
_INFERENCE_PARAMS = (("maxTokens", names.REQUEST_MAX_TOKENS), ("temperature", names.REQUEST_TEMPERATURE),
                     ("topP", names.REQUEST_TOP_P))
# InvokeModel bodies: each family's own names for the parameters Converse's inferenceConfig has (first present
# wins): Anthropic / Mistral / OpenAI-style / AI21 at the top level, Meta Llama ``max_gen_len``, Cohere ``p``/``k``,
# Amazon Nova ``inferenceConfig`` (snake_case in InvokeModel), Amazon Titan ``textGenerationConfig``.
_BODY_PARAMS = tuple((attribute, tuple(tuple(p.split(".")) for p in paths)) for attribute, paths in (
    (names.REQUEST_MAX_TOKENS, ("max_tokens", "max_completion_tokens", "max_gen_len", "inferenceConfig.max_new_tokens",
                                "inferenceConfig.maxTokens", "textGenerationConfig.maxTokenCount")),
    (names.REQUEST_TEMPERATURE, ("temperature", "inferenceConfig.temperature", "textGenerationConfig.temperature")),
    (names.REQUEST_TOP_P, ("top_p", "p", "inferenceConfig.top_p", "inferenceConfig.topP",
                           "textGenerationConfig.topP")),
    (names.REQUEST_TOP_K, ("top_k", "k", "inferenceConfig.top_k", "inferenceConfig.topK")),
    (names.REQUEST_FREQUENCY_PENALTY, ("frequency_penalty",)),
    (names.REQUEST_PRESENCE_PENALTY, ("presence_penalty",)),
    (names.REQUEST_SEED, ("seed",)),
    (names.REQUEST_STOP_SEQUENCES, ("stop_sequences", "stop", "inferenceConfig.stopSequences",
                                    "textGenerationConfig.stopSequences")),
))
_UNSET_TIERS = ("default", "standard", "")


def _overlay(seen: Usage | None, found: Usage) -> Usage:
    """``found`` over what was seen before: a later report of a count replaces it, others stay."""
    if seen is None:
        return found
    out = Usage()
    for name in USAGE_FIELDS:
        value = getattr(found, name)
        setattr(out, name, getattr(seen, name) if value is None else value)
    return out


def _tier(value: Any) -> str | None:
    """A service tier from ``{"type": "flex"}`` or ``"flex"``; None for the default tier."""
    tier = field(value, "type") if isinstance(value, Mapping) else value
    return tier if isinstance(tier, str) and tier.lower() not in _UNSET_TIERS else None


def _latency_tier(performance: Any) -> str | None:
    latency = field(performance, "latency") if isinstance(performance, Mapping) else performance
    return "latency_optimized" if latency == "optimized" else None


def _cache_1h(usage: Any) -> int | None:
    """Converse ``usage.cacheDetails`` ([{ttl: "5m" | "1h", inputTokens}]): the cache writes with a 1-hour TTL
    (they are part of ``cacheWriteInputTokens``, priced at the 1-hour write rate)."""
    details = field(usage, "cacheDetails")
    if not isinstance(details, list):
        return None
    found = [whole(field(d, "inputTokens")) for d in details if isinstance(d, Mapping) and d.get("ttl") == "1h"]
    return sum(n for n in found if n is not None) if found else (0 if details else None)


def _converse_usage(usage: Any) -> Usage | None:
    found = _CONVERSE_USAGE(usage)[0]
    if found is not None:
        one_hour = _cache_1h(usage)
        if one_hour is not None:
            found.cache_write_1h_tokens = one_hour
    return found


def _body_bytes(body: Any) -> bytes | str | None:
    """The InvokeModel request body as botocore will send it, without consuming it: bytes or str as given; a
    seekable file-like object is read and put back where it was (any other stream is left alone: None)."""
    if isinstance(body, (bytes, bytearray, str)):
        return bytes(body) if isinstance(body, bytearray) else body
    seek, tell, read = (getattr(body, n, None) for n in ("seek", "tell", "read"))
    if not (callable(seek) and callable(tell) and callable(read)) or inspect.iscoroutinefunction(read):
        return None  # not a file, or one that reads asynchronously (left to aiobotocore)
    seekable = getattr(body, "seekable", None)
    if callable(seekable) and not seekable():
        return None
    where = tell()
    try:
        data = read()
    finally:
        seek(where)
    return data if isinstance(data, (bytes, str)) else None


def body_request_attributes(body: Any) -> dict[str, Any]:
    """The gen_ai.request.* attributes of a model-native InvokeModel body (what Converse's inferenceConfig gives)."""
    data = _body_bytes(body)
    if not data:
        return {}
    try:
        parsed = json.loads(data)
    except ValueError:
        return {}
    attrs: dict[str, Any] = {}
    if not isinstance(parsed, Mapping):
        return attrs
    for attribute, paths in _BODY_PARAMS:
        for keys in paths:  # plain JSON dicts: a walk by key (no object reading needed)
            value: Any = parsed
            for key in keys:
                value = value.get(key) if isinstance(value, dict) else None
            if value is None:
                continue
            if attribute == names.REQUEST_STOP_SEQUENCES:
                if isinstance(value, str):
                    attrs[attribute] = [value]
                elif isinstance(value, list) and value:
                    attrs[attribute] = [str(v) for v in value]
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                attrs[attribute] = value
            break
    return attrs


def _is_embedding(model: Any) -> bool:
    return isinstance(model, str) and "embed" in model.lower()


class _Unreadable(io.RawIOBase):
    """A body whose first read failed inside our wrapper: the caller's read raises that same error."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error

    def read(self, size: int | None = -1) -> bytes:
        raise self.error


class BedrockAdapter(Adapter):
    """Reads the four inference operations of ``bedrock-runtime`` from ``_make_api_call``'s arguments and
    results (dicts), and the ``EventStream`` of the streamed ones (``response["stream"]`` / ``["body"]``)."""

    stream_inside = True

    def __init__(self, operation: str, request: RequestReader, reads: Any = None, stream_reads: Any = None) -> None:
        self.request = request

    def prepare(self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Prepared | None:
        operation = args[0] if args else kwargs.get("operation_name")
        kinds = _OPERATIONS.get(operation) if isinstance(operation, str) else None
        if kinds is None:
            return None
        meta = getattr(instance, "meta", None)
        if getattr(getattr(meta, "service_model", None), "service_name", None) != _SERVICE:
            return None
        params = args[1] if len(args) > 1 else kwargs.get("api_params")
        if not isinstance(params, dict):
            return None
        streamed, invoke = kinds
        model = params.get("modelId")
        call = self.request.call("embeddings" if invoke and _is_embedding(model) else "chat", instance, params,
                                 streamed)
        # the request's id names the price (its us./eu./global. profile prefix sets it); a body's model does not
        call.price_request_model_first = True
        call.service_tier = _tier(params.get("serviceTier")) or _latency_tier(
            params.get("performanceConfig") or params.get("performanceConfigLatency"))
        config = params.get("inferenceConfig")
        attrs = request_attributes(config, _INFERENCE_PARAMS, "stopSequences") if isinstance(config, Mapping) else {}
        if invoke and "body" in params:
            try:
                attrs.update(body_request_attributes(params["body"]))
            except Exception:  # a body we cannot read is the SDK's business, never ours
                logger.debug("otel-llm-cost: could not read a Bedrock InvokeModel request body", exc_info=True)
        region = getattr(meta, "region_name", None)
        if isinstance(region, str) and region:
            attrs[CLOUD_REGION] = region
        return Prepared(call, kwargs, attrs)

    # -- results -------------------------------------------------------------------------------------------

    def read_result(self, call: CallRecord, result: Any) -> None:
        if not isinstance(result, Mapping):
            return
        headers = field(result.get("ResponseMetadata"), "HTTPHeaders")
        if isinstance(headers, Mapping):
            self._read_headers(call, headers)
        if call.streaming:
            return
        usage = result.get("usage")
        if usage is not None:  # Converse
            self._usage(call, _converse_usage(usage))
            self._facts(call, result)
        elif "body" in result:  # InvokeModel
            self._read_body(call, result)  # type: ignore[arg-type]
        tier = _tier(result.get("serviceTier")) or _latency_tier(result.get("performanceConfig"))
        if tier:
            call.service_tier = tier

    def _read_headers(self, call: CallRecord, headers: Mapping[str, Any]) -> None:
        counts = {name: int(value) for name in _HEADERS
                  if isinstance(value := headers.get(name), str) and value.isdigit()}
        if counts:
            self._usage(call, _HEADER_USAGE(counts)[0])
        tier = _tier(headers.get("x-amzn-bedrock-service-tier"))
        if tier:
            call.service_tier = tier

    def _read_body(self, call: CallRecord, result: dict[str, Any]) -> None:
        body = result["body"]
        if not callable(getattr(body, "read", None)) or inspect.iscoroutinefunction(body.read):
            return  # aiobotocore's body reads asynchronously: its call is counted from the token headers
        from botocore.response import StreamingBody

        try:
            data = body.read()
        except Exception as error:  # the caller's own read will raise it: the call failed
            result["body"] = StreamingBody(_Unreadable(error), None)
            call.error_type = error_type(error)
            return
        result["body"] = StreamingBody(io.BytesIO(data), len(data))
        content_type = result.get("contentType")
        if isinstance(content_type, str) and "json" not in content_type:
            return
        self._read_json(call, data)

    def _read_json(self, call: CallRecord, data: Any) -> None:
        try:
            parsed = json.loads(data)
        except ValueError:
            logger.debug("otel-llm-cost: a Bedrock %s body is not JSON", call.request_model)
            return
        if isinstance(parsed, Mapping):
            self.read_body(call, parsed)

    @staticmethod
    def read_body(call: CallRecord, parsed: Mapping[str, Any]) -> None:
        """Usage and facts of one model-native InvokeModel body (a response, a stream chunk, a batch output)."""
        for where, counts in _BODY_USAGE:
            found = parsed if where is None else where(parsed)
            if isinstance(found, Mapping):
                usage = counts(found)[0]
                if usage is not None:
                    BedrockAdapter._usage(call, usage)
                    break
        BedrockAdapter._facts(call, parsed)
        message = parsed.get("message")  # an Anthropic stream's message_start names model and id
        if isinstance(message, Mapping):
            BedrockAdapter._facts(call, message)

    @staticmethod
    def _usage(call: CallRecord, found: Usage | None) -> None:
        if found is not None:
            call.usage = _overlay(call.usage, found)

    @staticmethod
    def _facts(call: CallRecord, obj: Mapping[str, Any]) -> None:
        model = obj.get("model")
        if isinstance(model, str) and model and not call.response_model:
            call.response_model = model
        rid = obj.get("id")
        if isinstance(rid, str) and rid and call.response_id is None:
            call.response_id = rid
        for read in _FINISH:
            reason = read(obj)
            if isinstance(reason, str) and reason:
                call.finish_reasons = [reason]
                return
            if isinstance(reason, list) and reason:
                call.finish_reasons = [str(r) for r in reason]
                return

    # -- streams -------------------------------------------------------------------------------------------

    def attach_stream(self, entered: Any, wrap: Callable[[Any], Any]) -> None:
        """Our proxy in place of the response's ``EventStream`` (``stream`` for Converse, ``body`` for
        InvokeModel), for a streamed call only."""
        if not isinstance(entered, dict):
            return
        for key in ("stream", "body"):
            stream = entered.get(key)
            if stream is not None and callable(getattr(stream, "__iter__", None)) \
                    and not callable(getattr(stream, "read", None)):
                entered[key] = wrap(stream)
                return

    def ends_stream(self, item: Any) -> bool:
        # ConverseStream ends with ``metadata``; an InvokeModel stream's last chunk carries invocationMetrics
        if not isinstance(item, Mapping):
            return False
        if "metadata" in item:
            return True
        data = field(item.get("chunk"), "bytes")
        return isinstance(data, bytes) and b'"amazon-bedrock-invocationMetrics"' in data

    def read_item(self, call: CallRecord, item: Any, state: Any) -> bool:
        if not isinstance(item, Mapping):
            return True
        chunk = item.get("chunk")
        if chunk is not None:  # InvokeModelWithResponseStream: model-native JSON in each chunk
            data = field(chunk, "bytes")
            if isinstance(data, (bytes, bytearray, str)):
                self._read_json(call, data)
            return True
        metadata = item.get("metadata")
        if isinstance(metadata, Mapping):  # ConverseStream's last event
            usage = metadata.get("usage")
            if usage is not None:
                self._usage(call, _converse_usage(usage))
            tier = _tier(metadata.get("serviceTier")) or _latency_tier(metadata.get("performanceConfig"))
            if tier:
                call.service_tier = tier
            return True
        stop = item.get("messageStop")
        if isinstance(stop, Mapping):
            self._facts(call, stop)
        return True


SPEC = ProviderSpec(
    name="botocore", provider=Fixed("aws.bedrock"),
    streams_call_sdks=False,  # an HTTP client: its streams call no other SDK
    server=Server(client="", base_url="meta.endpoint_url"),
    request=RequestMap(model="modelId", stream=None),
    surfaces=(Surface("botocore.client", "BaseClient", ("_make_api_call",), adapter=BedrockAdapter),
              # aiobotocore / aioboto3 override it with a coroutine (optional: absent, nothing is wrapped)
              Surface("aiobotocore.client", "AioBaseClient", async_=("_make_api_call",), adapter=BedrockAdapter)))


class BotocoreInstrumentor(SpecInstrumentor):
    """Entry point ``llm_cost_botocore``: cost and tokens of every Bedrock runtime call made through botocore."""

    spec = SPEC
