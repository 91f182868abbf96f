"""The provider contract: what a provider module declares, as data the core reads.

A provider says what to wrap (``Surface``: class methods sync and async, module-level functions; ``ClientFactory``:
clients made by a factory), how its provider name and server are found (``Fixed``, ``ByHost``, ``ClientAttr`` and
``Server``), how request keyword arguments map onto the conventions (``RequestMap``), and where response facts and
usage are (``Reads``, ``UsageMap``: paths into objects or mappings, usage as data like genai-prices' extractors).
What no table can say (OpenAI's hidden usage chunk, Anthropic's cumulative stream counts and managed stream) stays
code: a surface may name its own ``Adapter`` (``core.calls``) instead of ``Reads``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

OVERWRITE = "overwrite"  # a stream reports usage cumulatively: the last report is the total
ACCUMULATE = "accumulate"  # a stream reports usage per item: the total is the sum

Path = str | tuple[str, ...]  # one path, or several tried in order (the first present wins)


@dataclass(frozen=True)
class Fixed:
    """The provider name is always ``name``."""

    name: str

    def __call__(self, client: Any, host: str | None, port: int | None) -> str:
        return self.name


@dataclass(frozen=True)
class ByHost:
    """The provider name follows the client: its class name first (``by_class``: fragment -> name), then the
    server host (``hosts``: host or host suffix -> name), then the port of an unknown
    host (``by_port``), else ``default``. For SDKs that reach many OpenAI-compatible hosts."""

    hosts: tuple[tuple[str, str], ...]
    default: str
    by_class: tuple[tuple[str, str], ...] = ()
    by_port: tuple[tuple[int, str], ...] = ()

    def __call__(self, client: Any, host: str | None, port: int | None) -> str:
        found = _by_class(self.by_class, client)
        if found is not None:
            return found
        if host:
            for suffix, name in self.hosts:
                if host.endswith(suffix):
                    return name
            for number, name in self.by_port:
                if port == number:
                    return name
        return self.default


@dataclass(frozen=True)
class ClientAttr:
    """The client names its provider in attribute ``attr`` (a string); else its class name, else ``default``."""

    attr: str
    default: str
    by_class: tuple[tuple[str, str], ...] = ()

    def __call__(self, client: Any, host: str | None, port: int | None) -> str:
        value = getattr(client, self.attr, None)
        if isinstance(value, str) and value:
            return value
        found = _by_class(self.by_class, client)
        return self.default if found is None else found


@dataclass(frozen=True)
class ClientFlag:
    """The client's boolean attribute ``attr`` picks the provider name: ``when_true`` or ``when_false``. For SDKs
    whose one client class reaches two providers by a switch (google-genai's ``vertexai``), wherever it is hosted."""

    attr: str
    when_true: str
    when_false: str

    def __call__(self, client: Any, host: str | None, port: int | None) -> str:
        return self.when_true if getattr(client, self.attr, False) is True else self.when_false


ProviderRule = Fixed | ByHost | ClientAttr | ClientFlag


def _by_class(table: tuple[tuple[str, str], ...], client: Any) -> str | None:
    name = type(client).__name__
    return next((provider for part, provider in table if part in name), None)


@dataclass(frozen=True)
class Server:
    """Where the client of a call is (``client``: a path from the wrapped method's instance, ``""`` for the
    instance itself, None when there is none, as for module functions; several paths: the first present, for SDK
    releases that keep it in different places) and its base URL (``base_url``: a path from the client to an httpx
    URL or a URL string, or a function of the client returning one, for an SDK that computes it: mistralai's
    configuration names a server or holds a URL)."""

    client: Path | None = "_client"
    base_url: str | Callable[[Any], Any] = "base_url"


@dataclass(frozen=True)
class RequestMap:
    """Request keyword arguments -> call facts: ``model``, ``stream`` (True means streamed), ``params``
    (keyword -> span attribute, numbers and strings only), ``stop`` (a string or a list), ``service_tier``
    (a tier value in ``tier_unset`` names no tier), ``choice_count`` (the number of choices, recorded when not 1)."""

    model: str = "model"
    stream: str | None = "stream"
    params: tuple[tuple[str, str], ...] = ()
    stop: str | None = None
    service_tier: str | None = None
    tier_unset: tuple[str, ...] = ("auto",)
    choice_count: str | None = None


@dataclass(frozen=True)
class UsageMap:
    """Where each ``Usage`` count is, relative to the usage object. Counts the conventions include in a total
    but a provider reports beside it are listed in ``input_plus`` / ``output_plus`` (they are added). ``cost``
    is a cost the provider reports itself (OpenRouter ``usage.cost``). ``floats``: the provider reports counts as
    JSON numbers its SDK types as floats (Cohere): a whole float is read as that count, any other is no count."""

    input: Path | None = None
    output: Path | None = None
    cache_read: Path | None = None
    cache_write: Path | None = None
    cache_write_1h: Path | None = None
    reasoning: Path | None = None
    input_audio: Path | None = None
    output_audio: Path | None = None
    input_image: Path | None = None
    output_image: Path | None = None
    web_searches: Path | None = None
    output_images: Path | None = None  # images generated, priced per image
    rerank_searches: Path | None = None
    document_pages: Path | None = None  # pages an OCR call processed
    audio_seconds: Path | None = None  # seconds of audio a transcription processed
    input_plus: tuple[str, ...] = ()
    output_plus: tuple[str, ...] = ()
    cost: Path | None = None
    floats: bool = False


@dataclass(frozen=True)
class Reads:
    """Where a result (or a streamed item) carries its facts. ``usage_at``: the usage object's path(s), the
    first present wins (Groq streams put it under ``x_groq.usage``; ``""``: the counts are on the result itself,
    as Ollama's); ``finish``: the finish reason(s), a path that may project over a list
    (``choices[].finish_reason``); ``merge``: how streamed usage reports combine. ``duration``: how long the
    server says it worked on the call, in units of ``duration_unit`` seconds (Ollama's ``total_duration``, 1e-9);
    self-hosted ``per_second`` prices bill it instead of the wall time the client measured.
    ``billed``: for a provider that reports what it bills beside the raw token counts (Cohere's ``billed_units``
    beside ``tokens``), where the billed counts are, relative to the same usage object: the call is priced from
    them, while the span's and metrics' token counts stay ``usage``'s (``billed``'s when ``usage`` has none)."""

    usage: UsageMap
    usage_at: Path = "usage"
    model: Path | None = "model"
    id: Path | None = "id"
    finish: Path | None = None
    service_tier: Path | None = None
    merge: str = OVERWRITE
    duration: Path | None = None
    duration_unit: float = 1.0
    billed: UsageMap | None = None


@dataclass(frozen=True)
class Surface:
    """Methods to wrap: ``owner`` is a class of ``module`` (None: module-level functions); ``sync`` and
    ``async_`` name its plain and coroutine methods (an SDK's ``complete_async`` on the same class too).
    ``reads`` (data) says where results carry their facts; ``adapter``, for the truly unusual, is an ``Adapter``
    class (or factory) called like ``SpecAdapter(operation, request_reader, reads, stream_reads)``."""

    module: str
    owner: str | None
    sync: tuple[str, ...] = ()
    async_: tuple[str, ...] = ()
    operation: str = "chat"
    reads: Reads | None = None
    adapter: Any = None
    stream_reads: Reads | None = None  # when streamed items carry facts elsewhere than results
    server: Server | None = None  # where this surface's client is, when not where the spec's ``server`` says
    # a wrapper factory for a method of another shape than one call per invocation (batch results, where each
    # item is a call of its own): ``factory(instrumentor, adapter)`` -> a wrapt wrapper marked with ``mark_ours``
    wrapper: Any = None


@dataclass(frozen=True)
class ClientFactory:
    """Clients made by a factory (botocore's ``ClientCreator.create_client``): the factory ``owner.method`` of
    ``module`` is wrapped, and on each client it returns that ``accepts`` the methods ``sync``/``async_`` are
    wrapped on the client object itself."""

    module: str
    owner: str | None
    method: str
    sync: tuple[str, ...] = ()
    async_: tuple[str, ...] = ()
    operation: str = "chat"
    reads: Reads | None = None
    adapter: Any = None
    accepts: Callable[[Any], bool] = field(default=lambda client: True)
    server: Server | None = None  # default: the client is the wrapped method's instance



@dataclass(frozen=True)
class ProviderSpec:
    """One SDK family: its instrumentor ``name`` (its entry point is ``llm_cost_<name>``, see the registry in
    ``otel_llm_cost.providers``), how provider name and server are found, the request map and the surfaces."""

    name: str
    provider: ProviderRule
    surfaces: tuple[Surface | ClientFactory, ...]
    server: Server = Server()
    request: RequestMap = RequestMap()
    # Whether reading one of this SDK's streams may run another instrumented SDK's call (an SDK over others:
    # LiteLLM's streams send their request lazily, through the openai SDK): then, while each item is read, inner
    # layers of ours step aside (calls.py, the nested-call rule). False for an SDK that only speaks HTTP: two
    # context-variable calls fewer per streamed item.
    streams_call_sdks: bool = True
