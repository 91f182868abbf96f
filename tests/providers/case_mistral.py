"""The mistralai SDK in the shared provider suite: ``chat.complete`` / ``chat.stream`` (their ``*_async`` twins on
the same class) against the simulated Mistral API. A stream is its own method here, not a keyword; its usage
arrives on the final chunk only, so a stream left after its first item has seen none (unpriced, never $0).

OpenLLMetry's ``opentelemetry-instrumentation-mistralai`` (0.62) is the peer where it can load: it imports
``mistralai.models``, the 1.x layout (``mistralai.client.models`` from mistralai 2), so it is a peer in the compat
venv of mistralai 1.x (scripts/test-compat-oldest.sh) and fails to import beside mistralai 2+."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fake_mistral
from cases import ProviderCase
from fake_mistral import errors

from conversation import MESSAGES


def openllmetry_peer() -> tuple[Callable[[], Any], ...]:
    """OpenLLMetry's mistralai instrumentation, when it imports beside this SDK release."""
    try:
        from opentelemetry.instrumentation.mistralai import MistralAiInstrumentor
    except ImportError:
        return ()
    return (MistralAiInstrumentor,)


def _create(client: Any, stream: bool) -> Any:
    chat = client.chat
    if getattr(client, "_fake_async", False):
        return (chat.stream_async if stream else chat.complete_async)(model=fake_mistral.LARGE, messages=MESSAGES)
    return (chat.stream if stream else chat.complete)(model=fake_mistral.LARGE, messages=MESSAGES)


CASES = (
    ProviderCase(
        name="mistral", entry_point="llm_cost_mistralai", provider="mistral_ai", fake=fake_mistral.FakeMistral,
        client=lambda f: f.client(), async_client=lambda f: f.async_client(), create=_create,
        input_tokens=fake_mistral.PROMPT, output_tokens=fake_mistral.COMPLETION, cost=fake_mistral.LARGE_COST,
        error=fake_mistral.rate_limited(), error_class=errors.SDKError, peers=openllmetry_peer(),
        # a stream item is a CompletionEvent holding the chunk
        view=lambda item: (item.model_dump(), item.model_dump(exclude_unset=True))),
)
