"""Self-hosted providers (Ollama): an explicit $0 marked as the self-hosted default when nobody priced the model,
the user's per-second / per-hour / per-request / per-token prices when they did, and clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from otel_llm_cost.core.usage import Usage
from otel_llm_cost.pricing import Cost, Unpriced, load_price_book
from otel_llm_cost.pricing.overrides import PriceFileError, parse_overrides

USAGE = Usage(input_tokens=500, output_tokens=200)


def _book(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "prices.toml"
    path.write_text(text)
    return load_price_book([str(path)], strict=True)


def test_the_default_is_an_explicit_zero_that_says_so() -> None:
    cost = load_price_book([]).cost("ollama", "qwen3:8b", USAGE, duration_s=3.0)
    assert isinstance(cost, Cost)
    assert (cost.total, cost.source, cost.price_table, cost.price_source) == (0.0, "local", "self-hosted:default",
                                                                              "self-hosted")
    assert (cost.provider, cost.model) == ("ollama", "qwen3:8b")


def test_the_default_needs_counts_and_stays_for_self_hosted_providers_only() -> None:
    book = load_price_book([])
    assert book.cost("ollama", "qwen3:8b", Usage()) == Unpriced("no_usage", "the response carried no token usage")
    other = book.cost("vllm", "my-model", USAGE)  # not known as self-hosted: unpriced, as any unknown provider
    assert isinstance(other, Unpriced) and other.reason == "unknown_provider"


def test_a_user_price_not_in_force_yet_stays_unpriced(tmp_path: Path) -> None:
    """The user said something about this model: the default does not paper over it."""
    from datetime import datetime, timezone

    book = _book(tmp_path, '[[price]]\nprovider = "ollama"\nmodel = "qwen3:8b"\neffective_from = 2030-01-01\n'
                           'per_second = 0.001\n')
    result = book.cost("ollama", "qwen3:8b", USAGE, at=datetime(2026, 12, 1, tzinfo=timezone.utc))
    assert isinstance(result, Unpriced) and result.reason == "no_price_at_date"
    assert isinstance(book.cost("ollama", "llama3.2", USAGE), Cost)  # another model: the default


def test_per_hour_is_per_second_times_3600(tmp_path: Path) -> None:
    """A GPU at 3.96 USD/hour for a call of 2.5 s: 2.5 * 3.96 / 3600 = 0.00275 USD, plus 0.0002 per request."""
    book = _book(tmp_path, '[[price]]\nprovider = "ollama"\nmodel = "*"\nper_hour = 3.96\nper_request = 0.0002\n')
    cost = book.cost("ollama", "llama3.2", USAGE, duration_s=2.5)
    assert isinstance(cost, Cost)
    assert cost.total == pytest.approx(2.5 * 3.96 / 3600 + 0.0002)
    assert cost.other == pytest.approx(cost.total)
    assert cost.source == "local" and cost.price_table.startswith("override:prices.toml")


@pytest.mark.parametrize(("entry", "message"), [
    ("per_second = -0.001", "field 'per_second': must not be negative, got -0.001"),
    ('per_second = "0.001"', "field 'per_second': must be a number, got '0.001'"),
    ("per_request = nan", "field 'per_request': must be a number, got nan"),
    ("per_hour = -4", "field 'per_hour': must not be negative, got -4"),
    ("per_hour = true", "field 'per_hour': must be a number, got True"),
    ("per_hour = 4\nper_second = 0.001", "field 'per_hour': give one of 'per_hour' and 'per_second', not both"),
    ("per_minute = 0.06", "field 'per_minute': unknown field; allowed: "),
])
def test_bad_self_hosted_prices_are_clear_errors(entry: str, message: str) -> None:
    with pytest.raises(PriceFileError) as raised:
        parse_overrides("gpu.toml", f'[[price]]\nprovider = "ollama"\nmodel = "llama3.2"\n{entry}\n')
    text = str(raised.value)
    assert text.startswith("price file gpu.toml: [[price]] #1 (model 'llama3.2')")
    assert message in text
