"""Errors, providers behind the OpenAI SDK, attribution, concurrency, and never breaking the application."""

from __future__ import annotations

import asyncio
import gc

import pytest
import wrapt
from fake_openai import GPT_4O_MINI_COST, FakeOpenAI, http

import openai
import otel_llm_cost
from conversation import MESSAGES
from otel_llm_cost import attributes
from telemetry_fixtures import Otel

ERROR_BODY = {"error": {"message": "boom", "type": "server_error", "param": None, "code": None}}


def _uninstrumented_exception(fake: FakeOpenAI) -> BaseException:
    otel_llm_cost.uninstrument()
    try:
        fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    except BaseException as exc:
        return exc
    finally:
        pass
    raise AssertionError("the simulated API did not fail")


@pytest.mark.parametrize(("failure", "sdk_error"), [
    ((401, {"error": {"message": "bad key", "type": "invalid_request_error", "code": "invalid_api_key"}}),
     openai.AuthenticationError),
    ((429, {"error": {"message": "slow down", "type": "requests", "code": "rate_limit_exceeded"}}),
     openai.RateLimitError),
    ((500, ERROR_BODY), openai.InternalServerError),
    (http.ReadTimeout("timed out"), openai.APITimeoutError),
    (http.ConnectError("connection refused"), openai.APIConnectionError),
])
@pytest.mark.parametrize("is_async", [False, True])
def test_errors_reach_the_caller_unchanged(otel: Otel, fake: FakeOpenAI, failure: object, sdk_error: type,
                                          is_async: bool) -> None:
    fake.fail = failure  # type: ignore[assignment]
    if is_async:
        async def main() -> None:
            await fake.async_client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

        with pytest.raises(sdk_error) as raised:
            asyncio.run(main())
    else:
        with pytest.raises(sdk_error) as raised:
            fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert type(raised.value) is sdk_error
    (span,) = otel.finished()
    expected_type = f"openai.{sdk_error.__qualname__}"
    assert span.attributes["error.type"] == expected_type
    assert span.status.status_code.name == "ERROR"
    assert "gen_ai.usage.cost.amount" not in span.attributes and "llm_cost.unpriced_reason" not in span.attributes
    assert otel.metric_count("gen_ai.client.operation.duration", **{"error.type": expected_type}) == 1
    assert otel.metric_sum("gen_ai.client.cost") == 0
    assert otel.metric_sum("gen_ai.client.operation.unpriced") == 0
    # the same exception type and message as without instrumentation
    bare = _uninstrumented_exception(fake) if not is_async else None
    if bare is not None:
        assert type(bare) is type(raised.value) and str(bare) == str(raised.value)


@pytest.mark.parametrize(("kwargs", "provider", "address"), [
    ({"base_url": "https://api.deepseek.com/v1"}, "deepseek", "api.deepseek.com"),
    ({"base_url": "https://api.groq.com/openai/v1"}, "groq", "api.groq.com"),
    ({"base_url": "https://api.x.ai/v1"}, "x_ai", "api.x.ai"),
    ({"base_url": "https://openrouter.ai/api/v1"}, "openrouter", "openrouter.ai"),
    ({"base_url": "https://api.together.xyz/v1"}, "together_ai", "api.together.xyz"),
    ({"base_url": "https://api.fireworks.ai/inference/v1"}, "fireworks", "api.fireworks.ai"),
    ({"base_url": "http://localhost:11434/v1"}, "ollama", "localhost"),
])
def test_openai_compatible_providers(otel: Otel, fake: FakeOpenAI, kwargs: dict[str, str], provider: str,
                                     address: str) -> None:
    fake.client(**kwargs).chat.completions.create(model="some-model", messages=MESSAGES)
    (span,) = otel.finished()
    assert span.attributes["gen_ai.provider.name"] == provider
    assert span.attributes["server.address"] == address


def test_openrouter_reported_cost_wins(otel: Otel, fake: FakeOpenAI) -> None:
    fake.extra_usage = {"cost": 0.00042, "is_byok": False}
    fake.client(base_url="https://openrouter.ai/api/v1").chat.completions.create(
        model="openai/gpt-4o-mini", messages=MESSAGES)
    (span,) = otel.finished()
    assert span.attributes["gen_ai.usage.cost.amount"] == 0.00042
    assert span.attributes["gen_ai.usage.cost.source"] == "provider"
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(0.00042, rel=1e-12)


def test_azure_prices_through_response_model(otel: Otel, fake: FakeOpenAI) -> None:
    client = fake.client(openai.AzureOpenAI, azure_endpoint="https://contoso.openai.azure.com",
                         api_version="2024-10-21", azure_deployment="prod-gpt4o-mini")
    client.chat.completions.create(model="prod-gpt4o-mini", messages=MESSAGES)
    (span,) = otel.finished()
    assert span.attributes["gen_ai.provider.name"] == "azure.ai.openai"
    assert span.attributes["server.address"] == "contoso.openai.azure.com"
    assert span.attributes["gen_ai.usage.cost.amount"] == pytest.approx(GPT_4O_MINI_COST)


def test_unknown_model_is_unpriced_and_counted(otel: Otel, fake: FakeOpenAI) -> None:
    fake.client().chat.completions.create(model="gpt-9-preview", messages=MESSAGES)
    (span,) = otel.finished()
    assert span.attributes["llm_cost.unpriced_reason"] == "unknown_model"
    assert "gen_ai.usage.cost.amount" not in span.attributes
    assert span.attributes["gen_ai.usage.input_tokens"] == 1500  # tokens are still recorded
    assert otel.metric_sum("gen_ai.client.operation.unpriced", **{"gen_ai.request.model": "gpt-9-preview"}) == 1


def test_attribution_on_spans_and_capped_on_metrics(otel: Otel, fake: FakeOpenAI) -> None:
    otel.reinstrument(max_attribute_values=2, metric_attributes="feature,team")
    client = fake.client()
    for feature in ("search", "chat", "summarise", "translate"):
        with attributes(feature=feature, team="growth", user_id="u-42"):
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    spans = otel.finished()
    assert [s.attributes["feature"] for s in spans] == ["search", "chat", "summarise", "translate"]
    assert all(s.attributes["user_id"] == "u-42" and s.attributes["team"] == "growth" for s in spans)
    features = {p.attributes.get("feature") for p in otel.metrics()["gen_ai.client.cost"]}
    assert features == {"search", "chat", "_other"}
    assert all("user_id" not in p.attributes for p in otel.metrics()["gen_ai.client.cost"])
    assert otel.metric_sum("gen_ai.client.cost", feature="_other") == pytest.approx(2 * GPT_4O_MINI_COST)


def test_attributes_decorator_and_baggage(otel: Otel, fake: FakeOpenAI) -> None:
    from opentelemetry import baggage, context

    otel.reinstrument(baggage_keys="tenant")
    client = fake.client()

    @attributes(feature="report")
    def make_report() -> None:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    @attributes(feature="async-report")
    async def make_async_report() -> None:
        await fake.async_client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    token = context.attach(baggage.set_baggage("tenant", "acme"))
    try:
        make_report()
        asyncio.run(make_async_report())
    finally:
        context.detach(token)
    spans = otel.finished()
    assert [(s.attributes["feature"], s.attributes["tenant"]) for s in spans] == [
        ("report", "acme"), ("async-report", "acme")]


def test_uninstrument_restores_and_double_instrument_is_harmless(otel: Otel, fake: FakeOpenAI) -> None:
    from openai.resources.chat.completions.completions import Completions

    original = Completions.__dict__["create"]
    assert isinstance(original, wrapt.FunctionWrapper)  # instrumented by the fixture
    otel_llm_cost.instrument()  # already instrumented: no second wrapper
    assert Completions.__dict__["create"] is original and not isinstance(original.__wrapped__, wrapt.FunctionWrapper)
    fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert len(otel.finished()) == 1
    otel_llm_cost.uninstrument()
    assert not isinstance(Completions.__dict__["create"], wrapt.FunctionWrapper)
    assert Completions.__dict__["create"] is original.__wrapped__
    fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert len(otel.finished()) == 1


def test_instrumentation_failures_never_reach_the_app(otel: Otel, fake: FakeOpenAI,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from otel_llm_cost.core.calls import RUNTIME
    from otel_llm_cost.providers import openai as adapter

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug in our code")

    assert RUNTIME.telemetry is not None
    monkeypatch.setattr(RUNTIME.telemetry.book, "_cost", explode)
    monkeypatch.setattr(adapter.ChatAdapter, "read_item", explode)
    client = fake.client()
    result = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert result.choices[0].message.content == '{"answer": "Paris"}'
    assert len(list(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))) >= 4
    spans = otel.finished()
    assert spans[0].attributes["llm_cost.unpriced_reason"] == "pricing_error"
    monkeypatch.setattr(adapter.ChatAdapter, "prepare", explode)
    assert client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES).id == "chatcmpl-abc123"


def test_counter_series_are_capped_and_totals_stay_exact(otel: Otel, fake: FakeOpenAI,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from otel_llm_cost.core.telemetry import CounterTotals

    monkeypatch.setattr(CounterTotals, "MAX_SERIES", 4)
    client = fake.client()
    for model in ("gpt-4o-mini", "gpt-4o", "o4-mini", "gpt-5"):
        client.chat.completions.create(model=model, messages=MESSAGES)
    points = otel.metrics()["gen_ai.client.cost"]
    assert len(points) == 5  # 4 series, then everything else in the overflow series
    overflow = [p for p in points if p.attributes.get("otel.metric.overflow") is True]
    assert len(overflow) == 1 and overflow[0].value > 0
    spans_total = sum(s.attributes["gen_ai.usage.cost.amount"] for s in otel.finished())
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(spans_total, rel=1e-12)
    assert otel.metric_sum("gen_ai.client.operation.cost") == pytest.approx(spans_total, rel=1e-12)


def test_entry_point_and_instruments_any_extra() -> None:
    from importlib.metadata import distribution, entry_points

    from otel_llm_cost.providers.openai import OpenAIInstrumentor

    (ep,) = [e for e in entry_points(group="opentelemetry_instrumentor") if e.name == "llm_cost_openai"]
    assert ep.load() is OpenAIInstrumentor
    assert OpenAIInstrumentor().instrumentation_dependencies() == ("openai >= 1.40.0, < 4",)
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet

    extra = [Requirement(r) for r in distribution("otel-llm-cost").requires or []
             if Requirement(r).marker is not None and Requirement(r).marker.evaluate({"extra": "instruments-any"})]
    assert any(r.name == "openai" and r.specifier == SpecifierSet(">=1.40.0,<4") for r in extra)


def test_inert_without_the_openai_sdk() -> None:
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        import sys
        sys.modules["openai"] = None  # the SDK cannot be imported
        import otel_llm_cost
        from otel_llm_cost.providers.openai import OpenAIInstrumentor
        instrumentor = OpenAIInstrumentor()
        instrumentor.instrument()
        otel_llm_cost.instrument()
        assert instrumentor._wrapped == [], instrumentor._wrapped
        otel_llm_cost.uninstrument()
        print("inert")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "inert", done.stderr


def test_short_lived_clients_keep_their_own_provider(otel: Otel, fake: FakeOpenAI) -> None:
    """Clients made and dropped per request (common in web apps) often reuse a dead client's memory address:
    each call must still be named by its own client's base_url, never by a previous client's."""
    expected = []
    for i in range(40):
        ollama = i % 2 == 0
        kw = {"base_url": "http://127.0.0.1:11434/v1"} if ollama else {}
        client = fake.client(**kw)
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        expected.append("ollama" if ollama else "openai")
        del client
        gc.collect()
    spans = sorted(otel.finished(), key=lambda s: s.start_time or 0)
    assert [s.attributes["gen_ai.provider.name"] for s in spans] == expected
