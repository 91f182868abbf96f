"""The compiled per-row pricer (the hot path after a key's first call) gives exactly what the general path gives.

Every model of the bundled table, under each service tier, with random usages: the second call of a key is
priced by the function compiled for its row and must equal, field for field and to the last bit, the general
path's answer for the same call. Then the cases the compiled function must decline, and the keys that must
never be compiled because their price depends on the call's time.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, time, timedelta, timezone

import pytest

from otel_llm_cost.core.usage import Usage
from otel_llm_cost.pricing import Cost, PriceBook, Resolution, Unpriced
from otel_llm_cost.pricing.book import service_tier_context
from otel_llm_cost.pricing.compiled import decline

TIERS = (None, "default", "batch", "flex", "priority")
AT = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)


def _usage(rng: random.Random) -> Usage:
    input_tokens = rng.choice([0, 7, 1_000, 128_000, 150_000, 200_000, 200_001, 250_000, 272_000, 1_200_000])
    cache_read = rng.randint(0, input_tokens // 2) if rng.random() < 0.5 else None
    cache_write = rng.randint(0, (input_tokens - (cache_read or 0)) // 2) if rng.random() < 0.4 else None
    output = rng.randint(0, 20_000) if rng.random() < 0.95 else None
    return Usage(input_tokens=input_tokens, output_tokens=output, cache_read_tokens=cache_read,
                 cache_write_tokens=cache_write,
                 cache_write_1h_tokens=rng.randint(0, cache_write) if cache_write and rng.random() < 0.5 else None,
                 reasoning_tokens=rng.randint(0, output) if output and rng.random() < 0.3 else None,
                 input_audio_tokens=rng.randint(0, 50) if input_tokens > 1000 and rng.random() < 0.1 else None,
                 web_searches=rng.randint(0, 3) if rng.random() < 0.1 else None)


def _general(book: PriceBook, provider: str, model: str, usage: Usage, tier: str | None) -> Cost | Unpriced:
    """The general path's answer (what every call got before the compiled pricer existed)."""
    return book._cost(provider, model, usage, AT, None, tier, None, None, None)


def _is_compiled(book: PriceBook, key: tuple[str, str | None, str | None, str | None]) -> bool:
    """Whether calls of ``key`` now take a compiled pricer (not the general path)."""
    return book._compiled.get(key, decline) is not decline


def _depends_on_time(book: PriceBook, provider: str, model: str, tier: str | None) -> bool:
    """Whether the row pricing this call can change with the call's time: a dated change, or a variant of
    this service tier with a start date or a time window."""
    resolution = book.resolve(provider, model)
    assert isinstance(resolution, Resolution) and resolution.entry is not None
    context = {} if resolution.via_fallback else service_tier_context(tier) or {}
    return len(resolution.entry.history) > 1 or any(
        constraint is not None and all(context.get(k) == v for k, v in when.items())
        for when, constraint, _, _ in resolution.entry.variants)


def test_every_model_and_tier_prices_the_same_through_the_compiled_path() -> None:
    book = PriceBook()
    rng = random.Random(7)
    compiled_keys = compared = 0
    for table_provider in book.table.providers.values():
        for entry in table_provider.models:
            for tier in TIERS:
                first = book.cost(table_provider.id, entry.id, Usage(input_tokens=10, output_tokens=5), at=AT,
                                  service_tier=tier)
                key = (table_provider.id, entry.id, None, tier)
                if not isinstance(first, Cost):
                    continue
                # compiled exactly when the price cannot change with the call's time
                assert _is_compiled(book, key) != _depends_on_time(book, table_provider.id, entry.id, tier), key
                if not _is_compiled(book, key):
                    continue
                compiled_keys += 1
                for _ in range(3):
                    usage = _usage(rng)
                    assert book.cost(table_provider.id, entry.id, usage, at=AT, service_tier=tier) == \
                        _general(book, table_provider.id, entry.id, usage, tier), (table_provider.id, entry.id, tier,
                                                                                   usage)
                    compared += 1
    assert compiled_keys > 1500 and compared > 4500, (compiled_keys, compared)


def test_long_context_tier_cache_savings_and_subsets_match() -> None:
    book = PriceBook()
    cases = [
        ("gcp.gemini", "gemini-2.5-pro", Usage(input_tokens=250_000, cache_read_tokens=100_000, output_tokens=1000)),
        ("gcp.gemini", "gemini-2.5-pro", Usage(input_tokens=200_000, cache_read_tokens=100_000, output_tokens=1000)),
        ("gcp.gemini", "gemini-2.5-pro", Usage(input_tokens=200_001, output_tokens=1000)),
        ("anthropic", "claude-sonnet-4-5", Usage(input_tokens=6000, cache_write_tokens=2000,
                                                  cache_write_1h_tokens=1000, cache_read_tokens=3000,
                                                  output_tokens=500, reasoning_tokens=200)),
        ("openai", "gpt-4o-2024-08-06", Usage(input_tokens=1000, cache_read_tokens=400, output_tokens=500)),
        ("openai", "gpt-4o-audio-preview", Usage(input_tokens=1000, input_audio_tokens=300, output_tokens=50)),
    ]
    for provider, model, usage in cases:
        book.cost(provider, model, Usage(input_tokens=1, output_tokens=1))
        assert _is_compiled(book, (provider, model, None, None)), model
        got = book.cost(provider, model, usage)
        assert isinstance(got, Cost) and got.total > 0
        assert got == _general(book, provider, model, usage, None)
        if usage.cache_read_tokens:
            assert got.cache_savings > 0


@pytest.mark.parametrize(("usage", "reason", "detail"), [
    (Usage(input_tokens=-5, output_tokens=1), "invalid_usage", "input_tokens is negative: -5"),
    (Usage(input_tokens=10, output_tokens=2.5), "invalid_usage", "output_tokens is not a whole number: 2.5"),  # type: ignore[arg-type]
    (Usage(input_tokens=10, reasoning_tokens=-1), "invalid_usage", "reasoning_tokens is negative: -1"),
    (Usage(input_tokens=10, cache_read_tokens=50), "invalid_usage", "smaller than the cache/modality counts"),
    (Usage(input_tokens=10, cache_read_tokens=11), "invalid_usage", "smaller than the cache/modality counts"),
    (Usage(output_tokens=10), "no_usage", "no token usage"),
])
def test_the_compiled_path_declines_what_the_general_path_explains(usage: Usage, reason: str, detail: str) -> None:
    book = PriceBook()
    book.cost("openai", "gpt-4o", Usage(input_tokens=1, output_tokens=1))
    assert _is_compiled(book, ("openai", "gpt-4o", None, None))
    got = book.cost("openai", "gpt-4o", usage)
    assert isinstance(got, Unpriced) and got.reason == reason and detail in got.detail, got


def test_unpriced_web_searches_still_warned_after_compiling(caplog: pytest.LogCaptureFixture) -> None:
    book = PriceBook()
    provider, model = "aws.bedrock", "anthropic.claude-sonnet-4-20250514-v1:0"
    book.cost(provider, model, Usage(input_tokens=1, output_tokens=1))
    assert _is_compiled(book, (provider, model, None, None))
    with caplog.at_level(logging.WARNING, logger="otel_llm_cost.pricing"):
        got = book.cost(provider, model, Usage(input_tokens=100, output_tokens=10, web_searches=2))
    assert isinstance(got, Cost)
    assert "no price for web searches" in caplog.text


@pytest.mark.parametrize("tier", [None, "batch"])
def test_prices_that_change_with_time_follow_the_call_date_on_every_call(tier: str | None) -> None:
    """A dated price change (tier None) or a variant that starts on a date (Claude batch prices): calls
    alternating between dates either side of the change each get their own date's price, call after call."""
    book = PriceBook()
    usage = Usage(input_tokens=10_000, output_tokens=2_000)
    found = 0
    for table_provider in book.table.providers.values():
        for entry in table_provider.models:
            if tier is None:
                starts = [c.start_date for c, _ in entry.history if c is not None and c.start_date]
            else:
                starts = [c.start_date for when, c, _, _ in entry.variants
                          if c is not None and c.start_date and when == {"processing": tier}]
            if not starts:
                continue
            before = datetime.combine(starts[0] - timedelta(days=1), time(12), timezone.utc)
            after = datetime.combine(starts[0] + timedelta(days=1), time(12), timezone.utc)
            answers = [book.cost(table_provider.id, entry.id, usage, at=when, service_tier=tier)
                       for when in (before, after, before, after, before)]
            if not all(isinstance(a, Cost) for a in answers) or answers[0].total == answers[1].total:  # type: ignore[union-attr]
                continue  # not priced by this name, or the change does not touch these counts
            found += 1
            assert not _is_compiled(book, (table_provider.id, entry.id, None, tier))
            assert answers[0] == answers[2] == answers[4] and answers[1] == answers[3], (entry.id, answers)
    assert found >= 5, found
    # an explicit context (the caller's own variant keys) always takes the general path
    book.cost("openai", "gpt-4o", Usage(input_tokens=10, output_tokens=1), context={"processing": "batch"})
    assert ("openai", "gpt-4o", None, None) not in book._compiled


def test_unknown_models_take_a_compiled_path_too_and_keep_their_answer(caplog: pytest.LogCaptureFixture) -> None:
    book = PriceBook(memo_size=8)
    with caplog.at_level(logging.WARNING, logger="otel_llm_cost.pricing"):
        for _round in range(2):
            for i in range(20):
                got = book.cost("openai", f"no-such-model-{i}", Usage(input_tokens=10, output_tokens=1))
                assert isinstance(got, Unpriced) and got.reason == "unknown_model", got
                assert f"'no-such-model-{i}'" in got.detail
            got = book.cost("nowhere-ai", "m", Usage(input_tokens=10, output_tokens=1))
            assert isinstance(got, Unpriced) and got.reason == "unknown_provider"
    assert caplog.text.count("no price for model 'no-such-model-3'") == 1
    assert len(book._compiled) <= 8
    assert ("openai", "no-such-model-0", None, None) in book._compiled
    # the compiled miss still declines bad counts, which the general path names
    got = book.cost("openai", "no-such-model-0", Usage(input_tokens=10, output_tokens=-1))
    assert isinstance(got, Unpriced) and got.reason == "invalid_usage" and "output_tokens is negative" in got.detail


def test_names_that_share_a_price_row_share_one_compiled_function() -> None:
    """Compiling costs about half a millisecond: a gateway answering with a new model name per call (all
    priced by the request model's row) must not compile per name."""
    book = PriceBook()
    for i in range(50):
        got = book.cost("openai", "gpt-4o", Usage(input_tokens=1000, output_tokens=10),
                        response_model=f"gpt-4o-route-{i}")
        assert isinstance(got, Cost) and got.model == "gpt-4o"
    assert len(book._row_pricers) == 1
    assert len({id(f) for f in book._compiled.values()}) == 1
