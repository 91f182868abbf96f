"""The LiteLLM case of the shared provider suite: ``litellm.completion`` / ``acompletion`` reaching OpenAI through
the real openai SDK (2.x: LiteLLM pins it) on the simulated OpenAI API, so the openai instrumentor is active
underneath and the nested-call rule is exercised by every behaviour test (one record, made by the LiteLLM layer).

LiteLLM pins ``openai < 3``: this module loads only in the venv of ``scripts/test-compat-litellm.sh``; elsewhere it
is listed in ``cases.UNAVAILABLE`` and exempted by ``test_registry`` (``OWN_VENV``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no download of LiteLLM's price map in tests

import fake_openai
import litellm
from cases import ProviderCase

from conversation import MESSAGES

MODEL = "gpt-4o-mini"


@dataclass
class Client:
    """What a LiteLLM call is given to reach the simulated API: the openai client LiteLLM sends through."""

    openai_client: Any
    is_async: bool


def create(client: Client, stream: bool) -> Any:
    call = litellm.acompletion if client.is_async else litellm.completion
    return call(model=MODEL, messages=MESSAGES, stream=stream, client=client.openai_client)


def view(item: Any) -> Any:
    """What the app sees of a result or chunk, but the fields LiteLLM fills with the clock or fresh ids."""
    volatile = ("created", "id")
    return ({k: v for k, v in item.model_dump().items() if k not in volatile},
            {k: v for k, v in item.model_dump(exclude_unset=True).items() if k not in volatile})


class LiteLLMOtelCallback:
    """LiteLLM's own OpenTelemetry callback (``litellm.callbacks = ["otel"]``) as a peer: it writes its spans
    after the call (from its success/failure logging), on the tracer provider it is given."""

    def instrument(self, tracer_provider: Any = None, meter_provider: Any = None, **kwargs: Any) -> None:
        from litellm.integrations.opentelemetry import OpenTelemetry

        self.callback = OpenTelemetry(tracer_provider=tracer_provider)
        litellm.callbacks = [self.callback]

    def uninstrument(self, **kwargs: Any) -> None:
        litellm.callbacks = []


def _peers() -> tuple[Any, ...]:
    """LiteLLM's own callback, and OpenLLMetry's and OpenInference's LiteLLM instrumentations where installed."""
    found: list[Any] = [LiteLLMOtelCallback]
    try:
        from opentelemetry.instrumentation.litellm import LiteLLMInstrumentor as OpenLLMetry

        found.append(OpenLLMetry)
    except ImportError:
        pass
    try:
        from openinference.instrumentation.litellm import LiteLLMInstrumentor as OpenInference

        found.append(OpenInference)
    except ImportError:
        pass
    return tuple(found)


CASES = (
    ProviderCase(
        name="litellm", entry_point="llm_cost_litellm", provider="openai", fake=fake_openai.FakeOpenAI,
        client=lambda f: Client(f.client(), False), async_client=lambda f: Client(f.async_client(), True),
        create=create, input_tokens=fake_openai.PROMPT, output_tokens=fake_openai.COMPLETION,
        cost=fake_openai.GPT_4O_MINI_COST,
        error=(429, {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}),
        error_class=litellm.RateLimitError, peers=_peers(), view=view),
)
