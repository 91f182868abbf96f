"""Errors, the SDK's own spans, Bedrock/Vertex clients, peers, uninstrument, and never breaking the app."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Iterator
from importlib.metadata import entry_points
from typing import Any

import httpx2
import pytest
import wrapt
from fake_anthropic import CACHE_1H, CACHE_5M, CACHE_READ, INPUT, OUTPUT, FakeAnthropic, overloaded
from test_anthropic_calls import SONNET_COST, TOTAL_INPUT

import anthropic
import otel_llm_cost
from conversation import MESSAGES
from otel_llm_cost.core.telemetry import error_type
from otel_llm_cost.providers.anthropic import AnthropicInstrumentor
from telemetry_fixtures import Otel

pytestmark = pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning")
MODEL = "claude-sonnet-4-5"


ERRORS = [
    (overloaded(), anthropic.OverloadedError),
    ((429, {"type": "error", "error": {"type": "rate_limit_error", "message": "Number of request tokens has "
                                       "exceeded your per-minute rate limit"}}), anthropic.RateLimitError),
    ((400, {"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: Field required"}}),
     anthropic.BadRequestError),
    (httpx2.ConnectError("connection refused"), anthropic.APIConnectionError),
    (httpx2.ReadTimeout("timed out"), anthropic.APITimeoutError),
]


def _bare_exception(fake: FakeAnthropic, surface: str) -> BaseException:
    otel_llm_cost.uninstrument()
    try:
        _call(fake.client(), surface)
    except BaseException as exc:
        return exc
    raise AssertionError("the simulated API did not fail")


def _call(client: Any, surface: str) -> None:
    if surface == "create":
        client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES)
    elif surface == "stream":
        list(client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES, stream=True))
    else:
        with client.messages.stream(model=MODEL, max_tokens=10, messages=MESSAGES) as stream:
            stream.until_done()


async def _acall(client: Any, surface: str) -> None:
    if surface == "create":
        await client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES)
    elif surface == "stream":
        async for _ in await client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES, stream=True):
            pass
    else:
        async with client.messages.stream(model=MODEL, max_tokens=10, messages=MESSAGES) as stream:
            await stream.until_done()


@pytest.mark.parametrize(("failure", "sdk_error"), ERRORS, ids=[e.__name__ for _, e in ERRORS])
@pytest.mark.parametrize("surface", ["create", "stream", "helper"])
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_errors_reach_the_caller_unchanged(otel: Otel, fake: FakeAnthropic, failure: Any, sdk_error: type,
                                          surface: str, is_async: bool) -> None:
    fake.fail = failure
    with pytest.raises(sdk_error) as raised:
        if is_async:
            asyncio.run(_acall(fake.async_client(), surface))
        else:
            _call(fake.client(), surface)
    assert type(raised.value) is sdk_error
    (span,) = otel.finished()
    expected = f"anthropic.{sdk_error.__qualname__}"
    assert span.attributes["error.type"] == expected
    assert span.status.status_code.name == "ERROR"
    assert "gen_ai.usage.cost.amount" not in span.attributes and "llm_cost.unpriced_reason" not in span.attributes
    assert otel.metric_count("gen_ai.client.operation.duration", **{"error.type": expected}) == 1
    assert otel.metric_sum("gen_ai.client.cost") == 0 and otel.metric_sum("gen_ai.client.operation.unpriced") == 0
    if not is_async:
        bare = _bare_exception(fake, surface)
        assert type(bare) is type(raised.value) and str(bare) == str(raised.value)


def test_overloaded_mid_stream(otel: Otel, fake: FakeAnthropic) -> None:
    fake.stream_error_after = 3  # message_start, ping, content_block_start, then an `error` event
    with pytest.raises(anthropic.APIStatusError) as raised:  # the SDK raises the generic class mid-stream
        list(fake.client().messages.create(model=MODEL, max_tokens=10, messages=MESSAGES, stream=True))
    assert "overloaded_error" in str(raised.value)
    (span,) = otel.finished()
    assert span.attributes["error.type"] == "anthropic.APIStatusError"
    # what message_start reported (input and cache counts, placeholder output) is all that is priced
    assert span.attributes["gen_ai.usage.input_tokens"] == TOTAL_INPUT
    assert span.attributes["gen_ai.usage.output_tokens"] == 1


def test_connection_dropped_mid_stream(otel: Otel, fake: FakeAnthropic) -> None:
    fake.break_stream_after = 1  # only message_start arrives
    # anthropic < 2.17 lets the transport's error through mid-stream; 2.17 wraps it in APIConnectionError.
    # Either way the app gets what the SDK raises, and the span names that same type.
    with pytest.raises((httpx2.ReadError, anthropic.APIConnectionError)) as raised, fake.client().messages.stream(
            model=MODEL, max_tokens=10, messages=MESSAGES) as stream:
        stream.until_done()
    (span,) = otel.finished()
    assert span.attributes["error.type"] == error_type(raised.value)
    assert span.end_time is not None


# -- the SDK's own spans ------------------------------------------------------------------------------

def _native(otel: Otel) -> list[Any]:
    return [s for s in otel.spans.get_finished_spans() if s.instrumentation_scope.name == "com.anthropic.sdk.python"]


@pytest.mark.parametrize("surface", ["create", "stream", "helper"])
def test_native_spans_kept_as_children_and_counted_once(otel: Otel, fake: FakeAnthropic, surface: str) -> None:
    client = fake.client(open_telemetry={"tracer_provider": otel.tracer_provider})
    _call(client, surface)
    (ours,) = otel.finished()
    (theirs,) = _native(otel)
    assert theirs.name == "anthropic.messages.create"
    assert theirs.parent is not None and theirs.parent.span_id == ours.context.span_id  # ours is the GenAI call
    assert "gen_ai.usage.cost.amount" not in theirs.attributes
    assert ours.attributes["gen_ai.usage.cost.amount"] == pytest.approx(SONNET_COST)
    # their span has no metrics: ours count the call's tokens and cost exactly once
    assert otel.metric_sum("gen_ai.client.token.usage", **{"gen_ai.token.type": "input"}) == TOTAL_INPUT
    assert otel.metric_count("gen_ai.client.operation.duration") == 1
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(SONNET_COST)
    # traceparent the SDK sent names its own span, inside our trace
    assert fake.requests[-1][2]["traceparent"].split("-")[1] == format(ours.context.trace_id, "032x")


def test_native_spans_disabled_through_the_sdk_switch(otel: Otel, fake: FakeAnthropic,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.delenv("ANTHROPIC_OPEN_TELEMETRY", raising=False)
    monkeypatch.setenv("OTEL_LLM_COST_ANTHROPIC_NATIVE_SPANS", "disable")
    otel.reinstrument()
    assert os.environ["ANTHROPIC_OPEN_TELEMETRY"] == "false"
    client = anthropic.Anthropic(api_key="k", max_retries=0,
                                 http_client=httpx2.Client(transport=httpx2.MockTransport(fake.handle)))
    assert client.open_telemetry["traces"]["enabled"] is False
    client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES)
    assert len(otel.finished()) == 1 and _native(otel) == []
    otel_llm_cost.uninstrument()
    assert "ANTHROPIC_OPEN_TELEMETRY" not in os.environ  # restored
    otel.reinstrument()


def test_native_switch_set_by_the_user_is_respected(otel: Otel, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.setenv("ANTHROPIC_OPEN_TELEMETRY", "true")
    otel.reinstrument(anthropic_native_spans="disable")
    assert os.environ["ANTHROPIC_OPEN_TELEMETRY"] == "true"
    otel_llm_cost.uninstrument()
    assert os.environ["ANTHROPIC_OPEN_TELEMETRY"] == "true"
    otel.reinstrument()


# -- Bedrock and Vertex clients -------------------------------------------------------------------------

@pytest.mark.parametrize("client_kind", ["bedrock", "vertex"])
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_platform_clients_every_surface(otel: Otel, fake: FakeAnthropic, client_kind: str, is_async: bool) -> None:
    model = "us.anthropic.claude-sonnet-4-5-20250929-v1:0" if client_kind == "bedrock" \
        else "claude-sonnet-4-5@20250929"
    provider = "aws.bedrock" if client_kind == "bedrock" else "gcp.vertex_ai"
    client = (fake.bedrock if client_kind == "bedrock" else fake.vertex)(is_async=is_async)

    def sync() -> None:
        for api in (client.messages, client.beta.messages):  # beta: the import-time copies
            api.create(model=model, max_tokens=10, messages=MESSAGES)
            list(api.create(model=model, max_tokens=10, messages=MESSAGES, stream=True))
            with api.stream(model=model, max_tokens=10, messages=MESSAGES) as stream:
                stream.get_final_message()

    async def main() -> None:
        for api in (client.messages, client.beta.messages):
            await api.create(model=model, max_tokens=10, messages=MESSAGES)
            async for _ in await api.create(model=model, max_tokens=10, messages=MESSAGES, stream=True):
                pass
            async with api.stream(model=model, max_tokens=10, messages=MESSAGES) as stream:
                await stream.get_final_message()

    asyncio.run(main()) if is_async else sync()
    spans = otel.finished()
    assert len(spans) == 6
    for span in spans:
        assert span.attributes["gen_ai.provider.name"] == provider
        assert span.attributes["gen_ai.request.model"] == model
        assert span.attributes["gen_ai.usage.input_tokens"] == INPUT + CACHE_5M + CACHE_1H + CACHE_READ
        assert span.attributes["gen_ai.usage.output_tokens"] == OUTPUT
        assert span.attributes["gen_ai.usage.cost.amount"] > 0
    assert len({s.attributes["gen_ai.usage.cost.amount"] for s in spans}) == 1


# -- peers, entry point, uninstrument, failures ---------------------------------------------------------

PEERS = {"genai-anthropic": "opentelemetry.instrumentation.genai.anthropic",
         "openllmetry": "opentelemetry.instrumentation.anthropic"}


@pytest.fixture(params=sorted(PEERS))
def genai_peer(request: pytest.FixtureRequest, otel: Otel) -> Iterator[Any]:
    module = pytest.importorskip(PEERS[request.param])
    instrumentor = module.AnthropicInstrumentor()
    yield instrumentor
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()


def _genai_spans(otel: Otel) -> list[Any]:
    return [s for s in otel.spans.get_finished_spans() if s.attributes and s.attributes.get("gen_ai.operation.name")
            and s.instrumentation_scope.name != "com.anthropic.sdk.python"]


@pytest.mark.parametrize("peer_first", [True, False], ids=["peer-then-ours", "ours-then-peer"])
@pytest.mark.parametrize("surface", ["create", "stream", "helper"])
def test_peer_instrumentation_alongside(otel: Otel, genai_peer: Any, fake: FakeAnthropic, peer_first: bool,
                                        surface: str) -> None:
    """Cost is counted once whatever the order. genai-anthropic makes its span current: we enrich it, one span.
    OpenLLMetry's anthropic instrumentation does not (its span is never the current one), so it cannot be
    found: its span and ours both exist, and only ours has the cost."""
    otel_llm_cost.uninstrument()
    if peer_first:
        genai_peer.instrument(tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider)
        otel.reinstrument()
    else:
        otel.reinstrument()
        genai_peer.instrument(tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider)
    _call(fake.client(), surface)
    spans = _genai_spans(otel)
    priced = [s for s in spans if "gen_ai.usage.cost.amount" in s.attributes]
    described = [(s.name, s.instrumentation_scope.name) for s in spans]
    if type(genai_peer).__module__.startswith("opentelemetry.instrumentation.genai."):
        assert len(spans) == 1 and spans[0].instrumentation_scope.name != "otel_llm_cost", described
    else:
        assert len(spans) == 2 and priced[0].instrumentation_scope.name == "otel_llm_cost", described
    assert len(priced) == 1 and priced[0].attributes["gen_ai.usage.cost.amount"] == pytest.approx(SONNET_COST)
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(SONNET_COST)
    assert otel.metric_count("gen_ai.client.operation.cost") == 1


def test_entry_point_is_registered() -> None:
    (ep,) = [e for e in entry_points(group="opentelemetry_instrumentor") if e.name == "llm_cost_anthropic"]
    assert ep.load() is AnthropicInstrumentor
    assert AnthropicInstrumentor().instrumentation_dependencies() == ("anthropic >= 2.0.0, < 3",)


def test_uninstrument_restores_every_class(otel: Otel, fake: FakeAnthropic) -> None:
    otel_llm_cost.instrument()  # already instrumented: no second wrapper
    fake.client().messages.create(model=MODEL, max_tokens=10, messages=MESSAGES)
    assert len(otel.finished()) == 1
    otel_llm_cost.uninstrument()
    for target in AnthropicInstrumentor().targets():
        cls = getattr(importlib.import_module(target.module), target.method.split(".")[0])
        assert not isinstance(cls.__dict__[target.method.split(".")[1]], wrapt.ObjectProxy), target.method
    fake.client().messages.create(model=MODEL, max_tokens=10, messages=MESSAGES)
    fake.bedrock().beta.messages.create(model="us.anthropic.claude-sonnet-4-5-20250929-v1:0", max_tokens=10,
                                        messages=MESSAGES)
    assert len(otel.finished()) == 1
    otel.reinstrument()


def test_instrumentation_failures_never_reach_the_app(otel: Otel, fake: FakeAnthropic,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from otel_llm_cost.core.calls import RUNTIME
    from otel_llm_cost.providers import anthropic as adapter

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug in our code")

    assert RUNTIME.telemetry is not None
    monkeypatch.setattr(RUNTIME.telemetry.book, "_cost", explode)
    monkeypatch.setattr(adapter.MessagesAdapter, "read_item", explode)
    monkeypatch.setattr(adapter.MessagesAdapter, "attach_stream", explode)
    client = fake.client()
    assert client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES).usage.input_tokens == INPUT
    assert list(client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES, stream=True))[-1].type \
        == "message_stop"
    with client.messages.stream(model=MODEL, max_tokens=10, messages=MESSAGES) as stream:
        assert stream.get_final_message().usage.output_tokens == OUTPUT
    spans = otel.finished()
    assert len(spans) == 3
    assert spans[0].attributes["llm_cost.unpriced_reason"] == "pricing_error"
    monkeypatch.setattr(adapter.MessagesAdapter, "prepare", explode)
    assert client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES).id == "msg_01XFDUDYJgAACzvnptvVoYEL"
    with client.messages.stream(model=MODEL, max_tokens=10, messages=MESSAGES) as stream:
        stream.until_done()
    assert len(otel.finished()) == 3


def test_concurrency_threads_and_tasks(otel: Otel, fake: FakeAnthropic) -> None:
    import threading

    from otel_llm_cost import attributes

    client = fake.client()

    def worker(i: int) -> None:
        with attributes(feature=f"t{i % 2}"):
            for _ in range(5):
                client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    async def task(aclient: Any, i: int) -> None:
        with attributes(feature=f"a{i % 2}"):
            if i % 2:
                await aclient.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES)
            else:
                async with aclient.messages.stream(model=MODEL, max_tokens=10, messages=MESSAGES) as stream:
                    await stream.until_done()

    async def main() -> None:
        aclient = fake.async_client()
        await asyncio.gather(*(task(aclient, i) for i in range(100)))

    asyncio.run(main())
    spans = otel.finished()
    assert len(spans) == 130 and len({s.context.span_id for s in spans}) == 130
    assert all(s.parent is None for s in spans)  # no call became the parent of another
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(130 * SONNET_COST, rel=1e-9)
    by_feature = {f: sum(1 for s in spans if s.attributes["feature"] == f) for f in ("t0", "t1", "a0", "a1")}
    assert by_feature == {"t0": 15, "t1": 15, "a0": 50, "a1": 50}
