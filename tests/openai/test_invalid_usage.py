"""Regressions from fuzzing (issue 11 #4, #5): a broken usage report never breaks the metrics or the books.

One absurd count used to make the token histogram raise after the span was written, fail a counter's callback at
every later collection, or (2**63 and up) make the OTLP encoder refuse every metrics export for the life of the
process. Such a report is now unpriced (``invalid_usage``), none of its counts recorded, and what follows is fine.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fake_openai import PROMPT, FakeOpenAI
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics

from conversation import MESSAGES
from telemetry_fixtures import Otel


def _exportable(otel: Otel) -> Any:
    """Collect the metrics and encode them as the OTLP exporter does: raises if any value cannot be carried."""
    data = otel.reader.get_metrics_data()
    encode_metrics(data)
    return data


@pytest.mark.parametrize(("field", "value"), [
    pytest.param("prompt_tokens", 10**400, id="10**400"), pytest.param("completion_tokens", 2**63, id="2**63"),
    pytest.param("prompt_tokens", 10**12 + 1, id="past-max"), pytest.param("completion_tokens", -5, id="negative"),
])
@pytest.mark.parametrize("stream", [False, True])
def test_an_absurd_count_is_invalid_usage_and_never_recorded(otel: Otel, fake: FakeOpenAI, field: str,
                                                             value: int, stream: bool,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    fake.extra_usage = {field: value}
    client = fake.client()
    with caplog.at_level(logging.DEBUG, logger="opentelemetry"):
        result = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=stream)
        if stream:
            list(result)  # type: ignore[call-overload]
        _exportable(otel)
        fake.extra_usage = {}
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)  # a valid call afterwards
        _exportable(otel)
        _exportable(otel)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("opentelemetry")]
    bad, good = otel.finished()
    assert bad.attributes["llm_cost.unpriced_reason"] == "invalid_usage"
    assert not [k for k in bad.attributes if k.startswith("gen_ai.usage.")]
    assert good.attributes["gen_ai.usage.input_tokens"] == PROMPT
    # only the valid call reached the token metrics; the books agree
    assert otel.metric_count("gen_ai.client.token.usage", **{"gen_ai.token.type": "input"}) == 1
    assert otel.metric_sum("gen_ai.client.inference.usage.input_tokens") == PROMPT
    assert otel.metric_sum("gen_ai.client.operation.unpriced", **{"llm_cost.unpriced_reason": "invalid_usage"}) == 1
    assert otel.metric_sum("gen_ai.client.cost") == otel.metric_sum("gen_ai.client.operation.cost") \
        == good.attributes["gen_ai.usage.cost.amount"]


def test_invalid_usage_is_said_once_naming_the_field(otel: Otel, fake: FakeOpenAI,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    fake.extra_usage = {"completion_tokens": 2**70}
    client = fake.client()
    with caplog.at_level(logging.WARNING, logger="otel_llm_cost"):
        for _ in range(3):
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    (warning,) = [r.getMessage() for r in caplog.records if "invalid usage" in r.getMessage()]
    assert "output_tokens is larger than" in warning and "gpt-4o-mini" in warning


@pytest.mark.parametrize("cost", [1e308, pytest.param(10**400, id="10**400"), -0.5, 2e6])
def test_an_absurd_provider_reported_cost_is_invalid_usage(otel: Otel, fake: FakeOpenAI, cost: float) -> None:
    fake.extra_usage = {"cost": cost}  # OpenRouter reports its own cost in usage.cost
    fake.client(base_url="https://openrouter.ai/api/v1").chat.completions.create(model="gpt-4o-mini",
                                                                                 messages=MESSAGES)
    _exportable(otel)
    (span,) = otel.finished()
    assert span.attributes["llm_cost.unpriced_reason"] == "invalid_usage"
    assert "gen_ai.usage.cost.amount" not in span.attributes
    assert otel.metric_sum("gen_ai.client.cost") == 0 and otel.metric_count("gen_ai.client.operation.cost") == 0


def test_a_reasonable_provider_reported_cost_is_taken(otel: Otel, fake: FakeOpenAI) -> None:
    fake.extra_usage = {"cost": 0.0123}
    fake.client(base_url="https://openrouter.ai/api/v1").chat.completions.create(model="gpt-4o-mini",
                                                                                 messages=MESSAGES)
    (span,) = otel.finished()
    assert span.attributes["gen_ai.usage.cost.amount"] == 0.0123
    assert span.attributes["gen_ai.usage.cost.source"] == "provider"


@pytest.mark.parametrize("choices", [7, "stop", {"0": {}}, None, [3, None]])
def test_choices_of_a_wrong_type_keep_the_usage_of_the_answer(otel: Otel, fake: FakeOpenAI, choices: Any) -> None:
    fake.override_chat = {"choices": choices}
    fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    (span,) = otel.finished()
    assert span.attributes["gen_ai.usage.input_tokens"] == PROMPT
    assert span.attributes["gen_ai.usage.cost.amount"] > 0
