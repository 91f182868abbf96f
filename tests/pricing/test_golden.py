"""Golden costs computed by hand from public list prices (USD per 1M tokens), not from the table.

gpt-4o 2.50 in / 1.25 cached / 10 out; Claude Sonnet 4.5: 3 in, 3.75 5-min write, 6 1-h write, 0.30 read,
15 out, and 6 / 22.50 above 200k input while the long-context tier existed; Gemini 2.5 Pro 1.25 / 10 up
to 200k, 2.50 / 15 above (thinking billed as output); o4-mini 1.10 / 4.40; text-embedding-3-small 0.02;
Batch -50 %; o3 was 10 / 40 until its June 2025 cut to 2 / 8; Bedrock in-region Claude 4.5+ +10 %.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from otel_llm_cost.core.usage import Usage
from otel_llm_cost.pricing import Cost, PriceBook

AT = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def book() -> PriceBook:
    return PriceBook()


def _cost(book: PriceBook, provider: str, model: str, usage: Usage, **kw: object) -> Cost:
    result = book.cost(provider, model, usage, **{"at": AT, **kw})  # type: ignore[arg-type]
    assert isinstance(result, Cost), result
    return result


def test_openai_cached_input(book: PriceBook) -> None:
    # 600 uncached x 2.50 + 400 cached x 1.25 + 500 out x 10
    cost = _cost(book, "openai", "gpt-4o", Usage(input_tokens=1000, cache_read_tokens=400, output_tokens=500))
    assert cost.total == pytest.approx(0.0015 + 0.0005 + 0.005, rel=1e-12)
    assert cost.input == pytest.approx(0.0015) and cost.cache_read == pytest.approx(0.0005)
    assert cost.output == pytest.approx(0.005)
    assert cost.cache_savings == pytest.approx(400 * (2.50 - 1.25) / 1e6)
    assert cost.source == "local" and cost.currency == "USD"


@pytest.mark.parametrize(("one_hour", "expected"), [(False, 0.0189), (True, 0.0234)])
def test_anthropic_cache_write_and_read(book: PriceBook, one_hour: bool, expected: float) -> None:
    # 1,000 uncached + 2,000 cache write + 3,000 cache read (all inside input) / 500 out
    usage = Usage(input_tokens=6000, cache_write_tokens=2000, cache_write_1h_tokens=2000 if one_hour else 0,
                  cache_read_tokens=3000, output_tokens=500)
    cost = _cost(book, "anthropic", "claude-sonnet-4-5-20250929", usage)
    assert cost.total == pytest.approx(expected, rel=1e-12)
    assert cost.cache_write == pytest.approx(2000 * (6.0 if one_hour else 3.75) / 1e6)
    assert cost.cache_read == pytest.approx(3000 * 0.30 / 1e6)
    assert cost.input == pytest.approx(1000 * 3 / 1e6)


def test_anthropic_mixed_5m_and_1h_writes(book: PriceBook) -> None:
    usage = Usage(input_tokens=4000, cache_write_tokens=3000, cache_write_1h_tokens=1000, output_tokens=0)
    cost = _cost(book, "anthropic", "claude-sonnet-4-5", usage)
    assert cost.total == pytest.approx((1000 * 3 + 2000 * 3.75 + 1000 * 6) / 1e6, rel=1e-12)


def test_gemini_long_context_tier_reprices_all_tokens(book: PriceBook) -> None:
    above = _cost(book, "gcp.gemini", "gemini-2.5-pro", Usage(input_tokens=250_000, output_tokens=1000))
    assert above.total == pytest.approx(250_000 * 2.5 / 1e6 + 1000 * 15 / 1e6, rel=1e-12)  # 0.64
    below = _cost(book, "gcp.gemini", "gemini-2.5-pro", Usage(input_tokens=100_000, output_tokens=1000))
    assert below.total == pytest.approx(0.135, rel=1e-12)
    thinking = _cost(book, "gcp.gemini", "models/gemini-2.5-pro",
                     Usage(input_tokens=250_000, output_tokens=3000, reasoning_tokens=2000))
    assert thinking.total == pytest.approx(0.67, rel=1e-12)


def test_claude_above_200k_when_the_tier_existed(book: PriceBook) -> None:
    usage = Usage(input_tokens=300_000, output_tokens=1000)
    cost = _cost(book, "anthropic", "claude-sonnet-4-5", usage, at=datetime(2025, 10, 1, tzinfo=timezone.utc))
    assert cost.total == pytest.approx(300_000 * 6 / 1e6 + 1000 * 22.5 / 1e6, rel=1e-12)  # 1.8225


def test_reasoning_model_bills_reasoning_as_output(book: PriceBook) -> None:
    cost = _cost(book, "openai", "o4-mini", Usage(input_tokens=1000, output_tokens=5000, reasoning_tokens=4000))
    assert cost.total == pytest.approx(1000 * 1.1 / 1e6 + 5000 * 4.4 / 1e6, rel=1e-12)  # 0.0231


def test_dated_price_change(book: PriceBook) -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    before = _cost(book, "openai", "o3", usage, at=datetime(2025, 5, 1, tzinfo=timezone.utc))
    after = _cost(book, "openai", "o3-2025-04-16", usage, at=datetime(2025, 7, 1, tzinfo=timezone.utc))
    assert before.total == pytest.approx(50.0) and after.total == pytest.approx(10.0)


@pytest.mark.parametrize(("model", "expected"), [
    ("us.anthropic.claude-sonnet-4-20250514-v1:0", 0.0105),
    ("arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0",
     0.0105),
    ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 0.01155),  # regional +10 % for Claude 4.5+
    ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", 0.0105),
])
def test_bedrock_regional_ids(book: PriceBook, model: str, expected: float) -> None:
    cost = _cost(book, "aws.bedrock", model, Usage(input_tokens=1000, output_tokens=500))
    assert cost.total == pytest.approx(expected, rel=1e-12)


def test_vertex_at_date_model(book: PriceBook) -> None:
    cost = _cost(book, "gcp.vertex_ai", "claude-sonnet-4-5@20250929", Usage(input_tokens=1000, output_tokens=500))
    assert cost.total == pytest.approx(0.0105, rel=1e-12)


def test_embeddings_and_batch(book: PriceBook) -> None:
    embed = _cost(book, "openai", "text-embedding-3-small", Usage(input_tokens=10_000))
    assert embed.total == pytest.approx(0.0002, rel=1e-12)
    batch = _cost(book, "openai", "gpt-4o", Usage(input_tokens=1_000_000, output_tokens=1_000_000),
                  service_tier="batch")
    assert batch.total == pytest.approx(6.25, rel=1e-12)


def test_azure_deployment_name_through_alias(tmp_path: object) -> None:
    from pathlib import Path

    from otel_llm_cost.pricing import load_price_book

    path = Path(str(tmp_path)) / "prices.toml"
    path.write_text('[[alias]]\nprovider = "azure.ai.openai"\nmodel = "prod-gpt4o-eastus"\n'
                    'maps_to = "gpt-4o-2024-08-06"\n')
    book = load_price_book([str(path)], strict=True)
    cost = book.cost("azure.ai.openai", "prod-gpt4o-eastus", Usage(input_tokens=1000, output_tokens=1000), at=AT)
    assert isinstance(cost, Cost) and cost.total == pytest.approx(0.0125, rel=1e-12)
    assert PriceBook().cost("azure.ai.openai", "prod-gpt4o-eastus", Usage(input_tokens=1)).reason == "unknown_model"  # type: ignore[union-attr]
