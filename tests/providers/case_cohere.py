"""The cohere SDK in the shared provider suite: ``ClientV2`` / ``AsyncClientV2`` chat and the v1 ``Client`` /
``AsyncClient`` chat, each plain and streamed (``chat_stream``), priced from the billed units while the span shows
the raw token counts. OpenLLMetry's cohere instrumentation is the peer (no official genai-cohere exists)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cohere
import fake_cohere as fake
from cases import ProviderCase

from conversation import MESSAGES

_QUESTION = MESSAGES[-1]["content"]


def _peers() -> tuple[Callable[[], Any], ...]:
    try:  # not in the compat venv of the oldest cohere release
        from opentelemetry.instrumentation.cohere import CohereInstrumentor
    except ImportError:
        return ()

    class OpenLLMetryOnAnyCohere(CohereInstrumentor):  # type: ignore[misc]
        """OpenLLMetry 0.62 declares ``cohere < 6`` and stays inert on 7, though its wrappers work there: forced
        (as an app may, with ``skip_dep_check``), so that coexistence is tested with its spans on the newest SDK."""

        def instrumentation_dependencies(self) -> tuple[str, ...]:
            return ()

    return (OpenLLMetryOnAnyCohere,)


def _stream_of(client: Any, make: Callable[[], Any]) -> Any:
    """``chat_stream`` is a generator function: an async client's returns an async generator, not a coroutine;
    the shared suite awaits the async create, so it gets a coroutine answering the stream."""
    if isinstance(client, (cohere.AsyncClientV2, cohere.AsyncClient)):
        async def answer() -> Any:
            return make()

        return answer()
    return make()


def _v2_create(client: Any, stream: bool) -> Any:
    if stream:
        return _stream_of(client, lambda: client.chat_stream(model=fake.CHAT_MODEL, messages=MESSAGES))
    return client.chat(model=fake.CHAT_MODEL, messages=MESSAGES)


def _v1_create(client: Any, stream: bool) -> Any:
    if stream:
        return _stream_of(client, lambda: client.chat_stream(model=fake.V1_MODEL, message=_QUESTION))
    return client.chat(model=fake.V1_MODEL, message=_QUESTION)


def _view(item: Any) -> Any:
    return item.dict(), item.dict(exclude_unset=True)


_COMMON: dict[str, Any] = dict(
    entry_point="llm_cost_cohere", provider="cohere", fake=fake.FakeCohere,
    input_tokens=fake.TOKENS_IN, output_tokens=fake.OUTPUT, cost=fake.CHAT_COST,
    error=fake.rate_limited(), error_class=cohere.TooManyRequestsError, view=_view, peers=_peers())

CASES = (
    ProviderCase(name="cohere", client=lambda f: f.client(), async_client=lambda f: f.async_client(),
                 create=_v2_create, answered=lambda result: bool(result.id), **_COMMON),
    ProviderCase(name="cohere_v1", client=lambda f: f.v1_client(), async_client=lambda f: f.v1_async_client(),
                 create=_v1_create, answered=lambda result: bool(result.generation_id), **_COMMON),
)
