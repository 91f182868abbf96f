"""What every call of one shape reuses (core/telemetry.py: shapes, series, counter slots) must never leak from one
call into another: a series is exported only once something was added to it, a router's fallback renames its own
call only, and each attribution keeps its own series."""

from __future__ import annotations

import otel_llm_cost
from otel_llm_cost.core.calls import RUNTIME
from otel_llm_cost.core.telemetry import CallRecord, Telemetry
from otel_llm_cost.core.usage import Usage
from telemetry_fixtures import Otel


def _telemetry() -> Telemetry:
    assert RUNTIME.telemetry is not None
    return RUNTIME.telemetry


def _call(usage: Usage, provider: str = "openai", answered_by: str | None = None) -> None:
    telemetry = _telemetry()
    call = telemetry.start(CallRecord("chat", provider, "gpt-4o-mini", "api.openai.com", None, False))
    telemetry.detach(call)
    call.response_model = "gpt-4o-mini-2024-07-18"
    call.usage = usage
    if answered_by:
        call.answered_by(answered_by)
    telemetry.finish(call)


def _types(otel: Otel, name: str, key: str) -> dict[str, float]:
    return {p.attributes[key]: p.value for p in otel.metrics().get(name, [])}


def test_only_series_with_a_value_are_exported(otel: Otel) -> None:
    _call(Usage(input_tokens=1000, output_tokens=100))
    assert set(_types(otel, "gen_ai.client.cost", "gen_ai.cost.type")) == {"input", "output"}
    assert "gen_ai.client.inference.usage.cache_read.input_tokens" not in otel.metrics()
    assert "gen_ai.client.cost.savings" not in otel.metrics()
    _call(Usage(input_tokens=1000, output_tokens=100, cache_read_tokens=800))  # the same series, one part more
    costs = _types(otel, "gen_ai.client.cost", "gen_ai.cost.type")
    assert set(costs) == {"input", "output", "cache_read"}
    assert sum(costs.values()) == otel.metric_sum("gen_ai.client.operation.cost") > 0
    assert _types(otel, "gen_ai.client.inference.usage.input_tokens", "gen_ai.token.modality") == {"text": 2000}
    assert _types(otel, "gen_ai.client.inference.usage.cache_read.input_tokens", "gen_ai.token.modality") == \
        {"text": 800}
    assert set(_types(otel, "gen_ai.client.cost.savings", "gen_ai.cost.type")) == {"cache_read"}


def test_a_fallback_renames_its_own_call_only(otel: Otel) -> None:
    _call(Usage(input_tokens=10, output_tokens=1))
    _call(Usage(input_tokens=10, output_tokens=1), answered_by="azure.ai.openai")
    _call(Usage(input_tokens=10, output_tokens=1))  # the same shape as the first: still openai
    assert otel.metric_count("gen_ai.client.operation.duration", **{"gen_ai.provider.name": "openai"}) == 2
    assert otel.metric_count("gen_ai.client.operation.duration", **{"gen_ai.provider.name": "azure.ai.openai"}) == 1
    assert otel.metric_sum("gen_ai.client.inference.usage.input_tokens",
                           **{"gen_ai.provider.name": "openai"}) == 20
    assert [s.attributes["gen_ai.provider.name"] for s in otel.finished()] == ["openai", "azure.ai.openai", "openai"]


def test_each_attribution_keeps_its_own_series(otel: Otel) -> None:
    for team in ("search", "ads", "search"):
        with otel_llm_cost.attributes(team=team, user_id=f"user-{team}"):
            _call(Usage(input_tokens=100, output_tokens=10))
    _call(Usage(input_tokens=100, output_tokens=10))  # no attribution
    assert otel.metric_sum("gen_ai.client.inference.usage.input_tokens", team="search") == 200
    assert otel.metric_sum("gen_ai.client.inference.usage.input_tokens", team="ads") == 100
    points = otel.metrics()["gen_ai.client.operation.duration"]
    assert sorted(p.attributes.get("team", "-") for p in points) == ["-", "ads", "search"]
    assert [s.attributes.get("user_id") for s in otel.finished()] == ["user-search", "user-ads", "user-search", None]


def test_a_span_only_key_of_many_values_shares_one_shape(otel: Otel) -> None:
    for user in range(300):
        with otel_llm_cost.attributes(team="search", user_id=f"user-{user}"):
            _call(Usage(input_tokens=1, output_tokens=1))
    assert len(_telemetry()._shapes) == 1  # the user id is on each span, not in the shape's key
    assert {s.attributes["user_id"] for s in otel.finished()} == {f"user-{u}" for u in range(300)}
    assert otel.metric_count("gen_ai.client.operation.duration", team="search") == 300
