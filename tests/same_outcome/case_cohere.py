"""The cohere SDK as a ``ProviderCase``: v2 chat plain and streamed (SSE, usage on ``message-end``), embed and rerank,
and v1 chat, embed and rerank, sync and async (the simulated API is tests/providers/fake_cohere.py). v1 streams are
NDJSON, a framing this harness does not encode: they are covered by tests/providers."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import cohere
import httpx
from fake_cohere import CHAT_MODEL, EMBED_MODEL, RERANK_MODEL, V1_MODEL, FakeCohere
from provider_case import Event, ProviderCase, Surface, Wire, decode_answer

MESSAGES = [{"role": "user", "content": "Capital of France?"}]
DOCUMENTS = ["Paris is the capital of France.", "Berlin is the capital of Germany."]
# The SDK retries a 429/5xx twice after 1 s and 2 s: the same with and without us, and seconds per error scenario
NO_RETRY: Any = {"max_retries": 0}


def _surfaces() -> tuple[Surface, ...]:
    out: list[Surface] = []
    no_retry = {"request_options": NO_RETRY}
    for is_async in (False, True):
        tag = "async " if is_async else ""
        out += [
            Surface(f"{tag}v2 chat", is_async, "plain",
                    lambda c: c.v2.chat(model=CHAT_MODEL, messages=MESSAGES, **no_retry)),
            Surface(f"{tag}v2 chat_stream", is_async, "generator",
                    lambda c: c.v2.chat_stream(model=CHAT_MODEL, messages=MESSAGES, **no_retry)),
            Surface(f"{tag}v2 embed", is_async, "plain",
                    lambda c: c.v2.embed(model=EMBED_MODEL, texts=["Paris"], input_type="search_document",
                                         embedding_types=["float"], **no_retry)),
            Surface(f"{tag}v2 rerank", is_async, "plain",
                    lambda c: c.v2.rerank(model=RERANK_MODEL, query="capital of France", documents=DOCUMENTS,
                                          **no_retry)),
            Surface(f"{tag}v1 chat", is_async, "plain",
                    lambda c: c.v1.chat(model=V1_MODEL, message="Capital?", **no_retry)),
            Surface(f"{tag}v1 embed", is_async, "plain",
                    lambda c: c.v1.embed(model=EMBED_MODEL, texts=["Paris"], input_type="search_document",
                                         **no_retry)),
            Surface(f"{tag}v1 rerank", is_async, "plain",
                    lambda c: c.v1.rerank(model=RERANK_MODEL, query="capital of France", documents=DOCUMENTS,
                                          **no_retry)),
        ]
    return tuple(out)


class CohereCase(ProviderCase):
    name = "cohere"
    http = httpx
    surfaces = _surfaces()
    early_end: Event = ("message-end", {"type": "message-end", "delta": {"finish_reason": "COMPLETE"}})

    def __init__(self) -> None:
        self.fake = FakeCohere()

    def client(self, handler: Any, is_async: bool) -> Any:
        """Both API versions' clients on one mock transport (``c.v2``, ``c.v1``)."""
        if is_async:
            async def handle(request: Any) -> Any:
                return handler(request)

            def make_async(cls: Any) -> Any:
                return cls(api_key="co-test", httpx_client=httpx.AsyncClient(transport=httpx.MockTransport(handle)))

            return SimpleNamespace(v2=make_async(cohere.AsyncClientV2), v1=make_async(cohere.AsyncClient))

        def make(cls: Any) -> Any:
            return cls(api_key="co-test", httpx_client=httpx.Client(transport=httpx.MockTransport(handler)))

        return SimpleNamespace(v2=make(cohere.ClientV2), v1=make(cohere.Client))

    def answer(self, body: dict[str, Any], url: Any) -> Wire:
        self.fake.requests.clear()
        return decode_answer(self.fake.handle(httpx.Request("POST", url, content=json.dumps(body).encode())))

    def error_body(self, status: int) -> Any:
        return {"message": f"status {status}"}
