"""Bad input never breaks anything: clear messages naming the input, bundled prices stay in force."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otel_llm_cost.core.usage import Usage
from otel_llm_cost.pricing import Cost, PriceBook, PriceFileError, Unpriced, load_price_book

GOOD_ENTRY = 'provider = "openai"\nmodel = "gpt-4o"\n'


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("syntax.toml", "[[price]\nmodel = ", ["syntax.toml", "invalid TOML"]),
    ("syntax.json", '{"price": [', ["syntax.json", "invalid JSON", "line 1"]),
    ("unknown.toml", f"[[price]]\n{GOOD_ENTRY}input = 1\ninptu = 2\n",
     ["unknown.toml", "[[price]] #1 (model 'gpt-4o')", "field 'inptu'", "unknown field"]),
    ("negative.toml", f"[[price]]\n{GOOD_ENTRY}input = -1\n",
     ["negative.toml", "[[price]] #1", "field 'input'", "must not be negative"]),
    ("notnumber.toml", f'[[price]]\n{GOOD_ENTRY}output = "cheap"\n', ["field 'output'", "must be a number"]),
    ("date.toml", f'[[price]]\n{GOOD_ENTRY}effective_from = "next tuesday"\ninput = 1\n',
     ["date.toml", "field 'effective_from'", "next tuesday"]),
    ("regex.toml", '[[price]]\nprovider = "openai"\nregex = "gpt-(4o"\ninput = 1\n',
     ["regex.toml", "field 'regex'", "invalid regular expression"]),
    ("both.toml", '[[price]]\nprovider = "openai"\nmodel = "a"\nregex = "b"\ninput = 1\n', ["field 'model'"]),
    ("noprice.toml", f"[[price]]\n{GOOD_ENTRY}", ["no price given"]),
    ("discount.toml", '[[discount]]\nprovider = "openai"\nmodel = "*"\nmultiplier = 85\n',
     ["[[discount]] #1", "field 'multiplier'", "percentage"]),
    ("alias.toml", '[[alias]]\nprovider = "azure.ai.openai"\nmodel = "dep"\n', ["[[alias]] #1", "maps_to"]),
    ("toplevel.toml", "[[prices]]\nmodel = 'x'\n", ["top-level key 'prices'"]),
    ("second.toml", f"[[price]]\n{GOOD_ENTRY}input = 1\n[[price]]\n{GOOD_ENTRY}input = -2\n", ["[[price]] #2"]),
])
def test_bad_file_message_names_file_entry_field(tmp_path: Path, caplog: pytest.LogCaptureFixture, name: str,
                                                 text: str, expected: list[str]) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(PriceFileError) as raised:
        load_price_book([str(path)], strict=True)
    for fragment in expected:
        assert fragment in str(raised.value)

    caplog.set_level(logging.ERROR, logger="otel_llm_cost.pricing")
    book = load_price_book([str(path)], strict=False)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, errors
    assert all(fragment in errors[0] for fragment in expected)
    assert "bundled prices stay in force" in errors[0]
    # the bundled table still prices calls
    cost = book.cost("openai", "gpt-4o", Usage(input_tokens=1_000_000, output_tokens=0))
    assert isinstance(cost, Cost) and cost.total == pytest.approx(2.5)


def test_missing_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    missing = str(tmp_path / "nope.toml")
    book = load_price_book([missing])
    assert missing in caplog.text and "cannot read" in caplog.text
    assert isinstance(book.cost("openai", "gpt-4o", Usage(input_tokens=1)), Cost)


def test_strict_env_and_bad_strict_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[[price]]\nmodel = 1\n")
    monkeypatch.setenv("OTEL_LLM_COST_PRICES_FILE", str(path))
    monkeypatch.setenv("OTEL_LLM_COST_PRICES_STRICT", "true")
    with pytest.raises(PriceFileError, match=r"bad\.toml"):
        load_price_book()
    monkeypatch.setenv("OTEL_LLM_COST_PRICES_STRICT", "maybe")
    caplog.set_level(logging.ERROR)
    load_price_book()
    assert "OTEL_LLM_COST_PRICES_STRICT='maybe' is not valid (expected true/false" in caplog.text


@pytest.mark.parametrize(("usage", "reason", "detail"), [
    (Usage(input_tokens=-5, output_tokens=10), "invalid_usage", "input_tokens is negative"),
    (Usage(input_tokens=10, output_tokens=-1), "invalid_usage", "output_tokens is negative"),
    (Usage(input_tokens=10.5, output_tokens=1), "invalid_usage", "input_tokens is not a whole number"),  # type: ignore[arg-type]
    (Usage(input_tokens="100", output_tokens=1), "invalid_usage", "not a whole number"),  # type: ignore[arg-type]
    (Usage(input_tokens=True, output_tokens=1), "invalid_usage", "not a whole number"),  # type: ignore[arg-type]
    (Usage(input_tokens=None, output_tokens=5), "no_usage", "no token usage"),
    (Usage(), "no_usage", "no token usage"),
    (Usage(input_tokens=100, cache_read_tokens=500), "invalid_usage", "input_tokens"),
])
def test_bad_usage_is_unpriced_with_reason(usage: Usage, reason: str, detail: str) -> None:
    result = PriceBook().cost("openai", "gpt-4o", usage)
    assert isinstance(result, Unpriced)
    assert result.reason == reason and detail in result.detail


_counts = st.one_of(st.none(), st.integers(min_value=-10, max_value=10**9), st.floats(allow_nan=True),
                    st.text(max_size=3), st.booleans())


@settings(max_examples=300, deadline=None)
@given(provider=st.sampled_from(["openai", "anthropic", "aws.bedrock", "gcp.gemini", "", "weird.provider"]),
       model=st.one_of(st.none(), st.text(max_size=40), st.sampled_from(["gpt-4o", "claude-sonnet-4-5"])),
       counts=st.lists(_counts, min_size=6, max_size=6),
       tier=st.one_of(st.none(), st.sampled_from(["batch", "flex", "priority", "???"])),
       provider_cost=st.one_of(st.none(), st.floats(allow_nan=True), st.text(max_size=3)))
def test_cost_never_raises(provider: str, model: str | None, counts: list[object], tier: str | None,
                           provider_cost: object) -> None:
    usage = Usage(*counts)  # type: ignore[arg-type]
    result = PriceBook().cost(provider, model, usage, service_tier=tier, provider_cost=provider_cost)  # type: ignore[arg-type]
    assert isinstance(result, (Cost, Unpriced))
    if isinstance(result, Cost):
        assert result.total >= 0
        assert result.total == pytest.approx(sum(result.parts().values()), rel=1e-9, abs=1e-15)


def test_a_billed_part_without_a_price_is_said_once(caplog: pytest.LogCaptureFixture) -> None:
    """Bedrock's table has no web-search price: the tokens are priced, the searches cannot be, and the log says so
    (once per model) instead of silently pricing them at $0."""
    book = PriceBook()
    usage = Usage(input_tokens=1000, output_tokens=100, web_searches=3)
    with caplog.at_level(logging.WARNING, logger="otel_llm_cost.pricing"):
        first = book.cost("aws.bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", usage)
        second = book.cost("aws.bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", usage)
    assert isinstance(first, Cost) and first == second
    assert first.total == pytest.approx(first.input + first.output) and first.other == 0.0
    warnings = [r.getMessage() for r in caplog.records if "web searches" in r.getMessage()]
    assert len(warnings) == 1
    assert f"no price for web searches of {first.model} at {first.provider}" in warnings[0]
    # where the table has the price, nothing is said and the searches are in "other"
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="otel_llm_cost.pricing"):
        direct = book.cost("anthropic", "claude-sonnet-4-5", usage)
    assert isinstance(direct, Cost) and direct.other == pytest.approx(3 * 10.0 / 1000)
    assert not [r for r in caplog.records if "web searches" in r.getMessage()]
