"""The core's reader of a ``ProviderSpec``: finds the endpoint, reads requests, results and stream items from the
spec's paths, and wraps the declared surfaces. Provider modules hold data; this is the one copy of the mechanics.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Collection
from operator import attrgetter
from typing import Any
from urllib.parse import urlsplit

from .calls import Adapter, LLMCostInstrumentor, Prepared, Target, client_factory_wrapper, request_attributes
from .contract import ACCUMULATE, ClientFactory, ProviderRule, ProviderSpec, Reads, RequestMap, Server, UsageMap
from .reading import compile_first, compile_path, fields_of, given, whole
from .telemetry import REQUEST_CHOICE_COUNT, CallRecord
from .usage import USAGE_FIELDS, Usage

Endpoint = tuple[str, str | None, int | None]  # gen_ai.provider.name, server.address, server.port


def server_address(url: Any) -> tuple[str | None, int | None]:
    """(server.address, server.port) of a base URL (an httpx URL or a string); the default HTTPS port is left out."""
    if isinstance(url, str):
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port
        except ValueError:
            return None, None
    else:
        host, port = getattr(url, "host", None), getattr(url, "port", None)
    return host or None, None if port in (443, None) else port


class EndpointLookup:
    """(provider, host, port) of the client behind a call, memoised per client object and dropped with it: an
    ``id()`` key would hand a dead client's provider to a new client at the same address."""

    def __init__(self, rule: ProviderRule, server: Server) -> None:
        self.rule = rule
        self.client = None if server.client is None else (
            (lambda instance: instance) if server.client == "" else compile_first(server.client))
        # one attribute of the resource (every call): read in C; where absent, by the path reader
        attr = _one_step(server.client)
        self.attr = attrgetter(attr) if attr else None
        self.base_url = server.base_url if callable(server.base_url) else compile_path(server.base_url)
        # a WeakKeyDictionary made by hand: its get() is a Python call on every call, a dict's is not. Weak
        # references hash and compare as their client while it lives; a dropped client's entry is removed.
        self.cache: dict[weakref.ref[Any], Endpoint] = {}

    def __call__(self, instance: Any) -> Endpoint:
        client = None
        if self.attr is not None:
            try:
                client = self.attr(instance)
            except AttributeError:
                client = self.client(instance)  # type: ignore[misc]
        elif self.client is not None:
            client = self.client(instance)
        try:
            found = self.cache.get(weakref.ref(client))
        except TypeError:  # None, not weak-referenceable or unhashable: read it every time
            found = None
        if found is not None:
            return found
        host, port = (None, None) if client is None else server_address(self.base_url(client))
        found = (self.rule(client, host, port), host, port)
        with contextlib.suppress(TypeError):
            self.cache[weakref.ref(client, self._forget)] = found
        return found

    def _forget(self, ref: weakref.ref[Any]) -> None:
        """A client was dropped: its entry goes with it."""
        self.cache.pop(ref, None)


_SLOTS = ("input", "output", "cache_read", "cache_write", "cache_write_1h", "reasoning", "input_audio",
          "output_audio", "input_image", "output_image", "web_searches", "output_images", "rerank_searches",
          "document_pages", "audio_seconds")
_USAGE_ARGS = dict(zip(_SLOTS, (f for f in USAGE_FIELDS if f != "requests"), strict=True))


class UsageReader:
    """A compiled ``UsageMap``: usage object -> (Usage or None when no count was reported, provider cost).

    Every object on the way to a count is read once per call (``prompt_tokens_details`` holds four counts), in
    ``steps``: (index of the parent object, field name); a count is (Usage field, alternatives as (object index,
    field name)), the first one present wins; ``plus`` are counts added to a total."""

    def __init__(self, spec: UsageMap) -> None:
        self.steps: list[tuple[int, str]] = []
        self._objects: dict[tuple[str, ...], int] = {(): 0}
        self.counts = tuple((_USAGE_ARGS[slot], self._alternatives(paths)) for slot in _SLOTS
                            if (paths := getattr(spec, slot)) is not None)
        self.plus = tuple((total, tuple(self._alternatives(p) for p in extra))
                          for total, extra in (("input_tokens", spec.input_plus), ("output_tokens", spec.output_plus))
                          if extra)
        self.cost = None if spec.cost is None else self._alternatives(spec.cost)
        self.floats = spec.floats

    def _alternatives(self, paths: str | tuple[str, ...]) -> tuple[tuple[int, str], ...]:
        return tuple(self._leaf(p) for p in ((paths,) if isinstance(paths, str) else paths))

    def _leaf(self, path: str) -> tuple[int, str]:
        if "[]" in path:
            raise ValueError(f"usage path {path!r}: a count is one value, not a list")
        *parents, name = path.split(".")
        return self._object(tuple(parents)), name

    def _object(self, steps: tuple[str, ...]) -> int:
        found = self._objects.get(steps)
        if found is None:
            parent = self._object(steps[:-1])
            self.steps.append((parent, steps[-1]))
            found = self._objects[steps] = len(self.steps)
        return found

    def __call__(self, usage: Any) -> tuple[Usage | None, float | None]:
        # Each object on the way is looked at once (``fields_of``: a pydantic model's own __dict__), and every
        # count is then a dict lookup: this runs on every call, and a count per ``field()`` cost a dozen calls.
        views: list[Any] = [None] * (len(self.steps) + 1)
        views[0] = fields_of(usage)
        for i, (parent, name) in enumerate(self.steps, 1):
            view = views[parent]
            if view is not None:
                obj = view[name] if name in view else None  # noqa: SIM401 (a dict: no call at all)
                if obj is not None:
                    views[i] = fields_of(obj)
        counts = {}
        for name, alternatives in self.counts:
            for index, leaf in alternatives:
                view = views[index]
                if view is not None:
                    value = view[leaf] if leaf in view else None  # noqa: SIM401
                    if value is not None:
                        if value.__class__ is int:
                            counts[name] = value
                        elif self.floats and value.__class__ is float and value.is_integer():
                            counts[name] = int(value)  # Cohere's SDK types every count as a float
                        break
        for total, extra in self.plus:
            if total in counts:
                counts[total] += sum(self._whole(_first(views, alternatives)) or 0 for alternatives in extra)
        cost_at = self.cost
        if cost_at is None:
            reported = None
        elif len(cost_at) == 1:  # the common case, inlined (every call)
            view = views[cost_at[0][0]]
            reported = None if view is None else view.get(cost_at[0][1])
        else:
            reported = _first(views, cost_at)
        cost = None if reported is None else _money(reported)
        return (Usage(**counts) if counts else None), cost

    def _whole(self, value: Any) -> int | None:
        if self.floats and value.__class__ is float and value.is_integer():
            return int(value)
        return whole(value)


def _first(views: list[Any], alternatives: tuple[tuple[int, str], ...]) -> Any:
    for index, name in alternatives:
        view = views[index]
        if view is not None:
            value = view.get(name)
            if value is not None:
                return value
    return None


def _money(value: Any) -> float | None:
    """A reported cost as a float (an int past the float range is infinite: out of range, as telemetry says)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    try:
        return float(value)
    except OverflowError:
        return float("inf")


class ResultReader:
    """A compiled ``Reads``: fills a CallRecord from a result or from one streamed item."""

    def __init__(self, reads: Reads) -> None:
        # "": the counts are on the result itself (Ollama)
        self.usage_at = (lambda obj: obj) if reads.usage_at == "" else compile_first(reads.usage_at)
        self.usage = UsageReader(reads.usage)
        self.billed = None if reads.billed is None else UsageReader(reads.billed)
        self.model = compile_first(reads.model)
        self.id = compile_first(reads.id)
        self.finish = compile_first(reads.finish)
        self.tier = compile_first(reads.service_tier)
        self.accumulate = reads.merge == ACCUMULATE
        self.duration = compile_first(reads.duration)
        self.duration_unit = reads.duration_unit
        # The common shapes, read from the object's fields (``fields_of``) with no reader call, on every result
        # and every streamed item: one-step model, id, tier and usage paths, and a finish path projecting one
        # field of a list ("choices[].finish_reason").
        self.model_name = _one_step(reads.model)
        self.id_name = _one_step(reads.id)
        self.tier_name = _one_step(reads.service_tier)
        self.usage_name = _one_step(reads.usage_at)
        finish = reads.finish if isinstance(reads.finish, str) else ""
        list_name, _, item_name = finish.partition("[].")
        simple = _one_step(list_name) is not None and _one_step(item_name) is not None
        self.finish_over: tuple[str, str] | None = (list_name, item_name) if simple else None

    def facts(self, call: CallRecord, obj: Any, streamed: bool, view: Any = None) -> None:
        """Model, id, finish reasons (and, of a complete result, the tier). A stream names its model and id on
        every item: they are read until known; its finish reasons add up. ``view``: ``fields_of(obj)``."""
        if view is None:
            view = fields_of(obj)
        # ``view[name] if name in view``: the same as ``view.get(name)``, with no call for a dict (every result)
        if self.model is not None and (call.response_model is None or not streamed):
            name = self.model_name
            model = (view[name] if name in view else None) if name else self.model(obj)  # noqa: SIM401
            if model.__class__ is str and model:
                call.response_model = model
        if self.id is not None and call.response_id is None:
            name = self.id_name
            rid = (view[name] if name in view else None) if name else self.id(obj)  # noqa: SIM401
            if rid.__class__ is str and rid:
                call.response_id = rid
        if self.tier is not None and not streamed:  # a stream's tier: read with its usage (usage_of)
            name = self.tier_name
            tier = (view[name] if name in view else None) if name else self.tier(obj)  # noqa: SIM401
            if isinstance(tier, str) and tier:
                call.service_tier = tier
        if self.duration is not None and not streamed:  # a stream's: read by item()
            self._duration(call, obj)
        if self.finish_over is not None:
            name = self.finish_over[0]
            items = view[name] if name in view else None  # noqa: SIM401
            if items.__class__ is not list:
                return
            item_name = self.finish_over[1]
            reasons = [str(r) for item in items if (r := fields_of(item).get(item_name))]
        elif self.finish is not None:
            found = self.finish(obj)  # a reason, a list of them, or whatever a broken answer holds there
            if isinstance(found, str):
                reasons = [found] if found else []
            else:
                reasons = [str(r) for r in found if r] if isinstance(found, (list, tuple)) else []
        else:
            return
        if reasons:
            call.finish_reasons = [*(call.finish_reasons or ()), *reasons] if streamed else reasons

    def item(self, call: CallRecord, obj: Any, view: Any = None) -> bool:
        """One streamed item: ``facts`` and ``usage_of`` in one pass (this runs for every chunk of every stream);
        True when it carried usage. ``view``: ``fields_of(obj)``, when the caller has it already."""
        if view is None:
            view = fields_of(obj)
        if call.response_model is None and self.model is not None:
            model = view.get(self.model_name) if self.model_name else self.model(obj)
            if model.__class__ is str and model:
                call.response_model = model
        if call.response_id is None and self.id is not None:
            rid = view.get(self.id_name) if self.id_name else self.id(obj)
            if rid.__class__ is str and rid:
                call.response_id = rid
        over = self.finish_over
        if over is not None:
            entries = view.get(over[0])
            if entries.__class__ is list:
                name = over[1]
                for entry in entries:
                    try:  # a model's field, read with no call (every chunk); else as field() reads it
                        fields = entry.__dict__
                        reason = fields[name] if name in fields else fields_of(entry).get(name)
                    except AttributeError:
                        reason = fields_of(entry).get(name)
                    if reason:
                        call.finish_reasons = [*(call.finish_reasons or ()), str(reason)]
        elif self.finish is not None:
            self.facts(call, obj, True, view)
        if self.duration is not None:
            self._duration(call, obj)
        if self.usage_name is not None and view.get(self.usage_name) is None:
            return False
        return self.usage_of(call, obj, True, view)

    def _duration(self, call: CallRecord, obj: Any) -> None:
        """The server-reported duration, in seconds (a stream reports it on its last item)."""
        value = _money(self.duration(obj))  # type: ignore[misc]  # a number as a float, else None
        if value is not None and 0 <= value < float("inf"):
            call.server_duration = value * self.duration_unit

    def _tier(self, call: CallRecord, obj: Any, view: Any) -> None:
        if self.tier is not None:
            tier = view.get(self.tier_name) if self.tier_name else self.tier(obj)
            if isinstance(tier, str) and tier:
                call.service_tier = tier

    def usage_of(self, call: CallRecord, obj: Any, streamed: bool, view: Any = None) -> bool:
        """Read the usage ``obj`` carries (True when it carries one); in a stream, also the tier that served it."""
        if self.usage_name is not None:
            found = (fields_of(obj) if view is None else view).get(self.usage_name)
        else:
            found = self.usage_at(obj) if self.usage_at is not None else None
        if found is None:
            return False
        if streamed:
            self._tier(call, obj, fields_of(obj) if view is None else view)
        usage, cost = self.usage(found)
        if self.billed is not None:
            billed = self.billed(found)[0]
            if billed is not None:
                if streamed and self.accumulate and call.billed_usage is not None:
                    billed = _added(call.billed_usage, billed)
                call.billed_usage = billed
                if usage is None and (call.usage is None or not (streamed and self.accumulate)):
                    usage = _added(Usage(), billed)  # no raw counts reported: the span shows the billed ones
        if streamed and self.accumulate and call.usage is not None and usage is not None:
            usage = _added(call.usage, usage)
        if usage is not None:
            call.usage = usage
        if cost is not None:
            call.provider_cost = cost + (call.provider_cost or 0.0 if streamed and self.accumulate else 0.0)
        return True


def _one_step(path: Any) -> str | None:
    """The field name of a one-step path (no dots, no list), else None."""
    return path if isinstance(path, str) and path and "." not in path and "[]" not in path else None


def _added(total: Usage, more: Usage) -> Usage:
    out = Usage()
    for name in USAGE_FIELDS:
        a, b = getattr(total, name), getattr(more, name)
        setattr(out, name, a if b is None else b if a is None else (a if name == "requests" else a + b))
    return out


class RequestReader:
    """A compiled ``RequestMap`` plus the endpoint: the facts of a call before it is sent."""

    def __init__(self, spec: RequestMap, endpoint: EndpointLookup) -> None:
        self.spec = spec
        self.endpoint = endpoint

    def call(self, operation: str, instance: Any, kwargs: dict[str, Any], streaming: bool | None = None) -> CallRecord:
        spec = self.spec
        provider, host, port = self.endpoint(instance)
        model = kwargs.get(spec.model)
        if streaming is None:
            streaming = spec.stream is not None and spec.stream in kwargs and kwargs[spec.stream] is True
        call = CallRecord(operation, provider, model if isinstance(model, str) else None, host, port, streaming)
        if spec.service_tier is not None and spec.service_tier in kwargs:
            tier = kwargs[spec.service_tier]
            if given(tier) and isinstance(tier, str) and tier not in spec.tier_unset:
                call.service_tier = tier
        return call

    def attributes(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        spec = self.spec
        attrs = request_attributes(kwargs, spec.params, spec.stop)
        if spec.choice_count is not None and spec.choice_count in kwargs:
            n = kwargs[spec.choice_count]
            if given(n) and isinstance(n, int) and not isinstance(n, bool) and n != 1:
                attrs[REQUEST_CHOICE_COUNT] = n
        return attrs


class SpecAdapter(Adapter):
    """An ``Adapter`` made of data: request facts from the ``RequestMap``, results and items from ``Reads``."""

    def __init__(self, operation: str, request: RequestReader, reads: Reads | None,
                 stream_reads: Reads | None = None, *, streaming: bool | None = None) -> None:
        """``streaming``: whether the wrapped methods always (True) or never (False) stream, for SDKs with a
        method per mode (google-genai's ``generate_content_stream``); None: the request's stream keyword says."""
        if reads is None:
            raise ValueError(f"a {operation} surface declares neither reads nor an adapter")
        self.operation = operation
        self.request = request
        self.streaming = streaming
        self.result = ResultReader(reads)
        self.items = self.result if stream_reads is None else ResultReader(stream_reads)

    def prepare(self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Prepared | None:
        call = self.request.call(self.operation, instance, kwargs, self.streaming)
        return Prepared(call, kwargs, self.request.attributes(kwargs))

    def read_result(self, call: CallRecord, result: Any) -> None:
        view = fields_of(result)
        self.result.facts(call, result, False, view)
        self.result.usage_of(call, result, False, view)

    def read_item(self, call: CallRecord, item: Any, state: Any) -> bool:
        self.items.item(call, item)
        return True


def _targets(spec: ProviderSpec, adapter_for: Callable[[Any], Adapter]) -> list[Target]:
    out: list[Target] = []
    for surface in spec.surfaces:
        adapter = adapter_for(surface)
        if isinstance(surface, ClientFactory):
            methods = tuple((m, False) for m in surface.sync) + tuple((m, True) for m in surface.async_)
            factory = client_factory_wrapper(methods, surface.accepts)
            out.append(Target(surface.module, _dotted(surface.owner, surface.method), adapter, factory=factory))
            continue
        for method in surface.sync:
            out.append(Target(surface.module, _dotted(surface.owner, method), adapter, factory=surface.wrapper))
        for method in surface.async_:
            out.append(Target(surface.module, _dotted(surface.owner, method), adapter, True, surface.wrapper))
    return out


def _dotted(owner: str | None, method: str) -> str:
    return method if owner is None else f"{owner}.{method}"


class SpecInstrumentor(LLMCostInstrumentor):
    """An instrumentor made from a provider module's ``SPEC``: subclasses set ``spec`` and nothing else (their
    version ranges come from the registry). One adapter per surface, built once."""

    spec: ProviderSpec

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "spec" in cls.__dict__:
            cls.name = cls.spec.name

    def instrumentation_dependencies(self) -> Collection[str]:
        from ..providers import registration

        try:
            return registration(self.name).requires
        except KeyError:  # not a registered provider (a toy SDK in the tests)
            return self.instruments

    def targets(self) -> list[Target]:
        adapters: dict[Any, Adapter] | None = self.__dict__.get("_adapters")
        if adapters is None:
            spec = self.spec
            readers: dict[Server, RequestReader] = {}
            adapters = {}
            for surface in spec.surfaces:
                server = surface.server or (Server(client="") if isinstance(surface, ClientFactory) else spec.server)
                if server not in readers:  # one endpoint memo per way of finding the client
                    readers[server] = RequestReader(spec.request, EndpointLookup(spec.provider, server))
                make = surface.adapter or SpecAdapter
                adapter = make(surface.operation, readers[server], surface.reads,
                               getattr(surface, "stream_reads", None))
                adapter.marks_stream_reads = spec.streams_call_sdks
                adapters[surface] = adapter
            self._adapters = adapters
        return _targets(self.spec, adapters.__getitem__)
