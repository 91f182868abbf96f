"""Peer wrapping on a toy SDK: with another instrumentation's wrapt wrapper on the same method (wrapped before or
after ours), the call has one span, the peer's, carrying our cost; either side may uninstrument (also through
opentelemetry's ``unwrap``, which leaves a bound wrapper behind) without breaking the other or double counting."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import toy_sdk
import wrapt
from opentelemetry import trace
from opentelemetry.instrumentation.utils import unwrap
from opentelemetry.trace import SpanKind

from otel_llm_cost.core.contract import Fixed, ProviderSpec, Reads, Server, Surface, UsageMap
from otel_llm_cost.core.provider import SpecInstrumentor
from telemetry_fixtures import Otel

COST = (1000 * 2.5 + 100 * 10) / 1e6  # gpt-4o list prices, USD per 1M tokens: 2.5 input, 10 output
TOY = ProviderSpec(name="toy", provider=Fixed("openai"), server=Server(client=None), surfaces=(
    Surface("toy_sdk", "Chat", ("create",), reads=Reads(usage=UsageMap(input="prompt_tokens",
                                                                        output="completion_tokens"))),))


class ToyInstrumentor(SpecInstrumentor):
    spec = TOY


class Peer:
    """Another GenAI instrumentation: its own CLIENT span around the call, made current."""

    def __init__(self, otel: Otel) -> None:
        self.tracer = trace.get_tracer("toy.peer", tracer_provider=otel.tracer_provider)

    def wrapper(self, wrapped: Any, instance: Any, args: Any, kwargs: dict[str, Any]) -> Any:
        with self.tracer.start_as_current_span("chat gpt-4o", kind=SpanKind.CLIENT,
                                               attributes={"gen_ai.operation.name": "chat"}):
            return wrapped(*args, **kwargs)

    def instrument(self) -> None:
        wrapt.wrap_function_wrapper("toy_sdk", "Chat.create", self.wrapper)

    def uninstrument(self) -> None:
        unwrap(toy_sdk.Chat, "create")


@pytest.fixture
def ours(otel: Otel) -> Iterator[ToyInstrumentor]:
    instrumentor = ToyInstrumentor()
    yield instrumentor
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
    while isinstance(vars(toy_sdk.Chat)["create"], wrapt.FunctionWrapper | wrapt.BoundFunctionWrapper):
        toy_sdk.Chat.create = vars(toy_sdk.Chat)["create"].__wrapped__  # type: ignore[method-assign]


def _both(otel: Otel, ours: ToyInstrumentor, peer_first: bool) -> Peer:
    """The peer and ours on the toy method, in that order or the other; returns the peer."""
    peer = Peer(otel)
    if peer_first:
        peer.instrument()
    ours.instrument(tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider)
    if not peer_first:
        peer.instrument()
    return peer


def _call() -> dict[str, Any]:
    return toy_sdk.Chat().create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])


def _costs(otel: Otel) -> list[tuple[str, float | None]]:
    return [(s.instrumentation_scope.name, s.attributes.get("gen_ai.usage.cost.amount"))
            for s in otel.spans.get_finished_spans()]


@pytest.mark.parametrize("peer_first", [True, False], ids=["peer-then-ours", "ours-then-peer"])
def test_one_span_the_peers_with_our_cost(otel: Otel, ours: ToyInstrumentor, peer_first: bool) -> None:
    _both(otel, ours, peer_first)
    assert _call()["id"] == "toy-1"
    assert _costs(otel) == [("toy.peer", pytest.approx(COST))]
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(COST)
    assert otel.metric_count("gen_ai.client.operation.duration") == 0  # the peer records its own histograms


@pytest.mark.parametrize("peer_first", [True, False], ids=["peer-then-ours", "ours-then-peer"])
def test_we_leave_and_the_peer_keeps_working(otel: Otel, ours: ToyInstrumentor, peer_first: bool) -> None:
    _both(otel, ours, peer_first)
    ours.uninstrument()
    _call()
    assert _costs(otel) == [("toy.peer", None)]


@pytest.mark.parametrize("peer_first", [True, False], ids=["peer-then-ours", "ours-then-peer"])
def test_the_peer_leaves_and_we_record_alone(otel: Otel, ours: ToyInstrumentor, peer_first: bool) -> None:
    peer = _both(otel, ours, peer_first)
    peer.uninstrument()  # opentelemetry's unwrap: may leave a bound wrapper of ours on the class
    _call()
    ours.uninstrument()
    ours.instrument(tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider)
    _call()
    assert _costs(otel) == [("otel_llm_cost", pytest.approx(COST))] * 2
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(2 * COST)
