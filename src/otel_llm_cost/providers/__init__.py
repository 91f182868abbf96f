"""One module per SDK family; each exposes an instrumentor registered as an ``opentelemetry_instrumentor``."""

from __future__ import annotations

# entry-point name -> "module:Class"; the same list as pyproject.toml's entry points
INSTRUMENTORS: dict[str, str] = {
    "llm_cost_openai": "otel_llm_cost.providers.openai:OpenAIInstrumentor",
    "llm_cost_anthropic": "otel_llm_cost.providers.anthropic:AnthropicInstrumentor",
}
