"""The contract's billed-vs-seen usage, float-typed counts and rerank searches, read by the core alone (no SDK):
what Cohere needs, kept general (``Reads.billed``, ``UsageMap.floats``, ``UsageMap.rerank_searches``)."""

from __future__ import annotations

from typing import Any

import pytest

from otel_llm_cost.core.contract import ACCUMULATE, Reads, UsageMap
from otel_llm_cost.core.provider import ResultReader, UsageReader
from otel_llm_cost.core.telemetry import CallRecord
from otel_llm_cost.core.usage import Usage
from otel_llm_cost.pricing import load_price_book
from otel_llm_cost.pricing.corrections import load_corrections
from otel_llm_cost.pricing.overrides import PriceFileError

SEEN = UsageMap(input="tokens.input_tokens", output="tokens.output_tokens", floats=True)
BILLED = UsageMap(input="billed.input_tokens", output="billed.output_tokens", rerank_searches="billed.search_units",
                  floats=True)


def _call() -> CallRecord:
    return CallRecord("chat", "cohere", "command-a-03-2025", None, None, False)


def _read(reads: Reads, result: Any, streamed: bool = False) -> CallRecord:
    call = _call()
    ResultReader(reads).usage_of(call, result, streamed)
    return call


def test_whole_floats_are_counts_only_where_declared() -> None:
    usage = {"a": 12.0, "b": 3.5, "c": float("inf"), "d": float("nan"), "e": True}
    declared = UsageMap(input="a", output="b", cache_read="c", reasoning="d", cache_write="e", floats=True)
    assert UsageReader(declared)(usage)[0] == Usage(input_tokens=12)  # 3.5, inf, nan, True: no counts
    assert UsageReader(UsageMap(input="a"))(usage)[0] is None  # not declared: a float is no count


def test_billed_prices_while_the_seen_counts_stay_on_the_record() -> None:
    result = {"usage": {"tokens": {"input_tokens": 70.0, "output_tokens": 2.0},
                        "billed": {"input_tokens": 5.0, "output_tokens": 2.0}}}
    call = _read(Reads(usage=SEEN, billed=BILLED), result)
    assert call.usage == Usage(input_tokens=70, output_tokens=2)
    assert call.billed_usage == Usage(input_tokens=5, output_tokens=2)


def test_only_billed_counts_are_also_the_seen_ones() -> None:
    call = _read(Reads(usage=SEEN, billed=BILLED), {"usage": {"billed": {"search_units": 2.0}}})
    assert call.usage == call.billed_usage == Usage(rerank_searches=2)
    assert call.usage is not call.billed_usage  # an adapter amending one never changes the other


def test_accumulated_stream_reports_add_up_both_ways() -> None:
    reads = Reads(usage=SEEN, billed=BILLED, merge=ACCUMULATE)
    call = _call()
    reader = ResultReader(reads)
    for _ in range(3):
        reader.usage_of(call, {"usage": {"tokens": {"input_tokens": 10.0}, "billed": {"input_tokens": 8.0}}}, True)
    assert call.usage == Usage(input_tokens=30)
    assert call.billed_usage == Usage(input_tokens=24)


def test_rerank_searches_are_priced_per_thousand() -> None:
    book = load_price_book([])
    cost = book.cost("cohere", "rerank-v3.5", Usage(rerank_searches=3))
    # Rerank 3.5: USD 2.00 per 1K searches
    assert cost and cost.total == pytest.approx(3 * 2.00 / 1000) and cost.other == cost.total
    assert book.cost("cohere", "rerank-v3.5", Usage(rerank_searches=3)).total == cost.total  # memoised path too


def test_searches_without_a_search_price_are_never_a_silent_zero() -> None:
    book = load_price_book([])
    only = book.cost("cohere", "command-a-03-2025", Usage(rerank_searches=1))
    assert not only and only.reason == "unknown_model"
    both = book.cost("cohere", "command-a-03-2025", Usage(input_tokens=1000, output_tokens=0, rerank_searches=1))
    assert both and both.total == pytest.approx(1000 * 2.50 / 1e6)  # priced without them, with a warning


def test_a_price_file_can_price_rerank_searches(tmp_path: Any) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text('[[price]]\nprovider = "cohere"\nmodel = "rerank-v4.0-pro"\nrerank_searches = 2.5\n')
    cost = load_price_book([str(prices)]).cost("cohere", "rerank-v4.0-pro", Usage(rerank_searches=4))
    assert cost and cost.total == pytest.approx(4 * 2.5 / 1000)


def test_a_correction_needs_token_prices_or_a_search_price(tmp_path: Any) -> None:
    path = tmp_path / "corrections.toml"
    path.write_text('schema = 1\n[[correction]]\nprovider = "cohere"\nmodel = "x"\neffective = 2025-01-01\n'
                    'source = "https://cohere.com/pricing"\nnote = "n"\ninput = 1.0\n')
    with pytest.raises(PriceFileError, match="rerank_searches"):
        load_corrections(str(path))
    path.write_text(path.read_text().replace("input = 1.0", "rerank_searches = 2.0"))
    assert load_corrections(str(path)).corrections[0].prices == {"rerank_searches_kcount": 2.0}
