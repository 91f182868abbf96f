"""Uninstrumenting ours while a peer instrumentation stays, then instrumenting again, still gives one cost per call.

Under a peer our wrapper sits inside theirs; uninstrument must take it out from under the peer. A wrapper left
there would be wrapped again on the next instrument and every call would be priced twice.
"""

from __future__ import annotations

from typing import Any

import pytest
from fake_openai import GPT_4O_MINI_COST, FakeOpenAI
from test_coexistence import _genai_spans, peer  # noqa: F401  (the peer fixture)

import otel_llm_cost
from conversation import MESSAGES
from telemetry_fixtures import Otel


@pytest.mark.parametrize("rounds", [1, 2])
def test_reinstrument_under_a_peer_prices_once(otel: Otel, peer: Any, rounds: int) -> None:  # noqa: F811
    otel_llm_cost.uninstrument()
    peer.instrument(tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider)
    for _ in range(rounds):
        otel.reinstrument()
        otel_llm_cost.uninstrument()
    otel.reinstrument()
    FakeOpenAI().client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    priced = [s for s in _genai_spans(otel) if "gen_ai.usage.cost.amount" in s.attributes]
    assert len(priced) == 1, [(s.name, s.instrumentation_scope.name) for s in _genai_spans(otel)]
    assert priced[0].attributes["gen_ai.usage.cost.amount"] == pytest.approx(GPT_4O_MINI_COST, rel=1e-12)
    assert otel.metric_count("gen_ai.client.operation.cost") == 1
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(GPT_4O_MINI_COST, rel=1e-12)
