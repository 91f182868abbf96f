"""Parity with the source data's own evaluator: our PriceBook must agree with ``genai_prices.calc_price``.

Thousands of generated (provider, model, usage, date, service tier) cases over every provider and model of
the table; genai-prices is a dev dependency only, used here as the oracle. On the rows genai-prices owns:
a call priced by a reviewed correction (``price_source`` "correction", e.g. DeepSeek after 2025-09-05) is
left to tests/pricing/test_corrections.py.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from otel_llm_cost.core.usage import Usage
from otel_llm_cost.pricing import Cost, PriceBook

genai_prices = pytest.importorskip("genai_prices")
from genai_prices.data_snapshot import get_snapshot  # noqa: E402

CONTEXTS: list[dict[str, str] | None] = [None, None, {"processing": "batch"}, {"service_tier": "flex"},
                                         {"service_tier": "priority"}, {"speed": "fast"}]
START = datetime(2024, 1, 1, tzinfo=timezone.utc)
SPAN_SECONDS = int((datetime(2027, 3, 1, tzinfo=timezone.utc) - START).total_seconds())


def _usage(rng: random.Random) -> tuple[Usage, dict[str, int]]:
    scale = rng.choice([100, 5_000, 150_000, 400_000, 1_500_000])
    input_tokens = rng.randint(0, scale)
    cache_read = rng.randint(0, input_tokens // 2) if rng.random() < 0.5 else 0
    cache_write = rng.randint(0, (input_tokens - cache_read) // 2) if rng.random() < 0.4 else 0
    cache_1h = rng.randint(0, cache_write) if cache_write and rng.random() < 0.5 else 0
    output = rng.randint(0, 20_000)
    reasoning = rng.randint(0, output) if rng.random() < 0.3 else 0
    audio_in = rng.randint(0, input_tokens - cache_read - cache_write) if rng.random() < 0.1 else 0
    image_in = rng.randint(0, input_tokens - cache_read - cache_write - audio_in) if rng.random() < 0.1 else 0
    ours = Usage(input_tokens=input_tokens, output_tokens=output, cache_read_tokens=cache_read,
                 cache_write_tokens=cache_write, cache_write_1h_tokens=cache_1h, reasoning_tokens=reasoning,
                 input_audio_tokens=audio_in, input_image_tokens=image_in)
    theirs = {"input_tokens": input_tokens, "output_tokens": output, "cache_read_tokens": cache_read,
              "cache_write_tokens": cache_write, "cache_write_1h_tokens": cache_1h,
              "output_reasoning_tokens": reasoning, "input_audio_tokens": audio_in, "input_image_tokens": image_in}
    return ours, {k: v for k, v in theirs.items() if v}


def _model_ref(model: object) -> str:
    """A name the model's own match rule accepts: its id, else the first literal of its rule."""
    if model.is_match(model.id):  # type: ignore[attr-defined]
        return model.id  # type: ignore[attr-defined, no-any-return]
    clause = model.match  # type: ignore[attr-defined]
    while hasattr(clause, "or_"):
        clause = clause.or_[0]
    return getattr(clause, "equals", None) or getattr(clause, "starts_with", None) or model.id  # type: ignore[attr-defined]


def _cases() -> list[tuple[str, str, int]]:
    """Every model of every provider, plus extra random draws so the total passes 2,000."""
    models = [(p.id, _model_ref(m)) for p in get_snapshot().providers for m in p.models]
    rng = random.Random(1234)
    extra = [rng.choice(models) for _ in range(max(0, 3000 - len(models)))]
    return [(p, m, i) for i, (p, m) in enumerate(models + extra)]


def test_parity_with_genai_prices() -> None:
    book = PriceBook()
    rng = random.Random(42)
    compared = skipped = corrected = 0
    mismatches: list[str] = []
    providers_seen: set[str] = set()
    for provider, model, _ in _cases():
        usage, raw = _usage(rng)
        at = START + timedelta(seconds=rng.randrange(SPAN_SECONDS))
        context = rng.choice(CONTEXTS)
        try:
            expected = genai_prices.calc_price(genai_prices.Usage(**raw), model, provider_id=provider,
                                               genai_request_timestamp=at, price_context=context)
        except (ValueError, LookupError):
            skipped += 1  # the oracle refuses (e.g. usage it cannot decompose); checked separately below
            continue
        ours = book.cost(provider, model, usage, at=at, context=context)
        if isinstance(ours, Cost) and ours.price_source == "correction":
            corrected += 1
            continue
        compared += 1
        providers_seen.add(provider)
        want = float(expected.total_price)
        if not isinstance(ours, Cost):
            mismatches.append(f"{provider}/{model} {raw} {at} {context}: ours {ours}, theirs {want}")
        elif abs(ours.total - want) > 1e-9 * max(abs(want), 1e-12) and abs(ours.total - want) > 1e-15:
            mismatches.append(f"{provider}/{model} {raw} {at} {context}: ours {ours.total!r}, theirs {want!r}")
    assert not mismatches, f"{len(mismatches)} of {compared} differ:\n" + "\n".join(mismatches[:20])
    print(f"compared {compared}, oracle refused {skipped}, priced by a correction {corrected}")
    assert corrected < compared * 0.01, "corrections must stay the exception"
    assert compared >= 2000
    assert skipped < compared * 0.05, f"the oracle refused {skipped} cases"
    assert providers_seen == {p.id for p in get_snapshot().providers}
