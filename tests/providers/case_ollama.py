"""The ollama case of the shared provider suite: a local Ollama server, so each call costs the self-hosted default
(an explicit $0, source ``local``); per-second prices from a price file are tested in ``test_ollama.py``."""

from __future__ import annotations

from typing import Any

import fake_ollama
import ollama
from cases import ProviderCase

from conversation import MESSAGES


def _create(client: Any, stream: bool) -> Any:
    return client.chat(model=fake_ollama.MODEL, messages=MESSAGES, stream=stream)


def _peers() -> tuple[Any, ...]:
    """OpenLLMetry's Ollama instrumentation, where it is installed (not in the oldest-release compat venv)."""
    try:
        from opentelemetry.instrumentation.ollama import OllamaInstrumentor as OpenLLMetry
    except ImportError:
        return ()
    return (OpenLLMetry,)


CASES = (
    ProviderCase(
        name="ollama", entry_point="llm_cost_ollama", provider="ollama", fake=fake_ollama.FakeOllama,
        client=lambda f: f.client(), async_client=lambda f: f.async_client(), create=_create,
        input_tokens=fake_ollama.PROMPT, output_tokens=fake_ollama.COMPLETION,
        cost=0.0,  # self-hosted, no price declared: the explicit self-hosted default
        error=fake_ollama.not_found(), error_class=ollama.ResponseError, peers=_peers(),
        answered=lambda result: bool(result.message.content)),
)
