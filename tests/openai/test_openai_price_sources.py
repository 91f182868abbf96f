"""Where a call's price comes from, through the real openai SDK: fine-tunes (fine-tuned price, or unpriced) and
DeepSeek (the reviewed correction), with ``llm_cost.price_source`` on the span."""

from __future__ import annotations

import pytest
from fake_openai import CACHED, COMPLETION, PROMPT, FakeOpenAI

from conversation import MESSAGES
from telemetry_fixtures import Otel


def test_fine_tuned_gpt_4_1_is_priced_at_fine_tuned_rates(otel: Otel) -> None:
    model = "ft:gpt-4.1-2025-04-14:acme:tickets:BKz9x2"
    FakeOpenAI().client().chat.completions.create(model=model, messages=MESSAGES)
    (span,) = otel.finished()
    attrs = dict(span.attributes or {})
    # fine-tuned gpt-4.1: $3 input, $0.75 cached input, $12 output per 1M (base gpt-4.1 would be 2 / 0.5 / 8)
    expected = ((PROMPT - CACHED) * 3.0 + CACHED * 0.75 + COMPLETION * 12.0) / 1e6
    assert attrs["gen_ai.usage.cost.amount"] == pytest.approx(expected, rel=1e-12)
    assert attrs["llm_cost.price_source"] == "litellm"
    assert otel.metric_sum("gen_ai.client.cost") == pytest.approx(expected, rel=1e-12)


def test_unknown_fine_tune_is_unpriced_and_counted(otel: Otel) -> None:
    FakeOpenAI().client().chat.completions.create(model="ft:gpt-5-2025-08-07:acme::x1", messages=MESSAGES)
    (span,) = otel.finished()
    attrs = dict(span.attributes or {})
    assert "gen_ai.usage.cost.amount" not in attrs
    assert attrs["llm_cost.unpriced_reason"] == "fine_tuned_unknown"
    assert otel.metric_sum("gen_ai.client.operation.unpriced") == 1


def test_deepseek_today_is_priced_at_the_corrected_v3_2_prices(otel: Otel) -> None:
    FakeOpenAI().client(base_url="https://api.deepseek.com/v1").chat.completions.create(
        model="deepseek-chat", messages=MESSAGES)
    (span,) = otel.finished()
    attrs = dict(span.attributes or {})
    assert attrs["gen_ai.provider.name"] == "deepseek"
    # V3.2 since 2025-09-29: $0.28 input, $0.028 cache hit, $0.42 output (genai-prices still had 0.27 / 1.10)
    expected = ((PROMPT - CACHED) * 0.28 + CACHED * 0.028 + COMPLETION * 0.42) / 1e6
    assert attrs["gen_ai.usage.cost.amount"] == pytest.approx(expected, rel=1e-12)
    assert attrs["llm_cost.price_source"] == "correction"
    assert attrs["llm_cost.price_table"].startswith("genai-prices-")
