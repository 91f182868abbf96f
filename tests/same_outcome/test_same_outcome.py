"""For every instrumented provider: the application sees exactly what it sees without us, whatever the API
answers and however the application reads it (issue 11). The interface a provider implements to be included
is in provider_case.py; the checks are in harness.py.

``OTEL_LLM_COST_FUZZ_CASES`` sets the scenarios per provider (default 1500 for CI: 3000 calls; e.g. 20000 nightly),
``OTEL_LLM_COST_FUZZ_SEED`` the base seed (default 11; a failure names the scenario's own seed).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from case_anthropic import AnthropicCase
from case_cohere import CohereCase
from case_genai import GenAICase
from case_groq import GroqCase
from case_mistralai import MistralCase
from case_ollama import OllamaCase
from case_openai import OpenAICase
from harness import Runner, scenarios
from provider_case import ProviderCase

from telemetry_fixtures import Otel

CASES: dict[str, Callable[[], ProviderCase]] = {
    "openai": lambda: OpenAICase(styles=("openai", "last_chunk_when_asked", "empty_chunk_when_asked")),
    "openai-compatible": lambda: OpenAICase("https://openrouter.ai/api/v1"),
    "anthropic": AnthropicCase,
    "groq": GroqCase,
    "ollama": OllamaCase,
    "gemini": GenAICase,
    "vertex_ai": lambda: GenAICase(vertex=True),
    "cohere": CohereCase,
    "mistral": MistralCase,
}
# openai-compatible, vertex_ai: the same SDK surfaces again, fewer scenarios suffice
SHARE = {"openai-compatible": 0.25, "vertex_ai": 0.25}


def _count(name: str) -> int:
    return max(1, int(int(os.environ.get("OTEL_LLM_COST_FUZZ_CASES", "1500")) * SHARE.get(name, 1.0)))


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::RuntimeWarning",
                                        "ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.mark.parametrize("name", list(CASES))
def test_the_app_sees_the_same_with_and_without_us(otel: Otel, name: str) -> None:
    case = CASES[name]()
    runner = Runner(case, otel)
    try:
        ran = runner.check_all(scenarios(case, _count(name), int(os.environ.get("OTEL_LLM_COST_FUZZ_SEED", "11"))))
    finally:
        runner.close()
    assert ran == _count(name)
    assert runner.books.spans == ran
