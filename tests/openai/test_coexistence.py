"""Never two records for one call: with the official genai-openai or OpenLLMetry's openai instrumentation
also active (in either order), the call has one GenAI span, which carries our cost, and cost is counted once."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from fake_openai import GPT_4O_MINI_COST, FakeOpenAI

import otel_llm_cost
from telemetry_fixtures import Otel

PEERS = {
    "genai-openai": "opentelemetry.instrumentation.genai.openai",
    "openllmetry": "opentelemetry.instrumentation.openai",
}


@pytest.fixture(params=sorted(PEERS))
def peer(request: pytest.FixtureRequest, otel: Otel) -> Iterator[Any]:
    module = importlib.import_module(PEERS[request.param])  # dev dependencies: missing is a failure, not a skip
    instrumentor = module.OpenAIInstrumentor()
    yield instrumentor
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
    _strip_leftover_wrappers()


def _strip_leftover_wrappers() -> None:
    """OpenLLMetry's uninstrument does not unwrap on openai 3.x: undo it so the next test starts clean."""
    import wrapt

    from otel_llm_cost.providers.openai import OpenAIInstrumentor

    for target in OpenAIInstrumentor().targets():
        cls = getattr(importlib.import_module(target.module), target.method.split(".")[0])
        for name, attr in list(vars(cls).items()):
            while isinstance(attr, wrapt.FunctionWrapper):
                attr = attr.__wrapped__
                setattr(cls, name, attr)


def _genai_spans(otel: Otel) -> list[Any]:
    return [s for s in otel.spans.get_finished_spans()
            if s.attributes and (s.attributes.get("gen_ai.operation.name") or s.attributes.get("gen_ai.system")
                                 or s.attributes.get("llm.request.type"))]


@pytest.mark.parametrize("peer_first", [True, False], ids=["peer-then-ours", "ours-then-peer"])
@pytest.mark.parametrize("stream", [False, True])
def test_one_span_one_cost(otel: Otel, peer: Any, peer_first: bool, stream: bool) -> None:
    otel_llm_cost.uninstrument()
    if peer_first:
        peer.instrument(tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider)
        otel.reinstrument()
    else:
        otel.reinstrument()
        peer.instrument(tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider)
    fake = FakeOpenAI()
    result = fake.client().chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}],
                                                   stream=stream)
    if stream:
        list(result)
    spans = _genai_spans(otel)
    assert len(spans) == 1, [(s.name, s.instrumentation_scope.name) for s in spans]
    (span,) = spans
    assert span.instrumentation_scope.name != "otel_llm_cost"  # the peer's span, enriched
    assert span.attributes["gen_ai.usage.cost.amount"] == pytest.approx(GPT_4O_MINI_COST)
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(GPT_4O_MINI_COST)
    assert otel.metric_count("gen_ai.client.operation.cost") == 1
    # the peer records duration/token histograms itself; ours stay silent so nothing is counted twice
    assert otel.metric_count("gen_ai.client.operation.duration") == 0
    otel_llm_cost.uninstrument()
    fake.client().chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    # we took ourselves out from under the peer (whose own uninstrument may not unwrap on openai 3.x)
    assert all("gen_ai.usage.cost.amount" not in s.attributes for s in _genai_spans(otel)[1:])
    assert otel.metric_count("gen_ai.client.operation.cost") == 1
