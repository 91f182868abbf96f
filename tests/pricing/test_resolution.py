"""Model-name resolution: what SDKs and gateways send must find the right table entry."""

from __future__ import annotations

import pytest

from otel_llm_cost.core.usage import Usage
from otel_llm_cost.pricing import Cost, PriceBook, Unpriced

USAGE = Usage(input_tokens=1000, output_tokens=100)


@pytest.fixture(scope="module")
def book() -> PriceBook:
    return PriceBook()


@pytest.mark.parametrize(("provider", "sent", "table_model"), [
    ("openai", "gpt-4o", "gpt-4o"),
    ("openai", "GPT-4o", "gpt-4o"),
    ("openai", "gpt-4o-2024-08-06", "gpt-4o"),
    ("openai", "openai/gpt-4o", "gpt-4o"),
    ("openai", "gpt-5.2-20251211", "gpt-5.2"),
    ("openai", "ft:gpt-4o-mini-2024-07-18:acme::9abc", "ft:gpt-4o-mini"),
    ("gcp.gemini", "models/gemini-2.5-pro", "gemini-2.5-pro"),
    ("gcp.vertex_ai", "publishers/google/models/gemini-2.5-flash", "gemini-2.5-flash"),
    ("gcp.vertex_ai", "claude-sonnet-4-5@20250929", "claude-sonnet-4-5"),
    ("aws.bedrock", "eu.anthropic.claude-3-7-sonnet-20250219-v1:0", None),
    ("aws.bedrock", "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0", None),
    ("azure.ai.openai", "gpt-4o-2024-08-06", "gpt-4o"),
    ("x_ai", "grok-4", None),
    ("mistral_ai", "mistral-small-latest", None),
    ("groq", "llama-3.3-70b-versatile", None),
    ("deepseek", "deepseek-chat", None),
    ("openrouter", "anthropic/claude-sonnet-4", None),
    ("together_ai", "meta-llama/Llama-3.3-70B-Instruct-Turbo", None),
    ("", "claude-haiku-4-5", "claude-haiku-4-5"),  # no provider: found by the table's model rules
    # model names as LiteLLM writes them: its route prefix in front of the provider's own (namespaced) id
    ("anthropic", "anthropic/claude-sonnet-4-5", "claude-sonnet-4-5"),
    ("aws.bedrock", "bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0", None),
    ("aws.bedrock", "bedrock/converse/us.anthropic.claude-sonnet-4-5-20250929-v1:0", None),
    ("gcp.vertex_ai", "vertex_ai/gemini-2.5-flash", "gemini-2.5-flash"),
    ("gcp.gemini", "gemini/gemini-2.5-flash", "gemini-2.5-flash"),
    ("mistral_ai", "mistral/mistral-large-latest", None),
    ("groq", "groq/llama-3.3-70b-versatile", None),
    ("x_ai", "xai/grok-3", None),
    ("openrouter", "openrouter/anthropic/claude-3.5-sonnet", None),
    ("openrouter", "openrouter/openai/gpt-4o-mini", None),
    ("together_ai", "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo", None),
    ("fireworks", "fireworks_ai/accounts/fireworks/models/llama-v3p1-8b-instruct", None),
])
def test_resolves(book: PriceBook, provider: str, sent: str, table_model: str | None) -> None:
    cost = book.cost(provider, sent, USAGE)
    assert isinstance(cost, Cost), cost
    assert cost.total > 0
    if table_model is not None:
        assert cost.model == table_model


def test_response_model_is_tried_first(book: PriceBook) -> None:
    # Azure deployment name as request model, concrete snapshot as response model
    cost = book.cost("azure.ai.openai", "my-prod-deployment", USAGE, response_model="gpt-4o-mini-2024-07-18")
    assert isinstance(cost, Cost) and cost.model == "gpt-4o-mini"
    # both names priced, differently: the snapshot that answered wins over the alias that was asked for
    # (gpt-4o-2024-05-13: 1,000 x 5 + 100 x 15 = 6,500 per 1M; the alias gpt-4o would give 1,000 x 2.50 + 100 x 10)
    cost = book.cost("openai", "gpt-4o", USAGE, response_model="gpt-4o-2024-05-13")
    assert isinstance(cost, Cost) and cost.model == "gpt-4o-2024-05-13"
    assert cost.total == pytest.approx(0.0065, rel=1e-12)
    # an answering name no table knows (a gateway's route): the request model still prices the call
    cost = book.cost("openai", "gpt-4o-mini", USAGE, response_model="acme-gateway-route-7")
    assert isinstance(cost, Cost) and cost.model == "gpt-4o-mini"
    assert cost.total == pytest.approx(0.00021, rel=1e-12)  # 1,000 x 0.15 + 100 x 0.60 per 1M


@pytest.mark.parametrize(("provider", "model", "reason"), [
    ("openai", "totally-unknown-model-xyz", "unknown_model"),
    ("vllm", "llama3.1:8b", "unknown_provider"),  # ollama, self-hosted, has an explicit $0 (test_self_hosted.py)
    ("openai", "", "no_model"),
    ("openai", None, "no_model"),
    ("openai", "   ", "unknown_model"),
    ("openai", "☃" * 500, "unknown_model"),
    ("openai", "gpt-4o\x00", "unknown_model"),
])
def test_unknown_is_unpriced_never_zero(book: PriceBook, provider: str, model: str | None, reason: str) -> None:
    result = book.cost(provider, model, USAGE)
    assert isinstance(result, Unpriced), result
    assert not result
    assert result.reason == reason
    assert result.detail


def test_surrounding_whitespace_is_ignored(book: PriceBook) -> None:
    cost = book.cost("anthropic", " claude-sonnet-4-5\n", USAGE)
    assert isinstance(cost, Cost) and cost.model == "claude-sonnet-4-5"


def test_misses_are_memoised_and_logged_once(book: PriceBook, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("WARNING", logger="otel_llm_cost.pricing")
    for _ in range(5):
        assert isinstance(book.cost("openai", "never-heard-of-it", USAGE), Unpriced)
    warnings = [r for r in caplog.records if "never-heard-of-it" in r.getMessage()]
    assert len(warnings) == 1
    assert "OTEL_LLM_COST_PRICES_FILE" in warnings[0].getMessage()
    assert ("openai", "never-heard-of-it") in book._memo


def test_memo_is_bounded() -> None:
    small = PriceBook(memo_size=16)
    for i in range(100):
        small.cost("openai", f"unknown-{i}", USAGE)
    assert len(small._memo) <= 16


def test_no_unpriced_warning_when_the_request_model_prices_the_call(caplog: pytest.LogCaptureFixture) -> None:
    """A gateway answering with its own route name: the request model prices the call, so nothing may say
    "counted as unpriced"; a call no name can price is still warned about, once."""
    import logging

    book = PriceBook()
    usage = Usage(input_tokens=1000, output_tokens=100)
    with caplog.at_level(logging.WARNING, logger="otel_llm_cost.pricing"):
        priced = book.cost("openai", "gpt-4o-mini", usage, response_model="route-7f3a")
        for _ in range(3):
            unpriced = book.cost("openai", "gpt-9-preview", usage)
    assert isinstance(priced, Cost) and isinstance(unpriced, Unpriced)
    warnings = [r.getMessage() for r in caplog.records if "counted as unpriced" in r.getMessage()]
    assert len(warnings) == 1 and "'gpt-9-preview'" in warnings[0]


def test_images_generated_without_a_per_image_price_are_unpriced_never_zero(book: PriceBook) -> None:
    """A count of images alone (an image API that reports no tokens) at a model whose row prices tokens only
    (gpt-image-1) is no $0: unpriced, saying which unit has no price. Imagen's row has one: USD 0.03 per image."""
    tokens_only = book.cost("openai", "gpt-image-1", Usage(output_images=2))
    assert isinstance(tokens_only, Unpriced) and tokens_only.reason == "unknown_model"
    assert "per image generated" in tokens_only.detail
    imagen = book.cost("gcp.gemini", "imagen-3.0-generate-002", Usage(output_images=2))
    assert isinstance(imagen, Cost) and imagen.total == pytest.approx(2 * 0.03)
