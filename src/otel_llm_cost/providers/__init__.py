"""One small declarative module per SDK family, and the one registry of them.

The registry feeds everything that lists providers: ``pyproject.toml``'s ``opentelemetry_instrumentor`` entry points
and ``instruments-any`` extra (a test holds them equal), ``otel_llm_cost.instrument()``, ``otel-llm-cost doctor``
and the demo. Adding a provider: its module (a ``SPEC`` and a one-line instrumentor class), one ``Registration``
here, the two pyproject lines the test asks for, and its table row in ``pricing/providers.py`` if it is new there.
Reading the registry imports no provider module and no SDK.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Registration:
    """A provider module ``module`` of this package with instrumentor class ``instrumentor``, registered as entry
    point ``entry_point``; ``requires`` are the SDK version ranges it instruments (it is inert outside them)."""

    entry_point: str
    module: str
    instrumentor: str
    requires: tuple[str, ...]

    @property
    def target(self) -> str:
        """The entry point's value, ``module:Class``."""
        return f"otel_llm_cost.providers.{self.module}:{self.instrumentor}"

    @property
    def name(self) -> str:
        """The instrumentor's name: the entry point without ``llm_cost_``."""
        return self.entry_point.removeprefix("llm_cost_")

    def load(self) -> Any:
        """A new instrumentor object (importing the provider module, not its SDK)."""
        module = importlib.import_module(f"otel_llm_cost.providers.{self.module}")
        return getattr(module, self.instrumentor)()


REGISTRY: tuple[Registration, ...] = (
    Registration("llm_cost_openai", "openai", "OpenAIInstrumentor", ("openai >= 1.40.0, < 4",)),
    Registration("llm_cost_anthropic", "anthropic", "AnthropicInstrumentor", ("anthropic >= 2.0.0, < 3",)),
    Registration("llm_cost_groq", "groq", "GroqInstrumentor", ("groq >= 0.30.0, < 2",)),
    Registration("llm_cost_botocore", "bedrock", "BotocoreInstrumentor", ("botocore >= 1.34.116, < 2",)),
    Registration("llm_cost_google_genai", "google_genai", "GoogleGenAIInstrumentor", ("google-genai >= 1.32.0, < 4",)),
    Registration("llm_cost_ollama", "ollama", "OllamaInstrumentor", ("ollama >= 0.4.7, < 1",)),
    Registration("llm_cost_cohere", "cohere", "CohereInstrumentor", ("cohere >= 5.9.4, < 8",)),
    Registration("llm_cost_litellm", "litellm", "LiteLLMInstrumentor", ("litellm >= 1.110.0, < 2",)),
    Registration("llm_cost_mistralai", "mistral", "MistralInstrumentor", ("mistralai >= 1.9.3, < 4",)),
)

# entry-point name -> "module:Class" (what pyproject.toml registers)
INSTRUMENTORS: dict[str, str] = {r.entry_point: r.target for r in REGISTRY}


def registration(name: str) -> Registration:
    """The registration of instrumentor ``name`` (``openai``) or entry point ``name`` (``llm_cost_openai``)."""
    for entry in REGISTRY:
        if name in (entry.name, entry.entry_point):
            return entry
    raise KeyError(name)
