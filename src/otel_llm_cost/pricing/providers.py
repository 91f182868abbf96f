"""The one place that maps OpenTelemetry ``gen_ai.provider.name`` values to price-table providers."""

from __future__ import annotations

# gen_ai.provider.name (well-known values and the lower_snake custom ones we emit) -> price-table provider id.
# Names not listed are tried as table ids and against the table's own provider-match rules.
SEMCONV_TO_TABLE: dict[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "aws.bedrock": "aws",
    "azure.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "mistral_ai": "mistral",
    "cohere": "cohere",
    "groq": "groq",
    "x_ai": "x-ai",
    "deepseek": "deepseek",
    "openrouter": "openrouter",
    "perplexity": "perplexity",
    "moonshot_ai": "moonshotai",
    "together_ai": "together",
    "fireworks": "fireworks",
    "cerebras": "cerebras",
    "novita": "novita",
    "databricks": "databricks",
    "cloudflare": "cloudflare",
    "github_copilot": "github-copilot",
    "voyage_ai": "voyageai",
    "zhipu_ai": "zhipuai",
}

# Providers whose calls run on the user's own hardware: with no price of the user's for a model, a call costs an
# explicit $0 (source "local", price table SELF_HOSTED_TABLE), neither unpriced nor a silent zero. A [[price]] with
# per_second / per_request (or per-token prices) turns GPU time into cost.
SELF_HOSTED: frozenset[str] = frozenset({"ollama"})
SELF_HOSTED_TABLE = "self-hosted:default"  # llm_cost.price_table of the default
SELF_HOSTED_SOURCE = "self-hosted"  # llm_cost.price_source of the default


def is_self_hosted(provider_name: str) -> bool:
    """True for a provider whose calls run on the user's own hardware (Ollama)."""
    return provider_name.strip().lower() in SELF_HOSTED


def table_provider_id(provider_name: str) -> str:
    """The table id for a semconv provider name (itself when not in the map)."""
    key = provider_name.strip().lower()
    return SEMCONV_TO_TABLE.get(key, key)


def names_for(provider_name: str) -> frozenset[str]:
    """Every spelling an override file may use for this provider: semconv name and table id."""
    key = provider_name.strip().lower()
    return frozenset({key, SEMCONV_TO_TABLE.get(key, key)})
