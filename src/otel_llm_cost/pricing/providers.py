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


def table_provider_id(provider_name: str) -> str:
    """The table id for a semconv provider name (itself when not in the map)."""
    key = provider_name.strip().lower()
    return SEMCONV_TO_TABLE.get(key, key)


def names_for(provider_name: str) -> frozenset[str]:
    """Every spelling an override file may use for this provider: semconv name and table id."""
    key = provider_name.strip().lower()
    return frozenset({key, SEMCONV_TO_TABLE.get(key, key)})
