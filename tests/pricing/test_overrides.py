"""User price files: explicit prices, discounts, aliases, self-hosted prices, and precedence."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from otel_llm_cost.core.usage import Usage
from otel_llm_cost.pricing import Cost, Unpriced, load_price_book

MILLION = Usage(input_tokens=1_000_000, output_tokens=1_000_000)


def _book(tmp_path: Path, text: str, name: str = "prices.toml"):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(text)
    return load_price_book([str(path)], strict=True)


def _total(result: object) -> float:
    assert isinstance(result, Cost), result
    return result.total


def test_explicit_glob_price_replaces_the_table(tmp_path: Path) -> None:
    book = _book(tmp_path, '[[price]]\nprovider = "openai"\nmodel = "gpt-4o*"\ninput = 2.0\noutput = 8.0\n')
    cost = book.cost("openai", "gpt-4o-2024-08-06", MILLION)
    assert _total(cost) == pytest.approx(10.0)
    assert isinstance(cost, Cost) and cost.price_table.startswith("override:prices.toml [[price]] #1")
    # other models keep the bundled price
    assert _total(book.cost("openai", "gpt-4.1", MILLION)) == pytest.approx(2 + 8)


def test_exact_beats_glob_and_regex_works(tmp_path: Path) -> None:
    book = _book(tmp_path, """
[[price]]
provider = "*"
regex = "^my-llama-\\\\d+b$"
input = 0.1
output = 0.1
[[price]]
provider = "*"
model = "my-llama-*"
input = 5
output = 5
[[price]]
provider = "vllm"
model = "my-llama-70b"
input = 1
output = 2
""")
    assert _total(book.cost("vllm", "my-llama-70b", MILLION)) == pytest.approx(3.0)
    # among patterns, the first in file order wins
    assert _total(book.cost("vllm", "my-llama-8b", MILLION)) == pytest.approx(0.2)
    assert _total(book.cost("vllm", "my-llama-large", MILLION)) == pytest.approx(10.0)


def test_effective_from_keeps_history(tmp_path: Path) -> None:
    book = _book(tmp_path, '[[price]]\nprovider = "openai"\nmodel = "gpt-4o"\neffective_from = 2026-12-01\n'
                           'input = 1.0\noutput = 1.0\n')
    before = book.cost("openai", "gpt-4o", MILLION, at=datetime(2026, 11, 30, tzinfo=timezone.utc))
    after = book.cost("openai", "gpt-4o", MILLION, at=datetime(2026, 12, 1, tzinfo=timezone.utc))
    assert _total(before) == pytest.approx(12.5)  # bundled 2.50 + 10
    assert _total(after) == pytest.approx(2.0)


def test_discount_multiplies_bundled_prices(tmp_path: Path) -> None:
    book = _book(tmp_path, '[[discount]]\nprovider = "anthropic"\nmodel = "*"\nmultiplier = 0.85\n')
    usage = Usage(input_tokens=100_000, output_tokens=100_000)  # below the 200k long-context tier
    cost = book.cost("anthropic", "claude-sonnet-4-5", usage, at=datetime(2026, 11, 1, tzinfo=timezone.utc))
    assert isinstance(cost, Cost)
    assert cost.total == pytest.approx(1.8 * 0.85)
    assert cost.discount_savings == pytest.approx(1.8 * 0.15)
    assert cost.input + cost.output == pytest.approx(cost.total)


def test_self_hosted_per_request_and_per_second(tmp_path: Path) -> None:
    book = _book(tmp_path, '[[price]]\nprovider = "ollama"\nmodel = "*"\ninput = 0\noutput = 0\n'
                           'per_second = 0.0011\nper_request = 0.0001\n')
    cost = book.cost("ollama", "llama3.1:8b", Usage(input_tokens=500, output_tokens=200), duration_s=2.0)
    assert isinstance(cost, Cost)
    assert cost.total == pytest.approx(0.0022 + 0.0001)
    assert cost.other == pytest.approx(cost.total)


def test_explicit_zero_price_is_a_real_price(tmp_path: Path) -> None:
    book = _book(tmp_path, '[[price]]\nprovider = "ollama"\nmodel = "*"\ninput = 0\noutput = 0\n')
    cost = book.cost("ollama", "qwen3:4b", MILLION)
    assert isinstance(cost, Cost) and cost.total == 0.0 and cost.source == "local"


def test_alias_with_target_provider(tmp_path: Path) -> None:
    book = _book(tmp_path, '[[alias]]\nprovider = "litellm"\nmodel = "team-default"\n'
                           'maps_to = "claude-haiku-4-5"\nmaps_to_provider = "anthropic"\n')
    assert _total(book.cost("litellm", "team-default", MILLION)) == pytest.approx(1 + 5)


def test_provider_reported_cost_wins() -> None:
    book = load_price_book([])
    cost = book.cost("openrouter", "openai/gpt-4o", Usage(input_tokens=1000, output_tokens=500),
                     provider_cost=0.0123)
    assert isinstance(cost, Cost)
    assert cost.source == "provider" and cost.total == 0.0123
    assert sum(cost.parts().values()) == pytest.approx(0.0123, rel=1e-12)
    unknown = book.cost("openrouter", "some/new-model", Usage(input_tokens=1), provider_cost=0.5)
    assert isinstance(unknown, Cost) and unknown.total == 0.5 and unknown.other == 0.5


def test_json_files_and_lists_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = tmp_path / "a.json"
    a.write_text('{"price": [{"provider": "openai", "model": "gpt-4o", "input": 1, "output": 1}]}')
    b = tmp_path / "b.toml"
    b.write_text('[[price]]\nprovider = "anthropic"\nmodel = "claude-haiku-4-5"\ninput = 2\noutput = 2\n')
    monkeypatch.setenv("OTEL_LLM_COST_PRICES_FILE", f"{a},{b}")
    book = load_price_book()
    assert _total(book.cost("openai", "gpt-4o", MILLION)) == pytest.approx(2)
    assert _total(book.cost("anthropic", "claude-haiku-4-5", MILLION)) == pytest.approx(4)
    assert book.overrides.files == (str(a), str(b))


def test_user_price_not_yet_in_force_for_unknown_model(tmp_path: Path) -> None:
    book = _book(tmp_path, '[[price]]\nprovider = "vllm"\nmodel = "x"\neffective_from = 2030-01-01\n'
                           'input = 1\noutput = 1\n')
    result = book.cost("vllm", "x", MILLION, at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert isinstance(result, Unpriced) and result.reason == "no_price_at_date"
