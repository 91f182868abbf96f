"""OpenAI fine-tunes (``ft:``) are never priced at their base model: fine-tuned price, else unpriced."""

from __future__ import annotations

from pathlib import Path

import pytest

from otel_llm_cost.core.usage import Usage
from otel_llm_cost.pricing import Cost, PriceBook, Unpriced, load_price_book

M = Usage(input_tokens=1_000_000, output_tokens=1_000_000)


@pytest.mark.parametrize(("model", "input_price", "output_price"), [
    ("ft:gpt-4.1-2025-04-14:acme::BKz9x2", 3.0, 12.0),
    ("ft:gpt-4.1-2025-04-14", 3.0, 12.0),
    ("ft:gpt-4.1-mini-2025-04-14:acme:support:BKz9x3", 0.8, 3.2),
    ("ft:gpt-4.1-nano-2025-04-14:acme::BKz9x4", 0.2, 0.8),
    ("ft:o4-mini-2025-04-16:acme::BKz9x5", 4.0, 16.0),
    ("ft:gpt-4o-mini-2024-07-18:acme::9abc", 0.3, 1.2),
    ("ft:gpt-4o-2024-08-06:acme::9abd", 3.75, 15.0),
    ("FT:GPT-4.1-2025-04-14:Acme::X", 3.0, 12.0),
])
def test_fine_tuned_prices(model: str, input_price: float, output_price: float) -> None:
    cost = PriceBook().cost("openai", model, M)
    assert isinstance(cost, Cost), cost
    assert (cost.input, cost.output) == pytest.approx((input_price, output_price))
    assert cost.model.startswith("ft:"), "priced by a fine-tune row, not the base model's"


@pytest.mark.parametrize("model", ["ft:gpt-5-2025-08-07:acme::x1", "ft:gpt-4.1-2026-01-01:acme::x2",
                                   "ft:gpt-9-turbo", "openai/ft:gpt-5-mini-2025-08-07:acme::x3"])
def test_a_fine_tune_without_a_fine_tuned_price_is_unpriced_not_base_priced(model: str) -> None:
    result = PriceBook().cost("openai", model, M)
    assert isinstance(result, Unpriced) and result.reason == "fine_tuned_unknown", result
    # the base model itself is priced: the unpriced answer is the fine-tune rule, not an unknown name
    assert isinstance(PriceBook().cost("openai", "gpt-5-2025-08-07", M), Cost)


def test_the_request_model_does_not_sneak_in_the_base_price() -> None:
    """The answering model is the ft: name; the request named the same fine-tune: unpriced, not gpt-5's price."""
    result = PriceBook().cost("openai", "ft:gpt-5-2025-08-07:acme::x1", M,
                              response_model="ft:gpt-5-2025-08-07:acme::x1")
    assert isinstance(result, Unpriced) and result.reason == "fine_tuned_unknown"


def test_a_price_file_prices_a_fine_tune(tmp_path: Path) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text('[[price]]\nprovider = "openai"\nmodel = "ft:gpt-5-2025-08-07*"\ninput = 1.875\n'
                      'output = 15.0\n')
    cost = load_price_book([str(prices)]).cost("openai", "ft:gpt-5-2025-08-07:acme::x1", M)
    assert isinstance(cost, Cost) and cost.total == pytest.approx(16.875) and cost.price_source == "override"
