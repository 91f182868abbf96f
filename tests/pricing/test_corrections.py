"""Reviewed corrections: dated, sourced, applied at their instant; DeepSeek before and after each change."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from otel_llm_cost.core.usage import Usage
from otel_llm_cost.pricing import Cost, PriceBook, PriceFileError
from otel_llm_cost.pricing.corrections import Correction, Corrections, apply_corrections, load_corrections
from otel_llm_cost.pricing.table import bundled_table

UTC = timezone.utc
# 1M uncached input, 1M cache-hit input, 1M output: the bill is input + cache_read + output prices, in USD.
USAGE = Usage(input_tokens=2_000_000, cache_read_tokens=1_000_000, output_tokens=1_000_000)


def test_every_correction_is_dated_sourced_and_explained() -> None:
    corrections = load_corrections()
    assert len(corrections.corrections) >= 6
    table = bundled_table()
    for c in corrections.corrections:
        assert c.source.startswith("https://") and len(c.note) > 20, c
        assert c.effective.tzinfo is not None and c.effective.year >= 2023, c
        entry = next(m for m in table.providers[c.provider].models if m.id == c.model)
        rows = [row for when, _, row, _ in entry.variants if tuple(sorted(when.items())) == c.variant] if c.variant \
            else [row for _, row in entry.history]
        assert "correction" in [row.source for row in rows], \
            f"{c.provider}/{c.model}: the bundled table lacks its correction"
    for d in corrections.differences:
        assert len(d.reason) > 30, d
    for t in corrections.tiers:
        assert t.source.startswith("https://") and len(t.note) > 20 and t.variant, t
        assert any(t.covers(m.id) for m in table.providers[t.provider].models), f"{t}: covers no model"


@pytest.mark.parametrize(("model", "before_peak"), [("deepseek-chat", (0.27, 0.07, 1.10)),
                                                    ("deepseek-reasoner", (0.55, 0.14, 2.19))])
def test_deepseek_prices_before_and_after_each_change(model: str, before_peak: tuple[float, float, float]) -> None:
    book = PriceBook()

    def bill(at: datetime) -> tuple[float, str]:
        cost = book.cost("deepseek", model, USAGE, at=at)
        assert isinstance(cost, Cost)
        return round(cost.total, 9), cost.price_source

    # genai-prices' February 2025 prices: a peak rate until 16:30 UTC, half (or a quarter) at night
    assert bill(datetime(2025, 9, 5, 15, 59, tzinfo=UTC)) == (round(sum(before_peak), 9), "genai-prices")
    assert bill(datetime(2025, 9, 4, 20, 0, tzinfo=UTC)) == (round(0.135 + 0.035 + 0.55, 9), "genai-prices")
    # V3.1 from 2025-09-05 16:00 UTC: one price day and night (the off-peak window would otherwise apply at 20:00)
    v31 = (round(0.56 + 0.07 + 1.68, 9), "correction")
    assert bill(datetime(2025, 9, 5, 16, 0, tzinfo=UTC)) == v31
    assert bill(datetime(2025, 9, 5, 20, 0, tzinfo=UTC)) == v31
    assert bill(datetime(2025, 9, 28, 23, 59, tzinfo=UTC)) == v31
    # V3.2 from 2025-09-29, cache hits at $0.028
    v32 = (round(0.28 + 0.028 + 0.42, 9), "correction")
    assert bill(datetime(2025, 9, 29, 0, 0, tzinfo=UTC)) == v32
    assert bill(datetime(2026, 12, 1, 9, 0, tzinfo=UTC)) == v32


def test_a_reasoner_call_is_no_longer_overstated_five_times() -> None:
    """The issue's example: 1k in / 10k out on deepseek-reasoner today is $0.00448, not $0.0224."""
    cost = PriceBook().cost("deepseek", "deepseek-reasoner", Usage(input_tokens=1_000, output_tokens=10_000),
                            at=datetime(2026, 12, 7, 12, tzinfo=UTC))
    assert isinstance(cost, Cost) and cost.total == pytest.approx((1_000 * 0.28 + 10_000 * 0.42) / 1e6)


def _write(tmp_path: object, text: str) -> str:
    import pathlib

    path = pathlib.Path(str(tmp_path)) / "corrections.toml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(("body", "message"), [
    ('provider="x"\nmodel="m"\neffective=2025-01-01\ninput=1\noutput=2\nnote="a note long enough"',
     "field 'source' is required"),
    ('provider="x"\nmodel="m"\neffective=2025-01-01T10:00:00\ninput=1\noutput=2\nsource="https://a"\nnote="n"',
     "field 'effective' must be a TOML date or UTC date-time"),
    ('provider="x"\nmodel="m"\neffective=2025-01-01\ninput=1\noutput=2\nsource="http://a"\nnote="n"',
     "must be the provider's https:// page"),
    ('provider="x"\nmodel="m"\neffective=2025-01-01\ninput=1\nsource="https://a"\nnote="n"',
     "'input' and 'output' at least"),
    ('provider="x"\nmodel="m"\neffective=2025-01-01\ninput=-1\noutput=2\nsource="https://a"\nnote="n"\nprice=3',
     "unknown field 'price'"),
])
def test_a_bad_correction_is_named(tmp_path: object, body: str, message: str) -> None:
    path = _write(tmp_path, "[[correction]]\n" + body + "\n")
    with pytest.raises(PriceFileError, match=r"corrections file .*\[\[correction\]\] #1") as info:
        load_corrections(path)
    assert message in str(info.value)


def _provider(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{"id": "p", "name": "P", "models": [{"id": "m", "match": {"equals": "m"}, "prices": rows}]}]


def _correction(day: str, price: float) -> Correction:
    return Correction("p", "m", datetime.fromisoformat(day + "T00:00:00+00:00"), {"input_mtok": price,
                                                                                  "output_mtok": price},
                      "https://example.com/pricing", "a test correction")


def test_a_correction_goes_before_a_later_source_change_and_replaces_one_on_the_same_day() -> None:
    rows: list[dict[str, object]] = [{"prices": {"input_mtok": 1}},
                                     {"when": {"start_date": "2026-01-01"}, "prices": {"input_mtok": 3}},
                                     {"when": {"start_date": "2026-06-01"}, "prices": {"input_mtok": 5}}]
    out = apply_corrections(_provider(rows), Corrections((_correction("2026-03-01", 4), _correction("2026-06-01", 6))))
    history = out[0]["models"][0]["prices"]  # type: ignore[index]
    assert [(r.get("when"), r["prices"]["input_mtok"], r.get("source")) for r in history] == [
        (None, 1, None), ({"start_date": "2026-01-01"}, 3, None), ({"start_date": "2026-03-01"}, 4, "correction"),
        ({"start_date": "2026-06-01"}, 6, "correction")]
    assert rows[1]["prices"] == {"input_mtok": 3}, "the source data is not changed"


def test_a_correction_for_a_model_nobody_has_needs_its_names() -> None:
    with pytest.raises(PriceFileError, match="no such model"):
        apply_corrections(_provider([{"prices": {"input_mtok": 1}}]),
                          Corrections((Correction("p", "new", datetime(2026, 1, 1, tzinfo=UTC), {"input_mtok": 1,
                                                                                                 "output_mtok": 1},
                                                  "https://e.com", "note"),)))
    added = apply_corrections(_provider([{"prices": {"input_mtok": 1}}]), Corrections((Correction(
        "p", "new", datetime(2026, 1, 1, tzinfo=UTC), {"input_mtok": 1, "output_mtok": 1}, "https://e.com", "note",
        ("new-model",)),)))
    assert added[0]["models"][0]["match"] == {"or": [{"equals": "new-model"}]}  # type: ignore[index]


# --- request variants: variant corrections and [[tier]] rules ---------------------------------------------------

@pytest.mark.parametrize(("entry", "message"), [
    ('[[correction]]\nprovider="x"\nmodel="m"\neffective=2025-01-01\ninput=1\noutput=2\nsource="https://a"\n'
     'note="n"\nvariant={speed="fast"}', "field 'variant' must be a table of"),
    ('[[tier]]\nprovider="x"\nmodels=["*"]\nvariant={processing="batch"}\nmultiplier=0\neffective=2025-01-01\n'
     'source="https://a"\nnote="n"', "field 'multiplier' must be a number > 0"),
    ('[[tier]]\nprovider="x"\nmodels=[]\nvariant={processing="batch"}\nmultiplier=0.5\neffective=2025-01-01\n'
     'source="https://a"\nnote="n"', "field 'models' must be a non-empty list"),
    ('[[tier]]\nprovider="x"\nmodels=["*"]\nmultiplier=0.5\neffective=2025-01-01\nsource="https://a"\nnote="n"',
     "field 'variant' is required"),
    ('[[tier]]\nprovider="x"\nmodels=["*"]\nvariant={inference_geo="us"}\nmultiplier=1.1\nstacks="yes"\n'
     'effective=2025-01-01\nsource="https://a"\nnote="n"', "field 'stacks' must be true or false"),
])
def test_a_bad_variant_or_tier_is_named(tmp_path: object, entry: str, message: str) -> None:
    with pytest.raises(PriceFileError, match=r"corrections file .*#1") as info:
        load_corrections(_write(tmp_path, entry + "\n"))
    assert message in str(info.value)


def test_a_tier_rule_prices_models_without_their_own_variant(tmp_path: object) -> None:
    path = _write(tmp_path, '[[tier]]\nprovider="p"\nmodels=["m*"]\nvariant={service_tier="flex"}\nmultiplier=0.5\n'
                            'effective=2025-11-18\nsource="https://example.com/pricing"\nnote="flex at half price"\n')
    providers = [{"id": "p", "name": "P", "models": [
        {"id": "m1", "match": {"equals": "m1"}, "prices": [{"prices": {"input_mtok": 1}},
                                                            {"when": {"start_date": "2026-01-01"}, "prices": {
                                                                "input_mtok": {"base": 2, "tiers": [[1000, 4]]},
                                                                "output_mtok": 8, "requests_kcount": 1}}]},
        {"id": "m2", "match": {"equals": "m2"}, "prices": [{"prices": {"input_mtok": 1}}],
         "variants": [{"when": {"service_tier": "flex"}, "prices": {"input_mtok": 0.9}}]},
        {"id": "other", "match": {"equals": "other"}, "prices": [{"prices": {"input_mtok": 1}}]}]}]
    out = apply_corrections(providers, load_corrections(path))
    m1, m2, other = out[0]["models"]  # type: ignore[index]
    # the newest row's per-token prices x 0.5 (long-context tiers too); a per-request fee is not a token price
    assert m1["variants"] == [{"when": {"service_tier": "flex"}, "constraint": {"start_date": "2025-11-18"},
                               "prices": {"input_mtok": {"base": 1.0, "tiers": [[1000, 2.0]]}, "output_mtok": 4.0},
                               "source": "correction", "ref": "https://example.com/pricing"}]
    assert m2["variants"] == [{"when": {"service_tier": "flex"}, "prices": {"input_mtok": 0.9}}]  # its own kept
    assert "variants" not in other


def test_a_variant_correction_replaces_a_source_variant() -> None:
    providers = [{"id": "p", "name": "P", "models": [
        {"id": "m", "match": {"equals": "m"}, "prices": [{"prices": {"input_mtok": 1, "output_mtok": 2}}],
         "variants": [{"when": {"service_tier": "priority"}, "prices": {"input_mtok": 1.5}}]}]}]
    correction = Correction("p", "m", datetime(2025, 11, 18, tzinfo=UTC), {"input_mtok": 1.75, "output_mtok": 3.5},
                            "https://example.com/pricing", "priority", variant=(("service_tier", "priority"),))
    out = apply_corrections(providers, Corrections((correction,)))
    (variant,) = out[0]["models"][0]["variants"]  # type: ignore[index]
    assert variant["prices"] == {"input_mtok": 1.75, "output_mtok": 3.5} and variant["source"] == "correction"


def test_bedrock_tier_prices_in_the_bundled_table() -> None:
    book = PriceBook()
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    at = datetime(2026, 12, 1, tzinfo=UTC)

    def total(model: str, tier: str | None) -> float:
        cost = book.cost("aws.bedrock", model, usage, at=at, service_tier=tier)
        assert isinstance(cost, Cost), cost
        return round(cost.total, 9)

    # Nova Pro $0.80 / $3.20: batch and flex half, priority +75%, latency-optimized $1.00 / $4.00
    assert total("us.amazon.nova-pro-v1:0", None) == 4.0
    assert total("us.amazon.nova-pro-v1:0", "batch") == 2.0
    assert total("us.amazon.nova-pro-v1:0", "flex") == 2.0
    assert total("us.amazon.nova-pro-v1:0", "priority") == 7.0
    assert total("us.amazon.nova-pro-v1:0", "latency_optimized") == 5.0
    # Claude offers no flex or priority tier on Bedrock: such a call is priced at the standard rate
    assert total("us.anthropic.claude-3-5-haiku-20241022-v1:0", "priority") == 4.8
    # before a tier existed, a call claiming it pays the standard price
    assert book.cost("aws.bedrock", "us.amazon.nova-pro-v1:0", usage, at=datetime(2025, 1, 1, tzinfo=UTC),
                     service_tier="priority").total == pytest.approx(4.0)  # type: ignore[union-attr]


def test_a_stacking_tier_is_a_multiplier_on_the_row_in_force(tmp_path: object) -> None:
    path = _write(tmp_path, '[[tier]]\nprovider="p"\nmodels=["m*"]\nvariant={inference_geo="us"}\nmultiplier=1.1\n'
                            'stacks=true\neffective=2025-11-18\nsource="https://example.com/pricing"\nnote="US-only"\n')
    providers = [{"id": "p", "name": "P", "models": [
        {"id": "m1", "match": {"equals": "m1"}, "prices": [{"prices": {"input_mtok": 1}}]}]}]
    (model,) = apply_corrections(providers, load_corrections(path))[0]["models"]  # type: ignore[index]
    assert model["variants"] == [{"when": {"inference_geo": "us"}, "prices": {}, "multiplier": 1.1,
                                  "constraint": {"start_date": "2025-11-18"}, "source": "correction",
                                  "ref": "https://example.com/pricing"}]


def _anthropic(model: str, usage: Usage, at: datetime, **context: str) -> float:
    cost = PriceBook().cost("anthropic", model, usage, at=at, context=context or None)
    assert isinstance(cost, Cost), cost
    return round(cost.total, 9)


def test_us_only_inference_in_the_bundled_table() -> None:
    """Anthropic's US-only inference (inference_geo "us"): 1.1x every token price of the row in force, on top of
    batch, fast mode and long-context prices; per-request fees (web search) are not token prices."""
    at = datetime(2026, 12, 1, tzinfo=UTC)
    one_each = Usage(input_tokens=3_000_000, cache_read_tokens=1_000_000, cache_write_tokens=1_000_000,
                     output_tokens=1_000_000)
    # claude-opus-4-6 $5 input, $0.50 cache read, $6.25 cache write (5 min), $25 output per 1M: 36.75
    assert _anthropic("claude-opus-4-6", one_each, at) == 36.75
    assert _anthropic("claude-opus-4-6", one_each, at, inference_geo="us") == pytest.approx(36.75 * 1.1)
    # 1-hour cache writes ($10) too: 1M input + 1M written for 1 h = 15 x 1.1
    hour = Usage(input_tokens=2_000_000, cache_write_tokens=1_000_000, cache_write_1h_tokens=1_000_000)
    assert _anthropic("claude-opus-4-6", hour, at, inference_geo="us") == pytest.approx(16.5)
    # batch ($2.50 / $12.50) and US-only stack: (2.5 + 12.5) x 1.1
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert _anthropic("claude-opus-4-6", usage, at, processing="batch", inference_geo="us") == pytest.approx(16.5)
    # fast mode of claude-opus-4-8 ($10 / $50) and US-only: 60 x 1.1
    assert _anthropic("claude-opus-4-8", usage, at, speed="fast", inference_geo="us") == pytest.approx(66.0)
    # before 1M context went to standard prices (2026-03-13), Opus 4.6 above 200k input: $10 / $37.50, x 1.1
    long = Usage(input_tokens=250_000, output_tokens=1_000_000)
    assert _anthropic("claude-opus-4-6", long, datetime(2026, 3, 1, tzinfo=UTC), inference_geo="us") \
        == pytest.approx((0.25 * 10 + 37.5) * 1.1)
    # web searches ($10 per 1000) are a request fee: 1M input x 5 x 1.1 + 0.01
    searched = Usage(input_tokens=1_000_000, web_searches=1)
    assert _anthropic("claude-opus-4-7", searched, at, inference_geo="us") == pytest.approx(5.5 + 0.01)
    # Sonnet 4.6 ($3 / $15) is covered; Sonnet 4.5 / Haiku 4.5 / Opus 4.5 have no US-only price: standard
    assert _anthropic("claude-sonnet-4-6", usage, at, inference_geo="us") == pytest.approx(19.8)
    # (100k tokens each, below Sonnet 4.5's 200k long-context threshold)
    small = Usage(input_tokens=100_000, output_tokens=100_000)
    assert _anthropic("claude-sonnet-4-5", small, at, inference_geo="us") == 1.8
    assert _anthropic("claude-haiku-4-5", small, at, inference_geo="us") == 0.6
    assert _anthropic("claude-opus-4-5", small, at, inference_geo="us") == 3.0
