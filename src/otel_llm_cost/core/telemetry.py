"""The one place that names span attributes and metric instruments, and records one LLM call.

Provider adapters describe a call with a provider-neutral ``CallRecord`` (request facts at start, response
facts and ``Usage`` at the end); this module prices it and writes the span and the metrics of
docs/telemetry-contract.md.
Invariant the tests hold: sum of ``gen_ai.client.cost`` over types == sum of ``gen_ai.client.operation.cost``
== sum of the spans' ``gen_ai.usage.cost.amount``.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from operator import attrgetter
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.trace import SpanKind, Status, StatusCode

from .. import __version__
from ..pricing import Cost, PriceBook, Unpriced
from ..pricing.result import INVALID_USAGE, NO_USAGE
from .attribution import Attribution
from .tracking import Spend
from .tracking import active as active_trackers
from .tracking import record as record_spend
from .usage import Usage, usage_problem

logger = logging.getLogger("otel_llm_cost")
SCOPE = "otel_llm_cost"

# --- span attribute names (GenAI conventions + the cost proposal + ours) ---------------------------------
OPERATION = "gen_ai.operation.name"
PROVIDER = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
RESPONSE_ID = "gen_ai.response.id"
FINISH_REASONS = "gen_ai.response.finish_reasons"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
CACHE_READ_TOKENS = "gen_ai.usage.cache_read.input_tokens"
CACHE_WRITE_TOKENS = "gen_ai.usage.cache_write.input_tokens"
REASONING_TOKENS = "gen_ai.usage.reasoning.output_tokens"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"
ERROR_TYPE = "error.type"
REQUEST_STREAM = "gen_ai.request.stream"
# The tier that served (and prices) the call: the provider's own attribute where the conventions or its SDK name
# one, else ours. OpenAI-compatible providers are not "openai" and get ours.
SERVICE_TIER = "llm_cost.service_tier"
SERVICE_TIER_BY_PROVIDER = {"openai": "openai.response.service_tier", "azure.ai.openai": "openai.response.service_tier",
                            "anthropic": "anthropic.response.service_tier"}
# request parameters: adapters map their SDK's keyword arguments onto these
REQUEST_TEMPERATURE = "gen_ai.request.temperature"
REQUEST_TOP_P = "gen_ai.request.top_p"
REQUEST_TOP_K = "gen_ai.request.top_k"
REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
REQUEST_FREQUENCY_PENALTY = "gen_ai.request.frequency_penalty"
REQUEST_PRESENCE_PENALTY = "gen_ai.request.presence_penalty"
REQUEST_SEED = "gen_ai.request.seed"
REQUEST_CHOICE_COUNT = "gen_ai.request.choice.count"
REQUEST_STOP_SEQUENCES = "gen_ai.request.stop_sequences"
OPENAI_REQUEST_SERVICE_TIER = "openai.request.service_tier"
COST_AMOUNT = "gen_ai.usage.cost.amount"
COST_CURRENCY = "gen_ai.usage.cost.currency"
COST_SOURCE = "gen_ai.usage.cost.source"
COST_PARTS = {"input": "llm_cost.input", "output": "llm_cost.output", "cache_read": "llm_cost.cache_read",
              "cache_write": "llm_cost.cache_write"}
PRICE_TABLE = "llm_cost.price_table"
PRICE_SOURCE = "llm_cost.price_source"  # where the row came from: genai-prices, litellm, correction, override
UNPRICED_REASON = "llm_cost.unpriced_reason"
TIME_TO_FIRST_CHUNK = "gen_ai.response.time_to_first_chunk"

# --- metric attribute names ----------------------------------------------------------------------------
TOKEN_TYPE = "gen_ai.token.type"
TOKEN_MODALITY = "gen_ai.token.modality"
COST_TYPE = "gen_ai.cost.type"

DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)
COST_BUCKETS = (1e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 50.0, 100.0)

# Counters: (instrument name, unit, description); Usage field -> token counter name.
TOKEN_COUNTERS = {"input_tokens": "gen_ai.client.inference.usage.input_tokens",
                  "output_tokens": "gen_ai.client.inference.usage.output_tokens",
                  "cache_read_tokens": "gen_ai.client.inference.usage.cache_read.input_tokens",
                  "cache_write_tokens": "gen_ai.client.inference.usage.cache_write.input_tokens",
                  "reasoning_tokens": "gen_ai.client.inference.usage.reasoning.output_tokens"}
COST_COUNTER = "gen_ai.client.cost"
SAVINGS_COUNTER = "gen_ai.client.cost.savings"
UNPRICED_COUNTER = "gen_ai.client.operation.unpriced"
COUNTERS = (*((name, "{token}", f"{field.replace('_', ' ')} used") for field, name in TOKEN_COUNTERS.items()),
            (COST_COUNTER, "USD", "Cost of GenAI calls in USD"),
            (SAVINGS_COUNTER, "USD", "USD saved by prompt caching and discounts"),
            (UNPRICED_COUNTER, "{call}", "Calls that could not be priced"))


class CallRecord:
    """Provider-neutral facts of one call, filled by the adapter; read by ``Telemetry.finish``."""

    __slots__ = ("_context_token", "attribution", "billed_usage", "error_type", "finish_reasons", "first_chunk",
                 "metric_base", "operation", "peer_span", "price_context", "price_request_model_first", "provider",
                 "provider_cost", "request_model", "response_id", "response_model", "server_address",
                 "server_duration", "server_port",
                 "service_tier", "shape", "span", "start_perf", "start_time", "streaming", "trackers", "usage")

    def __init__(self, operation: str, provider: str, request_model: str | None, server_address: str | None,
                 server_port: int | None, streaming: bool) -> None:
        self.operation = operation
        self.provider = provider
        self.request_model = request_model
        self.server_address = server_address
        self.server_port = server_port
        self.streaming = streaming
        self.response_model: str | None = None
        self.response_id: str | None = None
        self.finish_reasons: list[str] | None = None
        self.usage: Usage | None = None
        # What the provider bills, where it reports that beside the raw counts in ``usage`` (Cohere's billed_units
        # beside tokens): the call is priced from it; spans and token metrics show ``usage``.
        self.billed_usage: Usage | None = None
        self.service_tier: str | None = None
        self.price_context: dict[str, str] | None = None
        self.provider_cost: float | None = None
        # Seconds the server says it worked on the call (Ollama's total_duration): what a self-hosted per_second
        # price bills; None: the wall time measured here is billed instead.
        self.server_duration: float | None = None
        # Price by the request model before the response model (Bedrock: the request's inference-profile id
        # carries the region prefix that sets the price; the response names only the bare model).
        self.price_request_model_first = False
        self.error_type: str | None = None
        self.first_chunk: float | None = None
        self.start_perf = time.perf_counter()
        self.start_time = datetime.now(timezone.utc)
        self.span: trace.Span = trace.INVALID_SPAN
        self.peer_span = False
        self.attribution: Mapping[str, str] = {}
        self.metric_base: dict[str, Any] = {}  # shared with every call of its shape: replaced, never changed
        self.shape: _Shape | None = None  # start() sets it; None: the metric attributes are built for this call
        self.trackers: tuple[Spend, ...] = ()  # the in-process trackers (tracking.track) active when it started
        self._context_token: object | None = None

    def restart_clock(self) -> None:
        """The request starts now, not when the record was made (a stream manager entered later)."""
        self.start_perf = time.perf_counter()
        self.start_time = datetime.now(timezone.utc)

    def answered_by(self, provider: str) -> None:
        """The provider that answered, known only from the result (a router's fallback to another provider than
        the request was first routed to): the span and the metrics name it. Our own span only: a peer's span
        keeps what its instrumentation wrote."""
        if provider == self.provider:
            return
        self.provider = provider
        if PROVIDER in self.metric_base:  # same key, same place: the attribute order stays
            self.metric_base = {**self.metric_base, PROVIDER: provider}
            self.shape = None  # its cached series name the provider first routed to
        if not self.peer_span:
            self.span.set_attribute(PROVIDER, provider)

    def mark_first_chunk(self) -> None:
        if self.first_chunk is None:
            self.first_chunk = time.perf_counter()


_Key = tuple[tuple[str, Any], ...]
_OVERFLOW: _Key = (("otel.metric.overflow", True),)


class CounterTotals:
    """Cumulative totals of our counters per attribute set, reported through observable counters.

    Why not synchronous counters: the OpenTelemetry SDK cleans and hashes the attributes of every measurement,
    which for the ~10 counter increments of one priced call cost more than the rest of our work together. Each
    series (instrument, attribute set) gets a slot, an index into one list, once (``slot``); a call then adds to
    its slots under one lock, with no hashing at all (its ``_Series`` remembers the slots), and the SDK sees each
    series once per collection. The exported data is the same (monotonic sums, same names, units and attributes).
    Series per instrument are capped like the SDK's cardinality limit: beyond it they go to
    ``otel.metric.overflow=true``. One per meter (see ``for_meter``), so instrumenting again with the same
    providers keeps adding to it.
    """

    MAX_SERIES = 2000

    def __init__(self, meter: metrics.Meter) -> None:
        self._lock = threading.Lock()
        self._values: list[float] = []  # slot -> running total
        self._slots: dict[tuple[str, _Key], int] = {}  # (instrument, attribute key) -> slot
        self._series: dict[str, dict[_Key, int]] = {}  # instrument -> attribute key -> slot
        for name, unit, description in COUNTERS:
            self._series[name] = {}
            meter.create_observable_counter(name, callbacks=[self._observer(name)], unit=unit,
                                            description=description)

    def _observer(self, name: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        series = self._series[name]

        def observe(options: CallbackOptions) -> Iterable[Observation]:
            with self._lock:
                values = self._values
                items = [(key, values[slot]) for key, slot in series.items()]
            return [Observation(value, dict(key)) for key, value in items]

        return observe

    def slot(self, name: str, key: _Key) -> int:
        """The slot of one series of instrument ``name`` (made on first sight; the overflow series past the cap)."""
        found = self._slots.get((name, key))
        if found is not None:
            return found
        with self._lock:
            series = self._series[name]
            if key not in series and len(series) >= self.MAX_SERIES:
                key = _OVERFLOW
            found = series.get(key)
            if found is None:
                found = series[key] = len(self._values)
                self._values.append(0)
            self._slots[(name, key)] = found
            return found

    def add(self, increments: list[tuple[int, float]]) -> None:
        """Add the (slot, value) increments of one call, atomically."""
        with self._lock:
            values = self._values
            for slot, value in increments:
                values[slot] += value

    def totals(self, name: str) -> dict[_Key, float]:
        """Instrument ``name``'s totals by attribute key (for tests and the memory benchmark)."""
        with self._lock:
            return {key: self._values[slot] for key, slot in self._series[name].items()}

    @classmethod
    def for_meter(cls, meter: metrics.Meter) -> CounterTotals:
        with _TOTALS_LOCK:
            totals = _TOTALS.get(meter)
            if totals is None:
                totals = _TOTALS[meter] = cls(meter)
            return totals


class _Series:
    """One metric attribute set (a shape's attributes plus a response model): the attribute dicts every call of it
    records with, and its counter slots, built once. Sharing the dicts is safe: the OpenTelemetry SDK copies the
    attributes it is given."""

    __slots__ = ("attrs", "cost_slots", "input_attrs", "key", "output_attrs", "savings_slots", "slots",
                 "text_token_slots", "totals")

    def __init__(self, attrs: dict[str, Any], totals: CounterTotals) -> None:
        self.attrs = attrs
        self.input_attrs = {**attrs, TOKEN_TYPE: "input"}
        self.output_attrs = {**attrs, TOKEN_TYPE: "output"}
        # The attributes are always built in the same order (start(), then the response model), so the plain
        # tuple names one attribute set once: no sorting.
        self.key: _Key = tuple(attrs.items())
        self.totals = totals
        self.slots: dict[tuple[str, str], int] = {}  # (instrument, value of its own attribute) -> slot
        # The slots most calls add to, by position (the order of _token_counts, _cost_parts, _SAVINGS): -1 until
        # the series is first added to, so a series that never had a value is never exported.
        self.text_token_slots = [-1] * len(TOKEN_COUNTERS)
        self.cost_slots = [-1] * len(_COST_PARTS)
        self.savings_slots = [-1] * len(_SAVINGS)

    def fill(self, slots: list[int], index: int) -> int:
        """The slot at ``index`` of one of the positional lists above, made now."""
        if slots is self.text_token_slots:
            found = self.slot(_TOKEN_COUNTER_NAMES[index], TOKEN_MODALITY, "text")
        elif slots is self.cost_slots:
            found = self.slot(COST_COUNTER, COST_TYPE, _COST_PARTS[index])
        else:
            found = self.slot(SAVINGS_COUNTER, COST_TYPE, _SAVINGS[index])
        slots[index] = found
        return found

    def slot(self, name: str, attribute: str, value: str) -> int:
        found = self.slots.get((name, value))
        if found is None:
            found = self.totals.slot(name, (*self.key, (attribute, value)))
            if len(self.slots) < 64:
                self.slots[(name, value)] = found
        return found


class _Shape:
    """What every call with the same request facts and metric attribution shares: its span name and start
    attributes (but the attribution's: a user id is on the span, not in the metrics), its metric attributes, and
    its series by response model. Built on first sight, kept in ``Telemetry._shapes``."""

    __slots__ = ("metric_base", "name", "series", "span_base")

    def __init__(self, name: str, span_base: dict[str, Any], metric_base: dict[str, Any]) -> None:
        self.name = name
        self.span_base = span_base  # without the attribution (request parameters go between)
        self.metric_base = metric_base
        self.series: dict[str | None, _Series] = {}

    def series_for(self, response_model: str | None, totals: CounterTotals) -> _Series:
        found = self.series.get(response_model)
        if found is None:
            found = _series(self.metric_base, response_model, totals)
            if len(self.series) < 16:
                self.series[response_model] = found
        return found


def _series(metric_base: dict[str, Any], response_model: str | None, totals: CounterTotals) -> _Series:
    return _Series({**metric_base, RESPONSE_MODEL: response_model} if response_model else dict(metric_base), totals)


_TOTALS: weakref.WeakKeyDictionary[Any, CounterTotals] = weakref.WeakKeyDictionary()
_TOTALS_LOCK = threading.Lock()


def _peer_genai_span(span: trace.Span) -> trace.Span | None:
    """The current ``span`` when another instrumentation (official genai-*, OpenLLMetry) already opened a GenAI
    span for this very call: we then enrich it instead of adding a second span and second token metrics."""
    if not span.is_recording():
        return None
    attrs = getattr(span, "attributes", None)
    scope = getattr(getattr(span, "instrumentation_scope", None), "name", "")
    if attrs and scope != SCOPE and getattr(span, "kind", None) == SpanKind.CLIENT and (
            attrs.get(OPERATION) or attrs.get("gen_ai.system") or attrs.get("llm.request.type")):
        return span
    return None


class Telemetry:
    """Tracer, instruments and price book of one ``instrument()``; ``start``/``finish`` a call."""

    def __init__(self, price_book: PriceBook, attribution: Attribution,
                 tracer_provider: trace.TracerProvider | None = None,
                 meter_provider: metrics.MeterProvider | None = None) -> None:
        self.book = price_book
        self.attribution = attribution
        self.tracer = trace.get_tracer(SCOPE, __version__, tracer_provider)
        meter = metrics.get_meter(SCOPE, __version__, meter_provider)
        self.duration = meter.create_histogram(
            "gen_ai.client.operation.duration", unit="s", description="GenAI operation duration",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS))
        self.token_usage = meter.create_histogram(
            "gen_ai.client.token.usage", unit="{token}", description="Number of input and output tokens used",
            explicit_bucket_boundaries_advisory=list(TOKEN_BUCKETS))
        self.totals = CounterTotals.for_meter(meter)  # the counters (token, cost, savings, unpriced)
        self.time_to_first_chunk = meter.create_histogram(
            "gen_ai.client.operation.time_to_first_chunk", unit="s",
            description="Time from request start to the first streamed chunk",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS))
        self._invalid_warned: set[tuple[str, str | None, str]] = set()
        self._shapes: dict[tuple[Any, ...], _Shape] = {}  # see _shape
        self.operation_cost = meter.create_histogram(
            "gen_ai.client.operation.cost", unit="USD", description="Cost of one GenAI call in USD",
            explicit_bucket_boundaries_advisory=list(COST_BUCKETS))
        from .table_age import TableAgeGauge  # here: table_age imports this module's names

        TableAgeGauge.track(meter, price_book.table)

    # -- start --------------------------------------------------------------------------------------------

    def start(self, call: CallRecord, request_attributes: Mapping[str, Any] | None = None) -> CallRecord:
        """Open the call's span (or adopt a peer's GenAI span) and make it current during the SDK call."""
        attribution = call.attribution = self.attribution.span_attributes()
        call.trackers = active_trackers()
        # the attribution's metric keys only: a span-only key (a user id) takes as many values as it likes
        shape_key = (call.operation, call.provider, call.request_model, call.server_address, call.server_port,
                     call.streaming, tuple(map(attribution.get, self.attribution.metric_keys)) if attribution else None)
        shape = call.shape = self._shapes.get(shape_key) or self._shape(call, attribution, shape_key)
        call.metric_base = shape.metric_base
        parent = otel_context.get_current()  # read once: for the peer check, the span's parent and its context
        current = trace.get_current_span(parent)
        peer = _peer_genai_span(current) if current.is_recording() else None
        if peer is not None:
            call.span, call.peer_span = peer, True
            peer.set_attributes(attribution)
        else:
            attrs = {**shape.span_base, **request_attributes, **attribution} if request_attributes else \
                {**shape.span_base, **attribution} if attribution else shape.span_base
            call.span = self.tracer.start_span(shape.name, context=parent, kind=SpanKind.CLIENT, attributes=attrs)
            call._context_token = otel_context.attach(trace.set_span_in_context(call.span, parent))
        return call

    def _shape(self, call: CallRecord, attribution: Mapping[str, str], key: tuple[Any, ...]) -> _Shape:
        """A new ``_Shape`` for the call, kept under ``key`` (its request facts and metric attribution: most calls of
        an app repeat a few). The cache starts over when full."""
        attrs: dict[str, Any] = {OPERATION: call.operation, PROVIDER: call.provider}
        if call.request_model:
            attrs[REQUEST_MODEL] = call.request_model
        if call.server_address:
            attrs[SERVER_ADDRESS] = call.server_address
        if call.server_port:
            attrs[SERVER_PORT] = call.server_port
        if call.streaming:
            attrs[REQUEST_STREAM] = True
        base: dict[str, Any] = {OPERATION: call.operation, PROVIDER: call.provider}
        if call.request_model:
            base[REQUEST_MODEL] = call.request_model
        if call.server_address:
            base[SERVER_ADDRESS] = call.server_address
        if attribution:
            base.update(self.attribution.metric_attributes(attribution))
        name = f"{call.operation} {call.request_model}" if call.request_model else call.operation
        shape = _Shape(name, attrs, base)
        if len(self._shapes) >= 1024:
            self._shapes.clear()
        self._shapes[key] = shape
        return shape

    def detach(self, call: CallRecord) -> None:
        """Stop the span being current (the SDK call returned; a stream may still be running)."""
        token = call._context_token
        if token is not None:
            call._context_token = None
            try:
                otel_context.detach(token)  # type: ignore[arg-type]
            except Exception:  # detached in another context (stream finished elsewhere)
                logger.debug("otel-llm-cost: context detach failed", exc_info=True)

    # -- finish -------------------------------------------------------------------------------------------

    def finish(self, call: CallRecord, error: BaseException | None = None) -> Cost | Unpriced | None:
        """Price the call, set span attributes, record metrics and end the span; return the price (budgets
        settle to it). Never raises."""
        try:
            duration = time.perf_counter() - call.start_perf
            span = call.span
            attrs: dict[str, Any] = {}
            shape = call.shape
            series = None if shape is None else shape.series.get(call.response_model)
            if series is None:
                series = _series(call.metric_base, call.response_model, self.totals) if shape is None \
                    else shape.series_for(call.response_model, self.totals)
            if call.response_model:
                attrs[RESPONSE_MODEL] = call.response_model
            if call.response_id:
                attrs[RESPONSE_ID] = call.response_id
            if call.finish_reasons:
                attrs[FINISH_REASONS] = call.finish_reasons
            if call.service_tier:
                attrs[SERVICE_TIER_BY_PROVIDER.get(call.provider, SERVICE_TIER)] = call.service_tier
            if error is not None and call.error_type is None:
                call.error_type = error_type(error)
            usage = call.usage
            result: Cost | Unpriced | None
            billed = call.billed_usage
            problem = None if usage is None else usage_problem(usage)
            if problem is None and billed is not None:
                problem = usage_problem(billed)
            if problem is None and call.provider_cost is not None:
                problem = _provider_cost_problem(call.provider_cost)
            if problem is not None:  # a broken report: unpriced, and none of its counts recorded anywhere
                usage, result = None, Unpriced(INVALID_USAGE, problem)
                self._warn_invalid(call, problem)
            else:
                if usage is not None:  # _usage_attributes, inlined (every call)
                    for name, value in zip(_USAGE_ATTRIBUTES, _usage_counts(usage), strict=True):
                        if value is not None and value.__class__ is int and value >= 0:
                            attrs[name] = value
                result = self._price(call, usage if billed is None else billed, duration)
            if isinstance(result, Cost):
                attrs[COST_AMOUNT] = result.total
                attrs[COST_CURRENCY] = result.currency
                attrs[COST_SOURCE] = result.source
                attrs[PRICE_TABLE] = result.price_table
                if result.price_source:
                    attrs[PRICE_SOURCE] = result.price_source
                for part, name in COST_PARTS.items():
                    attrs[name] = getattr(result, part)
            elif result is not None:
                attrs[UNPRICED_REASON] = result.reason
            if call.first_chunk is not None:
                attrs[TIME_TO_FIRST_CHUNK] = call.first_chunk - call.start_perf
            if call.error_type:
                attrs[ERROR_TYPE] = call.error_type
            span.set_attributes(attrs)
            if call.error_type:
                span.set_status(Status(StatusCode.ERROR, str(error) if error is not None else call.error_type))
            self._record_metrics(call, series, usage, result, duration)
            if call.trackers:  # the same usage and result as the metrics: a tracker always agrees with them
                record_spend(call.trackers, call.provider, call.request_model or call.response_model, call.attribution,
                             call.error_type is not None, usage, result)
            if not call.peer_span:
                span.end()
            return result
        except Exception:
            logger.debug("otel-llm-cost: recording a call failed", exc_info=True)
            if not call.peer_span:
                call.span.end()
            return None

    def _warn_invalid(self, call: CallRecord, problem: str) -> None:
        """Say once per (provider, model, problem) that a response's usage was invalid and not recorded."""
        key = (call.provider, call.response_model or call.request_model, problem)
        if key not in self._invalid_warned and len(self._invalid_warned) < 100:
            self._invalid_warned.add(key)
            logger.warning("otel-llm-cost: %r/%r answered with invalid usage (%s); the call is counted as unpriced "
                           "(invalid_usage) and its counts are not recorded", key[0], key[1], problem)

    def _price(self, call: CallRecord, usage: Usage | None, duration: float) -> Cost | Unpriced | None:
        """The call's cost; None for a failed call that reported no usage (nothing billed, nothing unpriced)."""
        if usage is None and call.provider_cost is None:
            return None if call.error_type else Unpriced(NO_USAGE, "the response carried no token usage")
        model, response_model = call.request_model, call.response_model
        if call.price_request_model_first and model:
            model, response_model = response_model, model
        return self.book.cost(call.provider, model, usage or Usage(), at=call.start_time,
                              response_model=response_model, service_tier=call.service_tier,
                              context=call.price_context,
                              duration_s=duration if call.server_duration is None else call.server_duration,
                              provider_cost=call.provider_cost)

    def _record_metrics(self, call: CallRecord, series: _Series, usage: Usage | None,
                        result: Cost | Unpriced | None, duration: float) -> None:
        attrs = series.attrs
        if not call.peer_span:  # a peer instrumentation records these two itself: never twice
            duration_attrs = {**attrs, ERROR_TYPE: call.error_type} if call.error_type else attrs
            self.duration.record(duration, duration_attrs)
            if usage is not None:
                if usage.input_tokens is not None:
                    self.token_usage.record(usage.input_tokens, series.input_attrs)
                if usage.output_tokens is not None:
                    self.token_usage.record(usage.output_tokens, series.output_attrs)
        if call.first_chunk is not None:
            self.time_to_first_chunk.record(call.first_chunk - call.start_perf, attrs)
        if isinstance(result, Cost):
            self.operation_cost.record(result.total, attrs)
        increments: list[tuple[int, float]] = []
        fill = series.fill
        if usage is not None:
            slots = series.text_token_slots
            for index, value in enumerate(_token_counts(usage)):
                if value and value > 0:
                    slot = slots[index]
                    if index == 0 and (usage.input_audio_tokens or usage.input_image_tokens):
                        modality = _modality(usage, "input_tokens")
                        if modality != "text":
                            slot = series.slot(_TOKEN_COUNTER_NAMES[0], TOKEN_MODALITY, modality)
                    increments.append((fill(slots, index) if slot < 0 else slot, value))
        if isinstance(result, Cost):
            slots = series.cost_slots
            for index, value in enumerate(_cost_parts(result)):
                if value:
                    slot = slots[index]
                    increments.append((fill(slots, index) if slot < 0 else slot, value))
            if result.cache_savings or result.discount_savings:
                slots = series.savings_slots
                for index, value in enumerate((result.cache_savings, result.discount_savings)):
                    if value:
                        slot = slots[index]
                        increments.append((fill(slots, index) if slot < 0 else slot, value))
        elif result is not None:
            increments.append((series.slot(UNPRICED_COUNTER, UNPRICED_REASON, result.reason), 1))
        if increments:
            self.totals.add(increments)


# The largest cost one call may report (e.g. OpenRouter's usage.cost): no single request is billed a million USD;
# beyond it the report is broken, and summed into the cost counters it would swamp every real cost (or overflow).
MAX_CALL_COST_USD = 1e6


def _provider_cost_problem(cost: float) -> str | None:
    """Why a provider-reported cost is not a valid report (not a finite amount in 0..MAX_CALL_COST_USD), or None."""
    if 0.0 <= cost <= MAX_CALL_COST_USD:
        return None
    return f"the provider-reported cost is out of range (0 to {MAX_CALL_COST_USD:g} USD): {cost!r}"


_token_counts = attrgetter(*TOKEN_COUNTERS)  # the counted fields in one C call (every call)
_COST_PARTS = ("input", "output", "cache_read", "cache_write", "other")  # gen_ai.cost.type values (Cost.parts)
_cost_parts = attrgetter(*_COST_PARTS)
_SAVINGS = ("cache_read", "discount")  # gen_ai.cost.type values of the savings counter: cache_savings, discount_savings
_TOKEN_COUNTER_NAMES = tuple(TOKEN_COUNTERS.values())


def _modality(usage: Usage, field: str) -> str:
    """Text unless the call reported only audio or image tokens in that direction."""
    if field == "input_tokens" and usage.input_tokens and (usage.input_audio_tokens or usage.input_image_tokens):
        return "text" if (usage.input_audio_tokens or 0) + (usage.input_image_tokens or 0) < usage.input_tokens \
            else ("audio" if usage.input_audio_tokens else "image")
    return "text"


# the span's usage attributes and the Usage fields they show, read in one C call (every call)
_USAGE_ATTRIBUTES = (INPUT_TOKENS, OUTPUT_TOKENS, CACHE_READ_TOKENS, CACHE_WRITE_TOKENS, REASONING_TOKENS)
_usage_counts = attrgetter("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
                           "reasoning_tokens")


def error_type(error: BaseException) -> str:
    """Fully-qualified exception class name (builtins unqualified), like the official instrumentations."""
    cls = type(error)
    module = cls.__module__
    if module in ("builtins", "__main__"):
        return cls.__qualname__
    top = module.split(".", 1)[0]
    return f"{top}.{cls.__qualname__}"
