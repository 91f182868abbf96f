"""The table against its second source, LiteLLM's map (the pinned wheel cached by
scripts/setup.d/30-litellm-price-map.sh): no unexplained disagreement, LiteLLM's rows priced as LiteLLM prices
them, every chat/embedding model of the providers we instrument covered, and prices.json regenerated."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from otel_llm_cost.core.usage import Usage
from otel_llm_cost.pricing import Cost, PriceBook
from otel_llm_cost.pricing import litellm_map as lm
from otel_llm_cost.pricing.corrections import Corrections, Difference, load_corrections
from otel_llm_cost.pricing.crosscheck import cross_check
from otel_llm_cost.pricing.table import bundled_table

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def litellm_data() -> dict[str, Any]:
    wheel = lm.cached_wheel()
    if wheel is None:
        message = f"no cached litellm-{lm.LITELLM_PINNED} wheel: run scripts/setup.d/30-litellm-price-map.sh"
        if os.environ.get("OTEL_LLM_COST_E2E_REQUIRED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    data, version = lm.read_map(wheel)
    assert version == lm.LITELLM_PINNED
    return data


def test_every_disagreement_with_litellm_is_corrected_or_explained(litellm_data: dict[str, Any]) -> None:
    report = cross_check(bundled_table(), list(lm.models(litellm_data)), load_corrections())
    assert not report.unexplained, "unexplained >1% disagreements (add a [[correction]] or a [[difference]] to " \
        "pricing/data/corrections.toml):\n" + "\n".join(d.describe() for d in report.unexplained)
    assert not report.stale, f"[[difference]] entries that no longer match a disagreement: {report.stale}"
    assert not report.unpriced, f"LiteLLM prices these, we do not: {[m.key for m in report.unpriced]}"
    assert report.compared > 700 and report.agreeing > 600 and report.corrected >= 2


def test_coverage_of_the_providers_we_instrument(litellm_data: dict[str, Any]) -> None:
    """Every chat and embedding model LiteLLM prices for them has a price here (Nova 2, Mistral Large 3,
    Ministral 3, Devstral, Grok 4.20 among them)."""
    book = PriceBook()
    usage = Usage(input_tokens=1000, output_tokens=100)
    names = {(m.provider, m.name) for m in lm.models(litellm_data)}
    assert {("aws", "amazon.nova-2-lite-v1:0"), ("mistral", "mistral-large-3"), ("mistral", "ministral-3-8b-2512"),
            ("mistral", "devstral-medium-latest"), ("x-ai", "grok-4.20-reasoning")} <= names
    unpriced = [(p, n) for p, n in sorted(names) if p in book.table.providers
                and not isinstance(book.cost(p, n, usage), Cost)]
    assert not unpriced


def test_rows_litellm_owns_price_as_litellm_prices_them(litellm_data: dict[str, Any]) -> None:
    """Per-token arithmetic straight from LiteLLM's JSON (uncached input, cache reads, output) against ours."""
    book = PriceBook()
    usage = Usage(input_tokens=50_000, cache_read_tokens=20_000, output_tokens=3_000)
    by_name: dict[tuple[str, str], lm.LiteLLMModel] = {}
    for model in lm.models(litellm_data):  # the first of a name wins, as in the table build
        by_name.setdefault((model.provider, model.name), model)
    checked = 0
    for provider in book.table.providers.values():
        for entry in provider.models:
            if entry.source != "litellm":
                continue
            raw = litellm_data[by_name[(provider.id, entry.id)].key]
            cache_read = raw.get("cache_read_input_token_cost")
            expected = (raw["input_cost_per_token"] * (50_000 - (20_000 if cache_read is not None else 0))
                        + (cache_read or 0) * 20_000 + raw.get("output_cost_per_token", 0) * 3_000)
            cost = book.cost(provider.id, entry.id, usage)
            assert isinstance(cost, Cost) and cost.price_source == "litellm", (provider.id, entry.id, cost)
            assert cost.total == pytest.approx(expected, rel=1e-9, abs=1e-15), (provider.id, entry.id)
            checked += 1
    assert checked > 150


def test_the_cross_check_fails_on_a_new_disagreement_and_on_a_stale_explanation() -> None:
    gpt = lm.LiteLLMModel("gpt-4o", "openai", "gpt-4o", "chat", {"input_mtok": 2.75, "output_mtok": 10.0})
    report = cross_check(bundled_table(), [gpt], Corrections())
    assert [(d.name, d.part, d.ours, d.theirs) for d in report.unexplained] == [("gpt-4o", "input_mtok", 2.5, 2.75)]
    assert not report.ok
    explained = cross_check(bundled_table(), [gpt], Corrections(differences=(Difference("openai", "gpt-4o", "r"),)))
    assert explained.ok and not explained.unexplained
    within = lm.LiteLLMModel("gpt-4o", "openai", "gpt-4o", "chat", {"input_mtok": 2.52, "output_mtok": 10.0})
    stale = cross_check(bundled_table(), [within], Corrections(differences=(Difference("openai", "gpt-4o", "r"),)))
    assert stale.agreeing == 1 and stale.stale and not stale.ok


def test_a_stated_ratio_explains_only_that_ratio() -> None:
    """The regional-premium explanations say "ours is 1.1x theirs": any other gap on the same model is not
    explained by them."""
    premium = Difference("openai", "gpt-4o", "regional premium", ratio=1.1)
    ok = lm.LiteLLMModel("gpt-4o", "openai", "gpt-4o", "chat", {"input_mtok": 2.5 / 1.1, "output_mtok": 10 / 1.1})
    assert cross_check(bundled_table(), [ok], Corrections(differences=(premium,))).ok
    off = lm.LiteLLMModel("gpt-4o", "openai", "gpt-4o", "chat", {"input_mtok": 2.0, "output_mtok": 10 / 1.1})
    report = cross_check(bundled_table(), [off], Corrections(differences=(premium,)))
    assert [(d.part, d.explained_by) for d in report.disagreements] == [("input_mtok", None),
                                                                         ("output_mtok", premium)]


def test_prices_diff_command(litellm_data: dict[str, Any]) -> None:
    result = subprocess.run([sys.executable, "-m", "otel_llm_cost.cli", "prices", "diff", "--all"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"vs LiteLLM {lm.LITELLM_PINNED}" in result.stdout
    assert "every disagreement is corrected or explained" in result.stdout
    assert "because: GovCloud" in result.stdout


def test_bundled_table_is_regenerated_from_its_sources(litellm_data: dict[str, Any]) -> None:
    """prices.json = genai-prices (pinned) + LiteLLM (pinned) + corrections.toml: a corrections edit without
    running scripts/update_prices.py fails here."""
    pytest.importorskip("genai_prices", reason="the generator's source needs genai-prices (Python 3.11+)")
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "update_prices.py"), "--check"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
