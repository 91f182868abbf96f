"""Shared mechanics of every provider adapter: one shared Telemetry, wrapping, the call flow, uninstrument.

A provider module only says *what* to wrap and how to read its SDK's request, response and stream items
(an ``Adapter``); the flow below (start span, call, observe, finish, never raise into the app) is here once.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from contextvars import ContextVar, Token
from functools import partial
from typing import Any

import wrapt
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]

from ..budgets import hook as budgets
from .attribution import Attribution
from .reading import field, given, whole
from .settings import Settings
from .streams import AsyncStreamProxy, ManagedStreamProxy, RawResponseProxy, SyncStreamProxy
from .telemetry import REQUEST_STOP_SEQUENCES, CallRecord, Telemetry

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..budgets.guard import Guard, Ticket

logger = logging.getLogger("otel_llm_cost")
_MARK = "_otel_llm_cost_wrapper"
__all__ = ["Adapter", "LLMCostInstrumentor", "Prepared", "Target", "field", "given", "request_attributes", "whole"]

# Nested calls: True while an SDK call we record is in progress in this context. An instrumented SDK that calls
# another one underneath (LiteLLM over the openai SDK) is one logical call: the OUTERMOST layer records it (it is
# what the application asked for: its model name, its provider routing, its retries and fallbacks under one span);
# inner layers of ours step aside, so there is exactly one record and one cost. A ContextVar follows threads only
# where the outer SDK copies its context (asyncio tasks do; a bare thread pool does not).
_IN_CALL: ContextVar[bool] = ContextVar("otel_llm_cost_in_call", default=False)


def request_attributes(kwargs: Mapping[str, Any], params: Iterable[tuple[str, str]],
                       stop_param: str | None) -> dict[str, Any]:
    """Span attributes of the request parameters the caller set (``params``: keyword -> attribute name),
    plus the stop sequences (a string or a list) found under ``stop_param``. Sentinels and bools are skipped."""
    attrs: dict[str, Any] = {}
    for param, name in params:  # ``in`` first: most calls set none of them, and a lookup is no function call
        if param in kwargs:
            value = kwargs[param]
            if isinstance(value, (int, float, str)) and value.__class__ is not bool:  # no sentinel is either
                attrs[name] = value
    if stop_param and stop_param in kwargs:
        stop = kwargs[stop_param]
        if given(stop) and isinstance(stop, (str, list, tuple)):
            attrs[REQUEST_STOP_SEQUENCES] = [stop] if isinstance(stop, str) else [str(s) for s in stop]
    return attrs


class Prepared:
    """Request facts of one call, and the keyword arguments to call the SDK with."""

    __slots__ = ("call", "kwargs", "request_attributes", "state")

    def __init__(self, call: CallRecord, kwargs: dict[str, Any], request_attributes: dict[str, Any] | None = None,
                 state: Any = None) -> None:
        self.call = call
        self.kwargs = kwargs
        self.request_attributes = request_attributes
        self.state = state  # adapter-private (e.g. "hide the usage-only chunk we asked for")


class Adapter:
    """How one SDK surface is read; subclasses override what they need."""

    operation = "chat"
    # True for a method returning a stream manager whose request runs on enter (anthropic messages.stream()):
    # the call then starts on enter, and attach_stream() installs our stream proxy in what enter returned.
    managed = False
    # True for a method whose result is a plain envelope that may hold the stream inside (boto3's
    # ``response["stream"]``): read_result() sees the envelope, then attach_stream() installs our stream proxy in
    # it; when it installs none (not a streamed call), the call ends at once.
    stream_inside = False
    # Stream items read_item looks at, by kind: ``(field, kinds)`` says an item whose ``__dict__[field]`` is not in
    # ``kinds`` carries nothing this adapter reads (anthropic's content deltas), so the stream proxy passes it with
    # no call at all. Items without that field are read as usual; the first item always is (its time).
    read_kinds: tuple[str, frozenset[str]] | None = None
    # ``ProviderSpec.streams_call_sdks``: whether the nested-call mark is set while each streamed item is read
    marks_stream_reads = True

    def prepare(self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Prepared | None:
        raise NotImplementedError

    def read_result(self, call: CallRecord, result: Any) -> None:
        """Fill response facts and usage from a complete (non-streamed) result."""

    def read_item(self, call: CallRecord, item: Any, state: Any) -> bool:
        """Fill facts from one streamed item; return False to hide it from the caller."""
        return True

    def before_finish(self, call: CallRecord, state: Any) -> None:
        """A last look before the call is recorded, however it ended: for a stream whose final report lands
        after its last item went by (LiteLLM completes the last chunk's hidden usage when the stream ends)."""

    def ends_stream(self, item: Any) -> bool:
        """True for the item a stream always ends with (Bedrock's ConverseStream ``metadata``): the call is
        finished on it, while a peer's stream wrapper above ours (which ends its span on that item) still waits."""
        return False

    def attach_stream(self, entered: Any, wrap: Callable[[Any], Any]) -> None:
        """For ``managed`` adapters: replace the raw stream inside ``entered`` by ``wrap(raw_stream)``."""
        raise NotImplementedError


class _CallObserver:
    __slots__ = ("adapter", "call", "ended", "ends_stream", "nesting", "read_item", "state", "telemetry", "ticket")
    nesting: Token[bool] | None

    def __init__(self, telemetry: Telemetry, adapter: Adapter, call: CallRecord, state: Any) -> None:
        self.telemetry = telemetry
        self.adapter = adapter
        self.call = call
        self.state = state
        self.ended = False
        self.nesting = _IN_CALL.set(True)  # reset by detach(), when the SDK call returns
        self.ticket: Ticket | None = None  # the call's budget reservation, if a budget applies
        # on_item runs for every streamed item: the adapter's bound methods looked up once, and no ends_stream
        # call per item for the adapters that keep the default (no item ends their streams)
        self.read_item = adapter.read_item
        self.ends_stream = None if type(adapter).ends_stream is Adapter.ends_stream else adapter.ends_stream

    def on_item(self, item: Any) -> bool:
        call = self.call
        if call.first_chunk is None:
            call.first_chunk = time.perf_counter()
        shown = self.read_item(call, item, self.state)
        if self.ends_stream is not None and self.ends_stream(item):
            self.on_end(None)
        return shown

    @property
    def nesting_mark(self) -> ContextVar[bool] | None:
        """Set True around each step of this call's stream (the nested-call rule, ``streams._nesting_mark``),
        unless the adapter's SDK never calls another SDK while its stream is read."""
        return _IN_CALL if self.adapter.marks_stream_reads else None

    @property
    def read_kinds(self) -> tuple[str, frozenset[str]] | None:
        """The adapter's ``read_kinds`` (``streams._read_kinds``); None when an item may end its stream."""
        return self.adapter.read_kinds if self.ends_stream is None else None

    def steady_on_item(self) -> Callable[[Any], bool]:
        """What the stream proxy calls for every item after the first (``streams._steady``): straight to the
        adapter's reader, a ``partial`` with no Python call of ours in between, unless the adapter may end the
        stream on an item. The first item went through ``on_item`` (its time)."""
        if self.ends_stream is not None:
            return self.on_item
        return partial(self.read_item, self.call, state=self.state)

    def on_result(self, result: Any) -> None:
        self.adapter.read_result(self.call, result)

    def on_end(self, error: BaseException | None) -> None:
        if self.ended:  # an adapter's last stream item ended it already (Adapter.ends_stream)
            return
        self.ended = True
        try:
            self.adapter.before_finish(self.call, self.state)
        except Exception:
            logger.debug("otel-llm-cost: reading a call's last facts failed", exc_info=True)
        result = self.telemetry.finish(self.call, error)
        if self.ticket is not None:  # budgets: settle the reservation to the actual cost (or release it)
            self.ticket.settle(result, error)

    def detach(self) -> None:
        """The SDK call returned (a stream may still run): our span and the nesting mark stop being current."""
        self.telemetry.detach(self.call)
        nesting, self.nesting = self.nesting, None
        if nesting is not None:
            try:
                _IN_CALL.reset(nesting)
            except ValueError:  # another context (a stream manager entered in one task, left in another)
                _IN_CALL.set(False)


class _Runtime:
    """The process-wide Telemetry shared by all provider instrumentors (one meter, one set of instruments)."""

    def __init__(self) -> None:
        self.telemetry: Telemetry | None = None
        self.settings: Settings | None = None
        self.guard: Guard | None = None  # budgets; None (the call path's one check) without a budget file
        self.lock = threading.Lock()
        self.users: set[str] = set()

    def acquire(self, name: str, kwargs: dict[str, Any]) -> Telemetry:
        with self.lock:
            if self.telemetry is None:
                from ..pricing import load_price_book

                settings = Settings({k: v for k, v in kwargs.items() if k not in (
                    "tracer_provider", "meter_provider", "skip_dep_check", "raise_exception_on_conflict")})
                book = load_price_book(list(settings.prices_file), strict=settings.prices_strict,
                                       prices_cache=settings.prices_cache)
                attribution = Attribution(settings.metric_attributes, settings.max_attribute_values,
                                          settings.baggage_keys)
                self.telemetry = Telemetry(book, attribution, kwargs.get("tracer_provider"),
                                           kwargs.get("meter_provider"))
                self.settings = settings
                if settings.budgets_file:
                    from ..budgets.setup import load_guard

                    self.guard = load_guard(settings.budgets_file, strict=settings.budgets_strict,
                                            store_url=settings.budget_store,
                                            fail_closed=settings.budget_fail == "closed",
                                            reservation_ttl=settings.budget_reservation_ttl,
                                            tracer_provider=kwargs.get("tracer_provider"),
                                            meter_provider=kwargs.get("meter_provider"))
            self.users.add(name)
            return self.telemetry

    def release(self, name: str) -> None:
        with self.lock:
            self.users.discard(name)
            if not self.users:
                self.telemetry = None
                self.settings = None
                if self.guard is not None:
                    self.guard.close()
                    self.guard = None


RUNTIME = _Runtime()


# result class -> whether it is a parsed (pydantic) result with nothing more to come; the SDKs have a few dozen
_PARSED: dict[type, bool] = {}


def _wrap_result(result: Any, observer: _CallObserver, is_async: bool = False) -> Any:
    """Hand the caller the SDK's own result (or a transparent proxy when more is still to come).

    ``is_async``: the call was a coroutine; it decides for a stream that iterates both ways (LiteLLM's
    ``CustomStreamWrapper`` has ``__next__`` and ``__anext__``, and no ``close()``)."""
    cls = type(result)
    parsed = _PARSED.get(cls)
    if parsed is None:
        parsed = hasattr(cls, "model_fields") and not hasattr(cls, "close")
        if len(_PARSED) < 1024:  # bounded: classes made at run time must not grow it forever
            _PARSED[cls] = parsed
    if parsed:
        # a parsed (pydantic) result, the common case: nothing more to come. Checked on the class first because
        # a pydantic model answers the missing attributes looked up below slowly.
        try:
            observer.adapter.read_result(observer.call, result)  # on_result, inlined (every call)
        finally:
            observer.on_end(None)
        return result
    if observer.call.streaming and callable(getattr(result, "__next__", None)) \
            and callable(getattr(result, "__anext__", None)):
        return (AsyncStreamProxy if is_async else SyncStreamProxy)(result, observer)
    # Looked up on the instance, not the class: a peer instrumentation's proxy of the SDK stream counts too.
    # A stream is an iterator that can be closed, or any iterator a streamed call returns (mistralai 2.0's
    # EventStream has no close()).
    closeable = callable(getattr(result, "close", None))
    if closeable or observer.call.streaming:
        if callable(getattr(result, "__anext__", None)):
            return AsyncStreamProxy(result, observer)
        if callable(getattr(result, "__next__", None)):
            return SyncStreamProxy(result, observer)
    if not closeable and callable(getattr(result, "aclose", None)) and callable(getattr(result, "__anext__", None)):
        return AsyncStreamProxy(result, observer)  # an async generator (google-genai's aio streams)
    if hasattr(result, "http_response") and hasattr(result, "parse"):  # with_raw_response / with_streaming_response
        if cls.__name__ == "LegacyAPIResponse" and not observer.call.streaming:
            # with_raw_response has read the body already; parse() is cached, so reading it costs the caller nothing
            try:
                observer.on_result(result.parse())
            finally:
                observer.on_end(None)
            return result
        return RawResponseProxy(result, observer)
    if observer.adapter.stream_inside:
        return _wrap_envelope(result, observer)
    try:
        observer.on_result(result)
    finally:
        observer.on_end(None)
    return result


def _wrap_envelope(result: Any, observer: _CallObserver) -> Any:
    """A result holding its stream (boto3): the caller gets the same envelope, our proxy in it for the stream
    (an async one for a stream iterated with ``async for``: aiobotocore's)."""
    proxies: list[Any] = []

    def wrap(raw: Any) -> Any:
        is_async = callable(getattr(raw, "__aiter__", None))
        proxies.append((AsyncStreamProxy if is_async else SyncStreamProxy)(raw, observer))
        return proxies[-1]

    try:
        observer.on_result(result)
        observer.adapter.attach_stream(result, wrap)
    finally:
        if not proxies:
            observer.on_end(None)
    return result


def _prepare(instrumentor: LLMCostInstrumentor, adapter: Adapter, instance: Any, args: tuple[Any, ...],
             kwargs: dict[str, Any]) -> tuple[Telemetry, Prepared] | None:
    telemetry = RUNTIME.telemetry
    if telemetry is None or not instrumentor.is_instrumented_by_opentelemetry or _IN_CALL.get():
        return None
    try:
        prepared = adapter.prepare(instance, args, kwargs)
    except Exception:
        logger.debug("otel-llm-cost: could not read a request", exc_info=True)
        return None
    return None if prepared is None else (telemetry, prepared)


def _start(telemetry: Telemetry, adapter: Adapter, prepared: Prepared) -> _CallObserver:
    call = telemetry.start(prepared.call, prepared.request_attributes)
    return _CallObserver(telemetry, adapter, call, prepared.state)


def _begin(instrumentor: LLMCostInstrumentor, adapter: Adapter, instance: Any, args: tuple[Any, ...],
           kwargs: dict[str, Any]) -> tuple[_CallObserver, dict[str, Any]] | None:
    # _prepare and _start, inlined (every call)
    telemetry = RUNTIME.telemetry
    if telemetry is None or not instrumentor.is_instrumented_by_opentelemetry or _IN_CALL.get():
        return None
    try:
        prepared = adapter.prepare(instance, args, kwargs)
    except Exception:
        logger.debug("otel-llm-cost: could not read a request", exc_info=True)
        return None
    if prepared is None:
        return None
    try:
        call = telemetry.start(prepared.call, prepared.request_attributes)
        return _CallObserver(telemetry, adapter, call, prepared.state), prepared.kwargs
    except Exception:
        logger.debug("otel-llm-cost: could not start a call record", exc_info=True)
        return None


def sync_wrapper(instrumentor: LLMCostInstrumentor, adapter: Adapter) -> Callable[..., Any]:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        begun = _begin(instrumentor, adapter, instance, args, kwargs)
        if begun is None:
            return wrapped(*args, **kwargs)
        observer, call_kwargs = begun
        if RUNTIME.guard is not None:  # budgets: reserve the call's maximum cost, or raise BudgetExceeded
            observer.ticket = budgets.reserve(RUNTIME.guard, observer, call_kwargs)
        try:
            result = wrapped(*args, **call_kwargs)
        except BaseException as error:
            observer.detach()
            observer.on_end(error)
            raise
        observer.detach()
        try:
            return _wrap_result(result, observer)
        except Exception:
            logger.debug("otel-llm-cost: reading a result failed", exc_info=True)
            return result

    setattr(wrapper, _MARK, True)
    return wrapper


def async_wrapper(instrumentor: LLMCostInstrumentor, adapter: Adapter) -> Callable[..., Any]:
    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> Any:
        begun = _begin(instrumentor, adapter, instance, args, kwargs)
        if begun is None:
            return await wrapped(*args, **kwargs)
        observer, call_kwargs = begun
        if RUNTIME.guard is not None:  # budgets: reserve the call's maximum cost, or raise BudgetExceeded
            observer.ticket = budgets.reserve(RUNTIME.guard, observer, call_kwargs)
        try:
            result = await wrapped(*args, **call_kwargs)
        except BaseException as error:
            observer.detach()
            observer.on_end(error)
            raise
        observer.detach()
        try:
            return _wrap_result(result, observer, is_async=True)
        except Exception:
            logger.debug("otel-llm-cost: reading a result failed", exc_info=True)
            return result

    setattr(wrapper, _MARK, True)
    return wrapper


def managed_wrapper(instrumentor: LLMCostInstrumentor, adapter: Adapter) -> Callable[..., Any]:
    """For a (sync or async) stream manager: the request facts are read now, the call starts on enter."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        found = _prepare(instrumentor, adapter, instance, args, kwargs)
        if found is None:
            return wrapped(*args, **kwargs)
        telemetry, prepared = found
        manager = wrapped(*args, **prepared.kwargs)

        def begin() -> _CallObserver:
            prepared.call.restart_clock()
            observer = _start(telemetry, adapter, prepared)
            if RUNTIME.guard is not None:  # budgets: reserve the call's maximum cost, or raise BudgetExceeded
                observer.ticket = budgets.reserve(RUNTIME.guard, observer, prepared.kwargs)
            return observer

        try:
            return ManagedStreamProxy(manager, begin, adapter.attach_stream)
        except Exception:
            logger.debug("otel-llm-cost: could not proxy a stream manager", exc_info=True)
            return manager

    setattr(wrapper, _MARK, True)
    return wrapper


WrapperFactory = Callable[["LLMCostInstrumentor", Adapter], Callable[..., Any]]


class Target:
    """One method to wrap: ``module``, ``Class.method``, the adapter reading it, and whether it is async.

    ``factory`` makes a wrapper of another shape than one call per invocation (e.g. batch results, where
    each item is a call of its own); it must mark its wrapper with ``mark_ours``."""

    __slots__ = ("adapter", "factory", "is_async", "method", "module")

    def __init__(self, module: str, method: str, adapter: Adapter, is_async: bool = False,
                 factory: WrapperFactory | None = None) -> None:
        self.module = module
        self.method = method
        self.adapter = adapter
        self.is_async = is_async
        self.factory = factory


def mark_ours(wrapper: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a wrapper as ours (so instrumenting twice, peers and uninstrument recognise it)."""
    setattr(wrapper, _MARK, True)
    return wrapper


def client_factory_wrapper(methods: tuple[tuple[str, bool], ...], accepts: Callable[[Any], bool]) -> WrapperFactory:
    """A wrapper factory for a client factory: on every client it makes that ``accepts``, the methods
    ``(name, is_async)`` are wrapped on the client object itself (botocore builds each client's class at run
    time: there is no class to patch beforehand). Clients made before ``instrument()`` stay as they are."""

    def make(instrumentor: LLMCostInstrumentor, adapter: Adapter) -> Callable[..., Any]:
        def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            client = wrapped(*args, **kwargs)
            try:
                if instrumentor.is_instrumented_by_opentelemetry and accepts(client):
                    for name, is_async in methods:
                        bound = getattr(client, name, None)
                        if callable(bound) and not _is_ours(bound):
                            call_wrapper = (async_wrapper if is_async else sync_wrapper)(instrumentor, adapter)
                            setattr(client, name, wrapt.FunctionWrapper(bound, call_wrapper))
            except Exception:
                logger.debug("otel-llm-cost: could not instrument a client made by a factory", exc_info=True)
            return client

        return mark_ours(wrapper)

    return make


# A peer's uninstrument through opentelemetry's unwrap() does setattr(cls, name, getattr(cls, name).__wrapped__),
# which leaves a *bound* wrapper of what was under it on the class: ours too, when we were under the peer.
_WRAPPERS = (wrapt.FunctionWrapper, wrapt.BoundFunctionWrapper)


def _is_ours(attr: Any) -> bool:
    return isinstance(attr, _WRAPPERS) and getattr(attr._self_wrapper, _MARK, False)


def _is_peer(attr: Any) -> bool:
    """Another instrumentation's wrapt wrapper (official genai-*, OpenLLMetry, OpenLIT...)."""
    return isinstance(attr, _WRAPPERS) and not _is_ours(attr)


def _import(name: str) -> Any:
    """``importlib.import_module``, once more after a KeyError: on Python 3.10 a finalizer that imports while
    another import holds the module lock (garbage collection can run one at any allocation) corrupts the import
    system's lock bookkeeping (a CPython bug, fixed in 3.12) and the outer import raises KeyError; the module
    itself is fine, and importing it again works."""
    try:
        return importlib.import_module(name)
    except KeyError:
        return importlib.import_module(name)


class LLMCostInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Base of the per-SDK instrumentors: wraps ``targets()``, shares one Telemetry, restores on uninstrument.

    When a peer instrumentation already wrapped a method, our wrapper goes *inside* theirs, so their GenAI
    span is current when we run and we enrich it with cost instead of making a second span (and we skip the
    duration/token histograms they already record): one call, one record.
    """

    name = "base"
    instruments: Collection[str] = ()

    def targets(self) -> list[Target]:
        raise NotImplementedError

    def instrumentation_dependencies(self) -> Collection[str]:
        return self.instruments

    def _instrument(self, **kwargs: Any) -> None:
        RUNTIME.acquire(self.name, kwargs)
        self._wrapped: list[tuple[Any, str, Any, Any]] = []  # (class, method name, previous attr, holder)
        for target in self.targets():
            try:
                module = _import(target.module)
                owner, _, method = target.method.rpartition(".")
                cls = getattr(module, owner) if owner else module  # no owner: a module-level function
            except (ImportError, AttributeError):
                logger.debug("otel-llm-cost: %s.%s not present in this SDK version", target.module, target.method)
                continue
            except Exception:  # an SDK module that fails to import for another reason must not stop the app
                logger.warning("otel-llm-cost: importing %s failed; %s is not instrumented", target.module,
                               target.method, exc_info=True)
                continue
            if target.factory is not None:
                make = target.factory
            elif target.adapter.managed:
                make = managed_wrapper
            else:
                make = async_wrapper if target.is_async else sync_wrapper
            self._wrap(cls, method, make(self, target.adapter))

    def _wrap(self, cls: Any, method: str, wrapper: Callable[..., Any]) -> None:
        current = cls.__dict__.get(method)
        if isinstance(current, wrapt.BoundFunctionWrapper) and _is_ours(current):
            current = current.__wrapped__  # ours, left bound on the class by a peer's unwrap(): start afresh
        elif current is None or _is_ours(current):
            return
        if _is_peer(current):
            holder = current  # go under the innermost peer wrapper: its GenAI span is current when we run
            while _is_peer(holder.__wrapped__):
                holder = holder.__wrapped__
            inner = holder.__wrapped__
            holder.__wrapped__ = wrapt.FunctionWrapper(inner, wrapper)
            self._wrapped.append((cls, method, inner, holder))
        else:
            setattr(cls, method, wrapt.FunctionWrapper(current, wrapper))
            self._wrapped.append((cls, method, current, None))

    def _uninstrument(self, **kwargs: Any) -> None:
        for cls, method, previous, holder in reversed(getattr(self, "_wrapped", [])):
            if holder is not None and _is_ours(holder.__wrapped__):
                holder.__wrapped__ = previous  # the peer we went under (it may have left the class already)
            current = cls.__dict__.get(method)
            if _is_ours(current):  # ours on top: we wrapped first, or the peer above us uninstrumented
                setattr(cls, method, previous)
            else:  # a peer wrapped us later: take ourselves out from under it
                parent = current
                while _is_peer(parent) and not _is_ours(parent.__wrapped__):
                    parent = parent.__wrapped__
                if _is_peer(parent) and _is_ours(parent.__wrapped__):
                    parent.__wrapped__ = previous
        self._wrapped = []
        RUNTIME.release(self.name)
