"""The budget settings: parsed like every OTEL_LLM_COST_* variable, a bad value named in one log line."""

from __future__ import annotations

import logging

import pytest

from otel_llm_cost.core.settings import Settings


def test_defaults() -> None:
    settings = Settings(environ={})
    assert (settings.budgets_file, settings.budgets_strict, settings.budget_store, settings.budget_fail,
            settings.budget_reservation_ttl) == ((), False, "memory", "open", 900)


def test_values_from_the_environment() -> None:
    settings = Settings(environ={"OTEL_LLM_COST_BUDGETS_FILE": "a.toml,b.toml", "OTEL_LLM_COST_BUDGETS_STRICT": "1",
                                 "OTEL_LLM_COST_BUDGET_STORE": "rediss://user:pw@redis.internal:6380/2",
                                 "OTEL_LLM_COST_BUDGET_FAIL": "CLOSED",
                                 "OTEL_LLM_COST_BUDGET_RESERVATION_TTL": "120"})
    assert settings.budgets_file == ("a.toml", "b.toml") and settings.budgets_strict is True
    assert settings.budget_store == "rediss://user:pw@redis.internal:6380/2"
    assert (settings.budget_fail, settings.budget_reservation_ttl) == ("closed", 120)


@pytest.mark.parametrize(("var", "value", "accepted"), [
    ("OTEL_LLM_COST_BUDGET_STORE", "postgres://db/1", "memory, or a Redis URL"),
    ("OTEL_LLM_COST_BUDGET_FAIL", "maybe", "open or closed"),
    ("OTEL_LLM_COST_BUDGET_RESERVATION_TTL", "0", "a whole number >= 1"),
])
def test_a_bad_value_is_named_and_the_default_used(var: str, value: str, accepted: str,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="otel_llm_cost"):
        settings = Settings(environ={var: value})
    assert var in caplog.text and repr(value) in caplog.text and accepted in caplog.text
    assert getattr(settings, var.removeprefix("OTEL_LLM_COST_").lower()) == Settings(environ={}).as_dict()[var]
